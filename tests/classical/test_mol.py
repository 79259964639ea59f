"""Method of lines: Raissi's Burgers data, second-order convergence, time-dependent Dirichlet data."""

import numpy as np
import pytest

from pdesolve.classical.assembly import box_grid
from pdesolve.classical.mol import InteriorRHS, MethodOfLines
from pdesolve.classical.stencil_sparsity import jacobian_sparsity
from pdesolve.errors import DivergenceError, NotApplicableError
from pdesolve.problem import (
    Dirichlet,
    Disk,
    Interval,
    Periodic,
    Problem,
    Rectangle,
    ReferenceData,
    d,
    exp,
    laplacian,
    pi,
    sin,
)


def burgers_points(data):
    x, t = np.meshgrid(data["x"].ravel(), data["t"].ravel(), indexing="ij")
    return np.column_stack([x.ravel(), t.ravel()]), data["usol"].ravel()


BURGERS = Problem(
    "burgers1d",
    Interval(-1.0, 1.0),
    rhs=lambda u, x, p: -u * d(u, "x") + p.nu * d(u, "x", 2),
    time=(0.0, 0.99),
    initial=lambda x, p: -sin(pi * x.x),
    boundary=Dirichlet(0.0),
    params={"nu": 0.01 / pi},
    reference=ReferenceData("burgers_raissi.npz", burgers_points),
)


def test_burgers_matches_raissi_data():
    points, values = BURGERS.reference_set()
    solution = MethodOfLines(n=2049).solve(BURGERS)
    error = np.linalg.norm(solution(points) - values) / np.linalg.norm(values)
    assert error <= 1e-3
    assert np.allclose(solution.times, np.unique(points[:, 1]))  # output at the data's times


def heat_with_moving_boundary() -> Problem:
    """u_t = u_xx + x on [0, 1], u(0) = 0, u(1) = t: u = e^{-π² t} sin πx + x t."""
    return Problem(
        "heat_moving_boundary",
        Interval(0.0, 1.0),
        rhs=lambda u, x, p: d(u, "x", 2) + x.x,
        time=(0.0, 0.2),
        initial=lambda x, p: sin(pi * x.x),
        boundary=Dirichlet(lambda x, p: x.x * x.t),
        exact=lambda x, p: exp(-(pi**2) * x.t) * sin(pi * x.x) + x.x * x.t,
    )


def final_error(problem, n, exact, **options) -> float:
    solution = MethodOfLines(n=n, outputs=2, **options).solve(problem)
    coords = solution.grid.coordinates()
    return np.abs(solution.values[-1] - exact(*coords, problem.time[1])).max()


@pytest.mark.parametrize("method", ["BDF", "Radau"])
def test_time_dependent_dirichlet_converges_at_second_order(method):
    problem = heat_with_moving_boundary()

    def exact(x, t):
        return np.exp(-(np.pi**2) * t) * np.sin(np.pi * x) + x * t

    errors = [final_error(problem, n, exact, method=method) for n in (21, 41)]
    assert errors[1] < 1e-3
    assert 3.6 < errors[0] / errors[1] < 4.4


def test_heat2d_dirichlet_second_order():
    """u_t = Δu on the unit square, u = 0 on the boundary: u = e^{-2π² t} sin πx sin πy."""
    problem = Problem(
        "heat2d_dirichlet",
        Rectangle((0.0, 0.0), (1.0, 1.0)),
        rhs=lambda u, x, p: laplacian(u),
        time=(0.0, 0.05),
        initial=lambda x, p: sin(pi * x.x) * sin(pi * x.y),
        boundary=Dirichlet(0.0),
    )

    def exact(x, y, t):
        return np.exp(-2 * np.pi**2 * t) * np.sin(np.pi * x) * np.sin(np.pi * y)

    errors = [final_error(problem, n, exact) for n in (11, 21)]
    assert 3.5 < errors[0] / errors[1] < 4.5


def test_sparsity_is_the_stencil():
    """Burgers (central u_x, u_xx) couples interior neighbours only; a periodic Laplacian wraps around."""
    grid = box_grid(BURGERS, 12)
    rhs = InteriorRHS(BURGERS, grid)
    pattern = jacobian_sparsity(lambda u: rhs.on_grid(u, 0.0), grid, rhs.unknown).toarray() != 0
    inside = 10
    tridiagonal = np.abs(np.subtract.outer(np.arange(inside), np.arange(inside))) <= 1
    assert np.array_equal(pattern, tridiagonal)

    periodic = Problem(
        "heat_periodic",
        Rectangle((0.0, 0.0), (1.0, 1.0)),
        rhs=lambda u, x, p: laplacian(u),
        time=(0.0, 1.0),
        initial=lambda x, p: sin(2 * pi * x.x),
        boundary=Periodic(),
    )
    grid = box_grid(periodic, 10)
    rhs = InteriorRHS(periodic, grid)
    pattern = jacobian_sparsity(lambda u: rhs.on_grid(u, 0.0), grid, rhs.unknown).tocsr()
    assert np.all(np.diff(pattern.indptr) == 5)  # the 5-point stencil, seams included
    assert pattern[0, 9] and pattern[0, 90]


def test_blow_up_raises_divergence_error():
    problem = Problem(
        "blow_up",
        Interval(0.0, 1.0),
        rhs=lambda u, x, p: 0.01 * d(u, "x", 2) + u**2,
        time=(0.0, 2.0),
        initial=lambda x, p: 2 + sin(pi * x.x),
        boundary=Dirichlet(2.0),
    )
    with pytest.raises(DivergenceError, match="t ="):
        MethodOfLines(n=21).solve(problem)


def test_not_applicable_reasons_and_variants():
    disk = Problem(
        "heat_disk",
        Disk((0.0, 0.0), 1.0),
        rhs=lambda u, x, p: laplacian(u),
        time=(0.0, 1.0),
        initial=lambda x, p: 1 - x.x**2 - x.y**2,
        boundary=Dirichlet(0.0),
    )
    periodic_in_x_only = Problem(
        "heat_strip",
        Rectangle((0.0, 0.0), (1.0, 1.0)),
        rhs=lambda u, x, p: laplacian(u),
        time=(0.0, 1.0),
        initial=lambda x, p: sin(2 * pi * x.x),
        boundary=Periodic(axes=("x",)),
    )
    assert "box" in MethodOfLines.not_applicable(disk)
    assert "Neumann or Robin" in MethodOfLines.not_applicable(periodic_in_x_only)
    assert MethodOfLines.not_applicable(BURGERS) is None
    with pytest.raises(NotApplicableError):
        MethodOfLines().solve(disk)
    variants = MethodOfLines.compare_variants(BURGERS)
    assert len(variants) == 2 and variants[0]["n"] < variants[1]["n"]
