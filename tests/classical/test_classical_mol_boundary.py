"""Method of lines with Neumann and Robin conditions: exact rows for quadratics, second order against exact
heat solutions with time-dependent boundary values, and the diffusion–sorption benchmark's self-convergence."""

import numpy as np
import pytest

import pdesolve.classical.fd  # noqa: F401  (registers fd for the classical alias)
import pdesolve.classical.fem  # noqa: F401
import pdesolve.classical.spectral  # noqa: F401
from pdesolve.classical.assembly import box_grid
from pdesolve.classical.boundary_closure import BoundaryClosure
from pdesolve.classical.mol import MethodOfLines
from pdesolve.errors import ProblemError
from pdesolve.problem import Dirichlet, Interval, Neumann, Problem, Rectangle, Robin, cos, d, exp, laplacian, sin
from pdesolve.problem.loading import load_problem
from pdesolve.solvers.classical_alias import ClassicalAlias


def heat1d() -> Problem:
    """u_t = u_xx on [0, 1]: u = e^{-t} sin(x + 1); -u_x(0) given, u + u_x/2 at x = 1 given (both vary in t)."""
    return Problem(
        "heat_neumann_robin",
        Interval(0.0, 1.0),
        rhs=lambda u, x, p: d(u, "x", 2),
        time=(0.0, 1.0),
        initial=lambda x, p: sin(x.x + 1),
        boundary=[
            Neumann(lambda x, p: -exp(-x.t) * cos(x.x + 1), on=lambda x: x.x < 0.5),
            Robin(alpha=1.0, beta=0.5, value=lambda x, p: exp(-x.t) * (sin(x.x + 1) + 0.5 * cos(x.x + 1))),
        ],
    )


def heat2d() -> Problem:
    """u_t = Δu on the unit square: u = e^{-2t} sin(x + 1) cos(y + 1/2); Neumann, Dirichlet, Robin, Neumann sides."""

    def u(x):
        return exp(-2 * x.t) * sin(x.x + 1) * cos(x.y + 0.5)

    def u_x(x):
        return exp(-2 * x.t) * cos(x.x + 1) * cos(x.y + 0.5)

    def u_y(x):
        return -exp(-2 * x.t) * sin(x.x + 1) * sin(x.y + 0.5)

    return Problem(
        "heat2d_mixed",
        Rectangle((0.0, 0.0), (1.0, 1.0)),
        rhs=lambda u, x, p: laplacian(u),
        time=(0.0, 0.5),
        initial=lambda x, p: sin(x.x + 1) * cos(x.y + 0.5),
        boundary=[
            Neumann(lambda x, p: -u_x(x), on=lambda x: x.x < 1e-9),
            Dirichlet(lambda x, p: u(x), on=lambda x: x.x > 1 - 1e-9),
            Robin(alpha=2.0, beta=1.0, value=lambda x, p: 2 * u(x) - u_y(x), on=lambda x: x.y < 1e-9),
            Neumann(lambda x, p: u_y(x)),
        ],
    )


def final_error(problem: Problem, n: int, exact) -> float:
    solution = MethodOfLines(n=n, outputs=1, rtol=1e-10, atol=1e-12).solve(problem)
    return np.abs(solution.values[-1] - exact(*solution.grid.coordinates(), problem.time[1])).max()


def test_boundary_rows_are_exact_for_quadratics():
    """One-sided second-order differences differentiate quadratics exactly, so the closure restores them."""
    quadratic = lambda x, y: 1 + x - 2 * y + x**2 + 3 * x * y - y**2  # noqa: E731
    gradient = lambda x, y: (1 + 2 * x + 3 * y, -2 + 3 * x - 2 * y)  # noqa: E731
    problem = Problem(
        "quadratic",
        Rectangle((0.0, 0.0), (1.0, 2.0)),
        rhs=lambda u, x, p: laplacian(u),
        time=(0.0, 1.0),
        initial=lambda x, p: 0 * x.x,
        boundary=[
            Robin(
                alpha=3.0,
                beta=-0.5,
                value=lambda x, p: 3 * quadratic(x.x, x.y) + 0.5 * gradient(x.x, x.y)[0],
                on=lambda x: x.x < 1e-9,
            ),
            Neumann(lambda x, p: gradient(x.x, x.y)[1], on=lambda x: x.y > 2 - 1e-9),
            Dirichlet(lambda x, p: quadratic(x.x, x.y), on=lambda x: x.y < 1e-9),
            Neumann(lambda x, p: gradient(x.x, x.y)[0]),
        ],
    )
    grid = box_grid(problem, 9)
    exact = quadratic(*grid.coordinates())
    inside = np.where(grid.boundary_mask(), 0.0, exact)
    assert np.abs(BoundaryClosure(problem, grid).fill(inside, 0.0) - exact).max() < 1e-11


@pytest.mark.parametrize("method", ["BDF", "Radau"])
def test_neumann_and_robin_in_time_converge_at_second_order_1d(method):
    problem = heat1d()
    solve = lambda n: MethodOfLines(n=n, outputs=1, method=method, rtol=1e-10, atol=1e-12).solve(problem)  # noqa: E731
    errors = []
    for n in (21, 41):
        solution = solve(n)
        x = solution.grid.coordinates()[0]
        errors.append(np.abs(solution.values[-1] - np.exp(-1) * np.sin(x + 1)).max())
    assert errors[1] < 5e-4
    assert 3.6 < errors[0] / errors[1] < 4.4


def test_mixed_conditions_converge_at_second_order_2d():
    def exact(x, y, t):
        return np.exp(-2 * t) * np.sin(x + 1) * np.cos(y + 0.5)

    errors = [final_error(heat2d(), n, exact) for n in (11, 21)]
    assert errors[1] < 5e-4
    assert 3.6 < errors[0] / errors[1] < 4.4


def test_diffusion_sorption_self_converges_at_second_order():
    """PDEBench's diffusion–sorption (Robin at x = 1) through the classical alias, n against 2n - 1 nodes."""
    problem = load_problem("diffusion_sorption1d")
    assert ClassicalAlias.target(problem) is MethodOfLines
    values = [MethodOfLines(n=n, outputs=4).solve(problem).values[1:] for n in (65, 129, 257)]
    differences = [np.abs(coarse - fine[:, ::2]).max() for coarse, fine in zip(values[:-1], values[1:])]
    assert differences[1] < 1e-4
    assert 3.5 < differences[0] / differences[1] < 4.5
    assert np.all(values[-1][:, 0] == 1.0)  # the Dirichlet end is held


def test_a_robin_condition_without_coefficients_is_refused():
    problem = Problem(
        "no_coefficients",
        Interval(0.0, 1.0),
        rhs=lambda u, x, p: d(u, "x", 2),
        time=(0.0, 1.0),
        initial=lambda x, p: 0 * x.x,
        boundary=Robin(alpha=0.0, beta=0.0),
    )
    with pytest.raises(ProblemError, match="alpha or beta"):
        MethodOfLines(n=9).solve(problem)
