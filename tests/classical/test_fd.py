"""Finite differences: second-order convergence in 2D/3D, variable coefficients, CG paths, applicability."""

import numpy as np
import pytest
from helpers import observed_order

from pdesolve.classical.fd import FiniteDifference
from pdesolve.errors import NotApplicableError, PdesolveError
from pdesolve.problem import (
    Box,
    Dirichlet,
    Disk,
    Neumann,
    Periodic,
    Polygon,
    Problem,
    Rectangle,
    d,
    exp,
    laplacian,
    pi,
    sin,
)
from pdesolve.solvers import SOLVERS, GridSolution


def max_error(solution: GridSolution) -> float:
    points = solution.grid.points()
    return float(np.max(np.abs(solution.values.ravel() - solution.problem.reference_values(points))))


def manufactured_2d() -> Problem:
    """-Δu = f on [0, 1] × [0, 2], u = e^x sin(πy/2) + xy with non-zero Dirichlet data."""

    def exact(x, p):
        return exp(x.x) * sin(pi * x.y / 2) + x.x * x.y

    return Problem(
        "manufactured2d",
        Rectangle((0.0, 0.0), (1.0, 2.0)),
        residual=lambda u, x, p: -laplacian(u) - (pi**2 / 4 - 1) * exp(x.x) * sin(pi * x.y / 2),
        boundary=Dirichlet(exact),
        exact=exact,
    )


def test_registered():
    assert SOLVERS["fd"] is FiniteDifference and FiniteDifference.family == "classical"


def test_laplacian_2d_order_two():
    problem = manufactured_2d()
    sizes, errors = [], []
    for n in (9, 17, 33, 65):
        solution = FiniteDifference(n=n).solve(problem)
        sizes.append(1.0 / (n - 1))
        errors.append(max_error(solution))
        assert solution.stats["residual"] < 1e-12 and solution.stats["unknowns"] == (n - 2) ** 2
    assert 1.95 < observed_order(sizes, errors) < 2.05
    assert errors[-1] < 1.5e-4


def test_variable_coefficient_order_two(variable_coefficient):
    problem = variable_coefficient
    sizes = [1 / 16, 1 / 32, 1 / 64]
    errors = [max_error(FiniteDifference(n=round(1 / h) + 1).solve(problem)) for h in sizes]
    assert 1.95 < observed_order(sizes, errors) < 2.05


def test_poisson_3d_order_two_with_cg():
    def exact(x, p):
        return sin(pi * x.x) * sin(pi * x.y) * x.z * (1 - x.z)

    problem = Problem(
        "poisson3d_small",
        Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
        residual=lambda u, x, p: laplacian(u) + sin(pi * x.x) * sin(pi * x.y) * (2 * pi**2 * x.z * (1 - x.z) + 2),
        boundary=Dirichlet(0.0),
        exact=exact,
    )
    sizes, errors = [], []
    for n in (9, 13, 17):
        solution = FiniteDifference(n=n, precond="ic0", tol=1e-12).solve(problem)  # 3D default: cg
        assert solution.stats["linsolve"] == "cg" and solution.stats["residual"] < 1e-11
        sizes.append(1 / (n - 1))
        errors.append(max_error(solution))
    assert 1.9 < observed_order(sizes, errors) < 2.1


@pytest.mark.parametrize("precond", ["jacobi", "ic0", "amg"])
def test_cg_agrees_with_direct(precond, variable_coefficient):
    problem = variable_coefficient
    direct = FiniteDifference(n=33, linsolve="direct").solve(problem)
    iterative = FiniteDifference(n=33, linsolve="cg", precond=precond, tol=1e-12).solve(problem)
    assert np.max(np.abs(iterative.values - direct.values)) < 1e-10
    assert iterative.stats["iterations"] > 0 and iterative.stats["residual"] < 1e-12


def test_indefinite_helmholtz_needs_direct():
    problem = Problem(
        "helmholtz",
        Rectangle((0.0, 0.0), (1.0, 1.0)),
        residual=lambda u, x, p: -laplacian(u) - 60.0 * u - 1.0,  # 60 > 2π²: indefinite
        boundary=Dirichlet(0.0),
    )
    with pytest.raises(NotApplicableError, match="linsolve=direct"):
        FiniteDifference(n=33, linsolve="cg", precond="jacobi").solve(problem)
    assert FiniteDifference(n=33).solve(problem).stats["residual"] < 1e-12


def test_not_applicable_reasons():
    square = Rectangle((0.0, 0.0), (1.0, 1.0))
    nonlinear = Problem("nl", square, residual=lambda u, x, p: -laplacian(u) + u**3 - 1, boundary=Dirichlet(0.0))
    assert "not linear" in FiniteDifference.not_applicable(nonlinear)
    neumann = Problem("nm", square, residual=lambda u, x, p: -laplacian(u) + u, boundary=Neumann(0.0))
    assert "fem" in FiniteDifference.not_applicable(neumann)
    disk = Problem("dk", Disk((0.0, 0.0), 1.0), residual=lambda u, x, p: -laplacian(u) - 1, boundary=Dirichlet(0.0))
    assert "fem" in FiniteDifference.not_applicable(disk)
    heat = Problem("heat", square, rhs=lambda u, x, p: laplacian(u), time=(0.0, 1.0), initial=lambda x, p: 0 * x.x)
    assert "stationary" in FiniteDifference.not_applicable(heat)
    advection = Problem("adv", square, residual=lambda u, x, p: -laplacian(u) + d(u, "x") - 1, boundary=Dirichlet(0.0))
    assert FiniteDifference.not_applicable(advection) is None  # linear, non-symmetric: direct solves it
    with pytest.raises(NotApplicableError, match="symmetric"):
        FiniteDifference(n=17, linsolve="cg").solve(advection)


def test_polygon_corners_must_be_grid_nodes(lshape):
    assert FiniteDifference.not_applicable(lshape) is None
    assert FiniteDifference.compare_variants(lshape) == [{"n": 33}, {"n": 65}]
    solution = FiniteDifference().solve(lshape)
    assert solution.stats["n"] == 33 and solution.stats["unknowns"] == 3 * 15**2 + 2 * 15
    assert solution(np.array([[0.5, 0.5]]))[0] == 0.0  # the cut-out quadrant holds the boundary value
    with pytest.raises(NotApplicableError, match="corners"):
        FiniteDifference(n=32).solve(lshape)
    slanted = Problem(
        "triangle",
        Polygon([(0, 0), (1, 0), (0, 1)]),
        residual=lambda u, x, p: -laplacian(u) - 1,
        boundary=Dirichlet(0.0),
    )
    assert "slanted" in FiniteDifference.not_applicable(slanted)


def test_singular_periodic_poisson_is_refused():
    problem = Problem(
        "periodic",
        Rectangle((0.0, 0.0), (1.0, 1.0)),
        residual=lambda u, x, p: -laplacian(u) - sin(2 * pi * x.x),
        boundary=Periodic(),
    )
    with pytest.raises(PdesolveError, match="singular"):
        FiniteDifference(n=32).solve(problem)
