"""Batched Levenberg–Marquardt: per-problem stopping and the predicted fall of the f-test."""

from __future__ import annotations

import torch

from pdesolve.constraints import LMOptions, levenberg_marquardt
from pdesolve.constraints.gauss_newton import GaussNewtonMatrix


def test_converged_experts_drop_out_of_the_evaluations():
    """Expert 0 is linear (done after one step), expert 1 is Rosenbrock's (many steps): the callbacks are
    asked for expert 1 only once expert 0 has converged, and each expert counts its own iterations."""
    target = torch.tensor([1.0, -2.0], dtype=torch.float64)

    def rows(w: torch.Tensor) -> torch.Tensor:
        linear = w[:, 0] - target
        rosenbrock = torch.stack([10 * (w[:, 1, 1] - w[:, 1, 0] ** 2), 1 - w[:, 1, 0]], dim=-1)
        return torch.stack([linear, rosenbrock], dim=1)

    def jacobian(w: torch.Tensor) -> torch.Tensor:
        return torch.func.vmap(torch.func.jacrev(lambda v: rows(v[None])[0]))(w).diagonal(dim1=1, dim2=3).movedim(-1, 1)

    masks = []

    def residual_and_jacobian(w, mask):
        masks.append(mask.clone())
        return rows(w), jacobian(w)

    def residual(w, mask):
        masks.append(mask.clone())
        return rows(w)

    omega = torch.tensor([[[0.0, 0.0], [-1.2, 1.0]]], dtype=torch.float64)
    result = levenberg_marquardt(residual_and_jacobian, residual, omega, LMOptions(max_iter=200))
    torch.testing.assert_close(result.omega[0, 0], target)
    torch.testing.assert_close(result.omega[0, 1], torch.ones(2, dtype=torch.float64), atol=1e-8, rtol=0)
    assert bool(result.converged.all())
    assert result.steps[0, 0] <= 3 < 10 < result.steps[0, 1] == result.iterations
    with_linear = [bool(m[0, 0]) for m in masks]
    count = sum(with_linear)  # the first evaluations only, at most two per iteration of expert 0
    assert with_linear[:count] == [True] * count and count <= 2 * int(result.steps[0, 0]) + 1
    assert len(masks) - count > 10 and all(bool(m[0, 1]) for m in masks[count:])


def test_predicted_reduction_is_exact_for_linear_rows():
    """For rows ``J ω - b`` the Gauss–Newton model is the cost itself: the predicted fall of any step (the
    f-test's second half) equals the actual fall of ``½‖r‖² + ½ ridge ‖ω‖²``."""
    generator = torch.Generator().manual_seed(0)
    J = torch.randn(3, 30, 5, generator=generator, dtype=torch.float64)
    b = torch.randn(3, 30, generator=generator, dtype=torch.float64)
    omega, step = torch.randn(2, 3, 5, generator=generator, dtype=torch.float64)
    ridge = 0.1

    def cost(w: torch.Tensor) -> torch.Tensor:
        r = (J @ w[..., None])[..., 0] - b
        return 0.5 * r.square().sum(-1) + 0.5 * ridge * w.square().sum(-1)

    r = (J @ omega[..., None])[..., 0] - b
    predicted = GaussNewtonMatrix.of(J).predicted_reduction(r, omega, ridge, step)
    torch.testing.assert_close(predicted, cost(omega) - cost(omega + step), rtol=1e-10, atol=1e-12)
