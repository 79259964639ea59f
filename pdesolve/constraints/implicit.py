"""Backward of the least-squares solve by the implicit function theorem (no unrolling of the iterations).

At the solution ``ω*(θ)`` of ``min_ω f = ½‖r(ω, θ)‖² + ½ ridge ‖ω‖²`` the gradient ``g = Jᵀr + ridge ω``
vanishes, so ``dω*/dθ = -H⁻¹ ∂g/∂θ``. With the Gauss–Newton matrix ``H = JᵀJ + ridge I`` (exact when ``r``
is affine in ω, i.e. a linear PDE) a cotangent ``v`` of ω* becomes

    λ = H⁻¹ v   (one batched ``nb × nb`` solve per expert),
    ∂L/∂θ = -∇_θ ⟨g(ω*, θ), λ⟩ = -∇_θ [ ⟨r(ω*, θ), J̄λ⟩ + ⟨∇_ω ⟨r(ω, θ), r̄⟩, λ⟩ ],

bars marking values held fixed: one residual evaluation with a double backward (the second term carries
the curvature of ``J`` in θ, which matters when the residual does not vanish). ``θ`` are the tensors the
residual reads (the basis values of a grid backbone, the parameters of a point backbone).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.distributed as dist

from pdesolve.constraints.distributed import sum_over_ranks
from pdesolve.constraints.gauss_newton import GaussNewtonMatrix

Rows = Callable[..., torch.Tensor]


class ImplicitLeastSquares(torch.autograd.Function):
    """``ω = ImplicitLeastSquares.apply(rows, ω*, J, H, ridge, group, *θ)``: the value ω*, gradients to θ.

    ``rows(ω, *θ) -> r`` (batch, K, M); ``J`` (batch, K, M, nb) and ``H`` at ω*; ``group`` sums the θ-gradients
    of experts sharded over ranks (None: one process).
    """

    @staticmethod
    def forward(ctx, rows, omega, J, H, ridge, group, *theta):
        ctx.rows, ctx.H, ctx.ridge, ctx.group = rows, H, ridge, group
        ctx.save_for_backward(omega, J, *theta)
        return omega.clone()

    @staticmethod
    def backward(ctx, grad_omega):
        omega, J, *theta = ctx.saved_tensors
        H: GaussNewtonMatrix = ctx.H
        lam = H.solve(grad_omega, ctx.ridge)
        with torch.enable_grad():
            leaves = [t.detach().requires_grad_(t.requires_grad) for t in theta]
            w = omega.detach().requires_grad_()
            r = ctx.rows(w, *leaves)
            (gw,) = torch.autograd.grad(r, w, r.detach(), create_graph=True)
            jl = (J @ lam[..., None])[..., 0]
            objective = (r * jl).sum() + (gw * lam).sum()
            wanted = [leaf for leaf in leaves if leaf.requires_grad]
            grads = iter(torch.autograd.grad(objective, wanted, allow_unused=True))
        out = []
        for leaf in leaves:
            g = next(grads) if leaf.requires_grad else None
            out.append(None if g is None and not leaf.requires_grad else (torch.zeros_like(leaf) if g is None else -g))
        sum_over_ranks([g for g in out if g is not None], ctx.group)
        return (None, None, None, None, None, None, *out)


def implicit_solution(
    rows: Rows,
    omega: torch.Tensor,
    J: torch.Tensor,
    H: GaussNewtonMatrix,
    ridge: float,
    theta: list[torch.Tensor],
    group: dist.ProcessGroup | None = None,
) -> torch.Tensor:
    """ω* attached to the graph of ``theta`` by the implicit function theorem (see the module docstring)."""
    return ImplicitLeastSquares.apply(rows, omega.detach(), J.detach(), H, ridge, group, *theta)
