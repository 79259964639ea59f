"""Damped Gauss–Newton for nonlinear residuals: per-sample Jacobians, monotone descent, a Burgers solution."""

from __future__ import annotations

import math

import pytest
import torch
from pinn_helpers import relative_l2

from pdesolve.memory_guard import MemoryRequestError
from pdesolve.ngd import GramSystem, MatrixFreeSystem
from pdesolve.ngd.residual_jacobian import jacobian_function, residual_jacobian
from pdesolve.pinn.gauss_newton import GaussNewtonStage
from pdesolve.pinn.losses import CausalWeights
from pdesolve.pinn.solution import PinnSolution
from pdesolve.pinn.solver import PinnSolver
from pdesolve.problem import Dirichlet, Interval, Problem, cos, d, exp, pi, sin

GN_ONLY = {"adam_steps": 0, "lbfgs_steps": 0}


def cole_hopf_burgers(nu: float = 0.1, a: float = 2.0) -> Problem:
    """u_t = −u u_x + ν u_xx on [0, 1] × [0, 1], u(0) = u(1) = 0; exact (Cole–Hopf)
    u = 2νπ e^{−νπ²t} sin(πx) / (a + e^{−νπ²t} cos(πx))."""

    def exact(x, p):
        decay = exp(-p.nu * pi**2 * x.t)
        return 2 * p.nu * pi * decay * sin(pi * x.x) / (p.a + decay * cos(pi * x.x))

    return Problem(
        name="burgers_cole_hopf",
        domain=Interval(0.0, 1.0),
        time=(0.0, 1.0),
        rhs=lambda u, x, p: -u * d(u, "x") + p.nu * d(u, "x", 2),
        initial=lambda x, p: 2 * p.nu * pi * sin(pi * x.x) / (p.a + cos(pi * x.x)),
        boundary=Dirichlet(0.0),
        params={"nu": nu, "a": a},
        exact=exact,
    )


@pytest.mark.parametrize("network, hard", [("mlp", True), ("gated", False), ("fourier", True)])
def test_per_sample_jacobian_equals_the_generic_one(settings64, network, hard):
    """One backward through per-point perturbations of every linear layer gives ∂r/∂θ exactly."""
    problem = cole_hopf_burgers()
    options = {"network": network, "width": 6, "depth": 2, "n_interior": 30, "n_boundary": 6, "n_initial": 8}
    trainer = PinnSolver(settings64, preset="manual", hard_constraints=hard, **options, **GN_ONLY).build(problem)
    residual = lambda: trainer.objective.residual_vector(trainer.points)  # noqa: E731
    r, J = jacobian_function(trainer.model, trainer.params, residual)()
    expected = residual_jacobian(residual(), trainer.params)
    assert J.shape == expected.shape == (len(r), sum(p.numel() for p in trainer.params))
    assert torch.allclose(J, expected, rtol=0, atol=1e-12 * float(expected.abs().max()))


def test_causal_rows_reproduce_the_causal_loss():
    """‖r_j √(w_i/(M n_i))‖² is the causal loss (1/M) Σ_i w_i L_i, and frozen weights stay put."""
    generator = torch.Generator().manual_seed(1)
    t, r = torch.rand(200, generator=generator, dtype=torch.float64), torch.randn(200, generator=generator)
    causal = CausalWeights((0.0, 1.0), chunks=8, epsilon=0.5)
    rows = causal.scale_rows(r.double(), t)
    assert math.isclose(float(rows.square().sum()), float(causal.loss(r.double(), t)), rel_tol=1e-12)
    frozen = causal.scale_rows(2 * r.double(), t, refresh=False)
    assert torch.allclose(frozen, 2 * rows, rtol=1e-14)


def test_damped_gauss_newton_decreases_a_nonlinear_least_squares_loss_monotonically():
    """Rosenbrock as residuals (10(y − x²), 1 − x) from (−1.2, 1): every accepted step lowers the loss,
    the damping adapts, and the minimum (1, 1) is found to rounding."""
    theta = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    residual = lambda: torch.stack([10 * (theta[1] - theta[0] ** 2), 1 - theta[0]])  # noqa: E731
    stage = GaussNewtonStage([theta], residual, damping=1e-2, solver="cholesky")
    losses = [float(residual().square().sum())]
    while not stage.stalled and len(losses) < 60:
        losses.append(stage.step())
    assert all(b <= a for a, b in zip(losses, losses[1:]))
    assert losses[-1] <= 1e-20
    assert torch.allclose(theta.detach(), torch.ones(2, dtype=torch.float64), atol=1e-10)


