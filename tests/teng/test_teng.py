"""TENG on the 1D heat equation u_t = ν u_xx with exact solutions: accuracy, convergence orders, Dirichlet."""

import math

import numpy as np
import pytest

from pdesolve.errors import NotApplicableError
from pdesolve.problem import Dirichlet, Interval, Neumann, Periodic, Problem, d, exp, pi, sin
from pdesolve.solvers import Settings
from pdesolve.teng import TengSolver
from pdesolve.teng.solution import LinearInTime

SMALL = {
    "n_points": 64,
    "width": 12,
    "depth": 2,
    "param_subset": 0,
    "param_subset_later": 0,
    "init_adam_steps": 200,
    "init_lr": 1e-2,
    "init_iterations": 40,
    "init_lstsq": "svd",
    "iterations": 4,
    "corrector_iterations": 4,
}


def heat(nu: float, t1: float, boundary=Periodic(), length: float = 2 * pi, offset: float = 0.0) -> Problem:
    return Problem(
        "heat1d",
        Interval(0, length),
        rhs=lambda u, x, p: p.nu * d(u, "x", 2),
        time=(0.0, t1),
        initial=lambda x, p: offset + sin(x.x),
        exact=lambda x, p: offset + exp(-p.nu * x.t) * sin(x.x),
        boundary=boundary,
        params={"nu": nu},
    )


def final_error(solution, problem: Problem) -> float:
    x = np.linspace(0, problem.domain.upper[0], 101)[1:-1]
    points = np.column_stack([x, np.full_like(x, problem.time[1])])
    exact = problem.reference_values(points)
    return float(np.linalg.norm(solution(points) - exact) / np.linalg.norm(exact))


def run(problem: Problem, **options):
    return TengSolver(Settings(seed=0), **{**SMALL, **options}).solve(problem)


def test_heun_reaches_near_machine_precision_on_heat():
    problem = heat(nu=0.1, t1=0.05)
    solution = run(problem, scheme="heun", dt=0.01)
    assert solution.stats["init_residual"] < 1e-9
    assert solution.stats["steps"] == 5 and solution.stats["max_step_residual"] < 1e-9
    assert final_error(solution, problem) < 1e-7
    # between steps: cubic Hermite in time with u_t = F(u) keeps the accuracy (linear would be ≈ 1e-7 off)
    mid = np.array([[1.0, 0.025]])
    assert abs(solution(mid)[0] - math.exp(-0.1 * 0.025) * math.sin(1.0)) < 1e-9
    solution.interpolation = LinearInTime()
    assert abs(solution(mid)[0] - math.exp(-0.1 * 0.025) * math.sin(1.0)) > 1e-8


@pytest.fixture(scope="module")
def time_errors():
    """A change of ν Δt = 2% and 1% per step: Heun's time error (≈ 5 (νΔt)³/6 ≈ 7e-6) dwarfs the fit
    error, while the step stays small enough for Gauss–Newton to converge in a few iterations."""
    problem = heat(nu=1.0, t1=0.1)
    options = {"width": 10, "n_points": 128, "iterations": 6, "corrector_iterations": 6}
    return {
        (scheme, dt): final_error(run(problem, scheme=scheme, dt=dt, **options), problem)
        for scheme in ("euler", "heun")
        for dt in (0.02, 0.01)
    }


@pytest.mark.parametrize("scheme,order,band", [("euler", 1, 0.15), ("heun", 2, 0.4)])
def test_time_convergence_order(time_errors, scheme, order, band):
    coarse, fine = time_errors[(scheme, 0.02)], time_errors[(scheme, 0.01)]
    # the semi-discrete scheme's own error at Δt = 0.02 (amplification 1 - Δt [+ Δt²/2] per step)
    growth = (1 - 0.02) if scheme == "euler" else (1 - 0.02 + 0.02**2 / 2)
    scheme_error = abs(growth**5 - math.exp(-0.1)) / math.exp(-0.1)
    assert coarse == pytest.approx(scheme_error, rel=0.05)  # TENG follows the scheme: fit error ≪ time error
    observed = math.log2(coarse / fine)
    assert order - band < observed < order + band, (coarse, fine)


def test_dirichlet_network_with_a_lift():
    """u = 1 + e^{-νt} sin x on [0, π] with u = 1 on both ends: distance factor times network plus lift."""
    problem = heat(nu=0.2, t1=0.04, boundary=Dirichlet(value=1.0), length=pi, offset=1.0)
    solution = run(problem, scheme="heun", dt=0.01)
    assert final_error(solution, problem) < 1e-7
    ends = np.array([[0.0, 0.04], [math.pi, 0.04]])
    assert np.allclose(solution(ends), 1.0, atol=1e-14)


def test_snapshot_and_arrays():
    problem = heat(nu=0.1, t1=0.02)
    solution = run(problem, scheme="euler", dt=0.01, init_adam_steps=50, init_iterations=5)
    points, values, cells = solution.final_snapshot()
    assert points.shape == (201, 1) and values.shape == (201,) and cells[0][0] == "line"
    arrays = solution.arrays()
    assert arrays["u"].shape == (3, 201) and arrays["theta"].shape[0] == 3
    assert np.allclose(arrays["t"], [0.0, 0.01, 0.02])


def test_not_applicable():
    with pytest.raises(NotApplicableError, match="periodic and Dirichlet"):
        TengSolver().check(heat(0.1, 0.1, boundary=Neumann()))
    stationary = Problem("poisson", Interval(0, 1), residual=lambda u, x, p: d(u, "x", 2), boundary=Dirichlet())
    assert "evolution" in TengSolver.not_applicable(stationary)


def test_initial_fit_on_a_coarser_grid_first():
    """u0 fitted at 64 points, then checked and refined at the 512 sample points: 3.2e-12 there."""
    problem = heat(nu=0.1, t1=0.01)
    solution = run(problem, scheme="euler", dt=0.01, n_points=512, init_points=64)
    assert solution.stats["n_points"] == 512
    assert solution.stats["init_residual"] < 1e-10
