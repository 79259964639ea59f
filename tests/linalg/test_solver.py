"""The registered ``cg`` solver on problems defined here: accuracy, stats, and refusals."""

from __future__ import annotations

import numpy as np
import pytest

from pdesolve.classical.cg_solver import CGSolver
from pdesolve.errors import NotApplicableError
from pdesolve.problem import Dirichlet, Polygon, Problem, Rectangle, laplacian, pi, sin
from pdesolve.solvers.base import Settings


def _poisson(k: float = 0.0) -> Problem:
    """``-Δu - k²u = f`` on the unit square with exact ``u = sin(πx) sin(2πy)``."""
    return Problem(
        name="poisson_test",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        residual=lambda u, x, p: -laplacian(u) - k**2 * u - (5 * pi**2 - k**2) * sin(pi * x.x) * sin(2 * pi * x.y),
        boundary=Dirichlet(0.0),
        exact=lambda x, p: sin(pi * x.x) * sin(2 * pi * x.y),
    )


@pytest.mark.parametrize(
    "options",
    [
        {"precond": "mg"},
        {"precond": "mg", "matrix_free": True, "smoother": "jacobi"},
        {"precond": "amg", "flexible": True},
        {"precond": "jacobi", "matrix_free": True},
    ],
)
def test_cg_solver_is_second_order_accurate(options: dict) -> None:
    problem = _poisson()
    errors = []
    for n in (17, 33):
        solution = CGSolver(Settings(), n=n, tol=1e-10, **options).solve(problem)
        points = problem.test_points()
        exact = problem.reference_values(points)
        errors.append(np.abs(solution(points) - exact).max())
        stats = solution.stats
        assert stats["converged"] and stats["residual"] <= 1e-10
        assert len(stats["residual_history"]) == stats["iterations"] + 1
        history = stats["residual_history"]  # relative true residuals, from the zero start
        assert history[0] == pytest.approx(1.0) and history[-1] <= 1e-10 < min(history[:-1])
    # linear interpolation between nodes caps the measured order near 2
    assert np.log2(errors[0] / errors[1]) > 1.8, errors


def test_cg_solver_on_an_l_shape_with_multigrid() -> None:
    problem = Problem(
        name="lshape_test",
        domain=Polygon([(0, 0), (1, 0), (1, -1), (-1, -1), (-1, 1), (0, 1)]),
        residual=lambda u, x, p: -laplacian(u) - 1.0,
        boundary=Dirichlet(0.0),
    )
    stats = CGSolver(Settings(), n=65, precond="mg").solve(problem).stats
    assert stats["converged"] and stats["iterations"] <= 12 and len(stats["level_sizes"]) >= 3


def test_not_applicable_reasons() -> None:
    assert CGSolver.not_applicable(_poisson(k=1.0)) is None
    assert "positive definite" in CGSolver.not_applicable(_poisson(k=20.0))
    with pytest.raises(NotApplicableError, match="positive definite"):
        CGSolver(Settings(), n=17).solve(_poisson(k=20.0))
