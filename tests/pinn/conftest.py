"""Tiny problems for the PINN tests (the catalogue is not used here)."""

from __future__ import annotations

import numpy as np
import pytest

from pdesolve.problem import Dirichlet, Interval, Problem, d, pi, sin
from pdesolve.solvers.base import Settings

POISSON1D_SOURCE = """
from pdesolve.problem import Dirichlet, Interval, Problem, d, pi, sin

problem = Problem(
    name="poisson1d",
    domain=Interval(0.0, 1.0),
    residual=lambda u, x, p: -d(u, "x", 2) - pi**2 * sin(pi * x.x),
    boundary=Dirichlet(0.0),
    exact=lambda x, p: sin(pi * x.x),
)
"""


def poisson1d(residual=None) -> Problem:
    """-u'' = π² sin(πx) on [0, 1], u(0) = u(1) = 0; exact sin(πx)."""
    return Problem(
        name="poisson1d",
        domain=Interval(0.0, 1.0),
        residual=residual or (lambda u, x, p: -d(u, "x", 2) - pi**2 * sin(pi * x.x)),
        boundary=Dirichlet(0.0),
        exact=lambda x, p: sin(pi * x.x),
    )


def relative_l2(solution, problem: Problem) -> float:
    points, reference = problem.reference_set()
    return float(np.linalg.norm(solution(points) - reference) / np.linalg.norm(reference))


@pytest.fixture
def settings64() -> Settings:
    return Settings(device="cpu", dtype="float64", seed=0)


@pytest.fixture
def problem1d() -> Problem:
    return poisson1d()