def test_gauss_newton_solves_viscous_burgers_to_5e_5(settings64):
    """Cole–Hopf Burgers (ν = 0.1) with exact boundary and initial data, [2, 12, 12, 1] tanh, 400 points,
    100 steps from the random start (1.3e-5, about 3 s of CPU); the loss never rises."""
    problem = cole_hopf_burgers()
    options = {"width": 12, "depth": 2, "n_interior": 400, "ngd_steps": 100, "ngd_damping": 1e-3, **GN_ONLY}
    solver = PinnSolver(settings64, preset="manual", **options)
    trainer = solver.build(problem)
    trainer.run()
    history = trainer.history
    assert all(b <= a for a, b in zip(history, history[1:]))
    assert relative_l2(PinnSolution(problem, trainer.model, {}), problem) <= 5e-5


def test_matrix_free_gauss_newton_takes_the_dense_step_on_burgers(settings64):
    """ngd_solver=cg: CGLS on J v, Jᵀw through the residual's graph gives the Cholesky step to 1e-8, and
    matrix-free steps lower the loss monotonically as the dense ones do."""
    problem = cole_hopf_burgers()
    options = {"width": 8, "depth": 2, "n_interior": 200, "ngd_steps": 5, "ngd_damping": 1e-3, **GN_ONLY}
    trainer = PinnSolver(settings64, preset="manual", ngd_solver="cg", **options).build(problem)
    matrix_free, loss = trainer._make_stage("ngd").system_here()
    r, J = jacobian_function(trainer.model, trainer.params, lambda: trainer.objective.residual_vector(trainer.points))()
    dense = GramSystem.factor(J, r)
    damping = 1e-3 * dense.unit
    expected, _ = dense.solve(damping)
    step, info = MatrixFreeSystem(matrix_free.operator, matrix_free.r, tol=1e-14, max_iter=5000).solve(damping)
    assert info.converged and float((step - expected).norm() / expected.norm()) <= 1e-8
    assert math.isclose(loss, float(r.square().sum()), rel_tol=1e-12)
    trainer.run()
    history = trainer.history
    assert len(history) == 5 and all(b < a for a, b in zip(history, history[1:]))
    assert history[-1] <= 0.2 * history[0]


def test_warm_up_steps_see_an_eighth_of_the_points_and_reach_the_same_error(settings64):
    """ngd_warmup=20: steps 1–20 on 50 of the 400 interior points, then all of them; the Cole–Hopf run still ends
    below 5e-5 (as without warm-up, the test above)."""
    problem = cole_hopf_burgers()
    options = {"width": 12, "depth": 2, "n_interior": 400, "ngd_steps": 100, "ngd_warmup": 20, **GN_ONLY}
    seen: list[int] = []
    trainer = PinnSolver(settings64, preset="manual", **options).build(
        problem, lambda t: seen.append(len(t.points.interior)), 1
    )
    trainer.run()
    assert seen[:19] == [50] * 19 and seen[19:] == [400] * 81
    assert relative_l2(PinnSolution(problem, trainer.model, {}), problem) <= 5e-5


def test_memory_check_of_a_warm_up_counts_the_full_point_set(settings64, monkeypatch):
    """The Gauss–Newton stage is sized for its steps after the warm-up (all 400 points), not its first ones (50)."""
    monkeypatch.setenv("PDESOLVE_MEMORY_LIMIT", "1K")
    options = {"width": 12, "depth": 2, "n_interior": 400, "ngd_steps": 10, "ngd_warmup": 5, **GN_ONLY}
    trainer = PinnSolver(settings64, preset="manual", **options).build(cole_hopf_burgers())
    with pytest.raises(MemoryRequestError, match=r"\(400 residuals"):
        trainer.run()
