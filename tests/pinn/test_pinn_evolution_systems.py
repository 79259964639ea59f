"""PINNs on evolution systems (``unknowns=``, ``rhs=`` rows for the evolving unknowns, ``constraints=`` for the
algebraic ones): the Taylor–Green vortex's exact solution zeroes every residual row, the initial velocity and the
Dirichlet data are exact by construction, the pressure's mean vanishes at every time, the per-sample Gauss–Newton
Jacobian stays exact, a short run reaches a stated error, and time windows carry the velocity across."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from pdesolve.ngd.residual_jacobian import jacobian_function
from pdesolve.pinn.losses import initial_residual, pde_residual
from pdesolve.pinn.model import build_model
from pdesolve.pinn.outflow import viscosity
from pdesolve.pinn.solver import PinnSolver
from pdesolve.problem import Coords, Problem, load_problem
from pdesolve.report.indicators import indicators
from pdesolve.report.metrics import Reference, solution_errors

NGD_ONLY = {"adam_steps": 0, "lbfgs_steps": 0}


@pytest.fixture(scope="module")
def taylor_green() -> Problem:
    return load_problem("taylor_green")


class Exact(nn.Module):
    """The problem's exact solution as a model: (N, 3) points (x, y, t) → (N, unknowns)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__()
        self.problem = problem

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        values = self.problem.exact(Coords([points[:, 0], points[:, 1]], t=points[:, 2]), self.problem.p)
        return torch.stack([values[name] for name in self.problem.unknowns], dim=1)


def space_time(problem: Problem, space: np.ndarray, seed: int) -> torch.Tensor:
    t = np.random.default_rng(seed).uniform(*problem.time, len(space))
    return torch.as_tensor(np.column_stack([space, t]), dtype=torch.float64)


def test_exact_taylor_green_zeroes_every_row_of_the_pinn_loss(taylor_green):
    """Rows u_t − rhs_u, v_t − rhs_v and div w, evaluated by autograd on the exact solution."""
    points = space_time(taylor_green, taylor_green.domain.sample_interior(300, seed=1), seed=2)
    residual = pde_residual(Exact(taylor_green), taylor_green, points).detach()
    assert residual.shape == (300, 3)
    assert float(residual.abs().max()) < 1e-12
    start = points.clone()
    start[:, 2] = 0.0
    assert float(initial_residual(Exact(taylor_green), taylor_green, start).detach().abs().max()) < 1e-12


def test_initial_velocity_dirichlet_data_and_pressure_gauge_are_exact_untrained(taylor_green):
    model = build_model(taylor_green, width=8, depth=2, seed=3).double()
    assert model.transform.initial and set(model.transform.columns) == {"u", "v"}
    assert model.exact_conditions == ["dirichlet", "initial", "gauge"]
    exact = Exact(taylor_green)
    start = space_time(taylor_green, taylor_green.domain.sample_interior(400, seed=4), seed=5)
    start[:, 2] = 0.0
    boundary = space_time(taylor_green, taylor_green.domain.sample_boundary(400, seed=6)[0], seed=7)
    with torch.no_grad():
        at_start, on_boundary = model(start) - exact(start), model(boundary) - exact(boundary)
        assert float(at_start[:, :2].abs().max()) < 1e-12 and float(on_boundary[:, :2].abs().max()) < 1e-12
        assert float(at_start[:, 2].abs().max()) > 1e-3  # the pressure has no initial condition
        gauge = model.gauge.points
        for t in (0.0, 0.37, 1.0):  # mean zero in space at every time
            grid = torch.cat([gauge, torch.full((len(gauge), 1), t, dtype=torch.float64)], dim=1)
            assert abs(float(model(grid)[:, 2].mean())) < 1e-12
    assert model(boundary).requires_grad  # under autograd the gauge leaves the rows uncoupled


