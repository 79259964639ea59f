"""Tiny problems and error measures shared by the PINN tests (the catalogue is not used here).

Imported as ``from pinn_helpers import ...``: a module name unique across ``tests/``, unlike ``conftest``.
"""

from __future__ import annotations

import numpy as np
from helpers import POISSON1D

from pdesolve.problem import Dirichlet, Interval, Problem, Rectangle, d, laplacian, pi, sin

POISSON1D_SOURCE = POISSON1D  # the root helpers' file source


def poisson1d(residual=None) -> Problem:
    """-u'' = π² sin(πx) on [0, 1], u(0) = u(1) = 0; exact sin(πx)."""
    return Problem(
        name="poisson1d",
        domain=Interval(0.0, 1.0),
        residual=residual or (lambda u, x, p: -d(u, "x", 2) - pi**2 * sin(pi * x.x)),
        boundary=Dirichlet(0.0),
        exact=lambda x, p: sin(pi * x.x),
    )


def poisson2d() -> Problem:
    """-Δu = 2π² sin(πx) sin(πy) on [0, 1]², u = 0 on the boundary; exact sin(πx) sin(πy)."""
    return Problem(
        name="poisson2d",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        residual=lambda u, x, p: -laplacian(u) - 2 * pi**2 * sin(pi * x.x) * sin(pi * x.y),
        boundary=Dirichlet(0.0),
        exact=lambda x, p: sin(pi * x.x) * sin(pi * x.y),
    )


def relative_l2(solution, problem: Problem) -> float:
    points, reference = problem.reference_set()
    return float(np.linalg.norm(solution(points) - reference) / np.linalg.norm(reference))
