"""Energy natural gradient / damped Gauss–Newton (truncated SVD or Cholesky, line search, adaptive damping)."""

from __future__ import annotations

import pytest
import torch
from pinn_helpers import poisson2d, relative_l2

from pdesolve.pinn.gauss_newton import GaussNewtonStage
from pdesolve.pinn.solver import PinnSolver

NGD_ONLY = {"adam_steps": 0, "lbfgs_steps": 0, "sampling": "uniform", "ngd_damping": 0.0}  # undamped ENGD


def test_one_step_solves_a_linear_least_squares_problem_then_stalls():
    """r(θ) = Aθ - b with a repeated column: the first step is the minimum-norm least-squares solution A⁺b."""
    generator = torch.Generator().manual_seed(0)
    A = torch.randn(12, 3, dtype=torch.float64, generator=generator)
    A = torch.cat([A, A[:, :1]], dim=1)  # rank 3 of 4 columns
    b = torch.randn(12, dtype=torch.float64, generator=generator)
    theta = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    stage = GaussNewtonStage([theta], lambda: A @ theta - b, damping=0.0)
    minimum = float((A @ torch.linalg.pinv(A) @ b - b).square().sum())
    assert abs(stage.step() - minimum) <= 1e-12 * minimum
    assert stage.last_eta == 1.0 and stage.last_info.rank == 3
    assert torch.allclose(theta.detach(), torch.linalg.pinv(A) @ b, atol=1e-12)
    stage.step()
    assert stage.stalled


@pytest.mark.parametrize("hard", [True, False])
def test_energy_natural_gradient_reaches_1e_7_on_poisson1d(problem1d, settings64, hard):
    """[1, 10, 1] tanh on 40 grid points: 1e-8 in 30 steps, about 3 s of CPU."""
    options = {"width": 10, "depth": 1, "n_interior": 40, "n_boundary": 2, "ngd_steps": 30, **NGD_ONLY}
    solution = PinnSolver(settings64, preset="manual", hard_constraints=hard, **options).solve(problem1d)
    assert relative_l2(solution, problem1d) <= 1e-7


def test_energy_natural_gradient_reaches_1e_6_on_poisson2d(settings64):
    """[2, 24, 1] tanh with exact boundary values on a 14 × 14 grid: 2e-7 in 30 steps, about 4 s of CPU."""
    problem = poisson2d()
    options = {"width": 24, "depth": 1, "n_interior": 196, "ngd_steps": 30, **NGD_ONLY}
    solution = PinnSolver(settings64, preset="manual", **options).solve(problem)
    assert relative_l2(solution, problem) <= 1e-6