@pytest.mark.parametrize("part", ["left", "top", "cylinder"])
def test_unsteady_cylinder_walls_inlet_and_rest_state_are_exact(part):
    problem = load_problem("cylinder_unsteady")
    assert PinnSolver.not_applicable(problem) is None and viscosity(problem) == pytest.approx(1e-3, rel=1e-12)
    model = build_model(problem, width=8, depth=2, seed=3).double()
    assert model.transform.initial and model.gauge is None  # the outflow fixes the pressure's level
    space, _ = problem.domain.sample_boundary(3000, seed=4)
    space = space[problem.domain.part_mask(space, frozenset({part}))]
    points = space_time(problem, space, seed=8)
    with torch.no_grad():
        values = model(points).numpy()
    x = Coords([points[:, 0].numpy(), points[:, 1].numpy()], t=points[:, 2].numpy())
    expected_u = problem.boundary[1].value["u"](x, problem.p) if part == "left" else 0.0
    assert np.abs(values[:, 0] - expected_u).max() < 1e-12 and np.abs(values[:, 1]).max() < 1e-12
    inside = space_time(problem, problem.domain.sample_interior(200, seed=9), seed=10)
    inside[:, 2] = 0.0
    with torch.no_grad():
        assert float(model(inside)[:, :2].abs().max()) < 1e-12  # w = 0 at t = 0


@pytest.mark.parametrize("hard", [True, False])
def test_per_sample_jacobian_of_an_evolution_system_equals_autograd(taylor_green, settings64, hard):
    """Each row (equation e on copy e of the points, soft Dirichlet and initial rows per unknown) has its own
    network call point, so the one-backward Jacobian equals the generic one."""
    options = {"width": 5, "depth": 2, "n_interior": 10, "n_boundary": 12, "n_initial": 8, "ngd_steps": 1}
    solver = PinnSolver(settings64, preset="manual", hard_constraints=hard, **options, **NGD_ONLY)
    trainer = solver.build(taylor_green)
    objective, points = trainer.objective, trainer.points
    assert (points.initial is None) == hard and (0 in points.boundary) != hard
    fast = jacobian_function(trainer.model, trainer.params, lambda: objective.residual_vector(points))
    slow = jacobian_function(trainer.model, trainer.params, lambda: objective.residual_vector(points), per_sample=False)
    (r_fast, j_fast), (r_slow, j_slow) = fast(), slow()
    soft = 0 if hard else 2 * (len(points.boundary[0][0]) + 8)
    assert j_fast.shape[0] == 3 * 10 + soft
    torch.testing.assert_close(r_fast, r_slow, rtol=0, atol=0)
    torch.testing.assert_close(j_fast, j_slow, rtol=1e-10, atol=1e-12)


def test_taylor_green_by_gauss_newton_within_the_test_budget(taylor_green, settings64):
    """[3, 12, 12, 3] tanh on 150 points, 20 Gauss–Newton steps: 2.1e-3 (velocity) and 3.3e-2 (pressure)
    relative L2 in ~8 s of CPU; the indicators see the small residual and the exact initial velocity."""
    options = {"width": 12, "depth": 2, "n_interior": 150, "ngd_steps": 20, **NGD_ONLY}
    solution = PinnSolver(settings64, preset="manual", **options).solve(taylor_green)
    errors = solution_errors(solution, Reference.of(taylor_green))
    assert errors["vector"] == ["u", "v"]
    assert errors["rel_l2"] < 1e-2, errors
    assert errors["per_unknown"]["p"]["rel_l2"] < 1e-1, errors
    found = indicators(solution, taylor_green)
    assert len(found["residual_rms_per_equation"]) == 3 and found["residual_rms"] < 1e-1, found
    assert found["initial_max"] < 1e-12 and found["boundary_max"] < 1e-12, found


def test_time_windows_join_the_velocity_exactly(taylor_green, settings64):
    """Two windows: the second starts from the first's velocity at t = ½ (exactly), the pressure of each
    window has mean zero at its times, and a point set of both windows evaluates to (N, 3)."""
    problem = replace(taylor_green, time=(0.0, 0.2))
    options = {"width": 6, "depth": 1, "n_interior": 40, "ngd_steps": 2, "time_windows": 2, **NGD_ONLY}
    solution = PinnSolver(settings64, preset="manual", **options).solve(problem)
    windows = solution.model.windows
    space = problem.domain.sample_interior(50, seed=11)
    middle = torch.as_tensor(np.column_stack([space, np.full(50, 0.1)]), dtype=torch.float64)
    with torch.no_grad():
        before, after = windows[0](middle), windows[1](middle)
    assert float((before[:, :2] - after[:, :2]).abs().max()) < 1e-12
    values = solution(np.column_stack([np.vstack([space, space]), np.r_[np.full(50, 0.05), np.full(50, 0.15)]]))
    assert values.shape == (100, 3) and np.isfinite(values).all()
