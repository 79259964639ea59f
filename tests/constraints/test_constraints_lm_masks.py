"""Per-problem stopping of the batched Levenberg–Marquardt: converged problems are no longer evaluated."""

from __future__ import annotations

import torch

from pdesolve.constraints import LMOptions, levenberg_marquardt


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
