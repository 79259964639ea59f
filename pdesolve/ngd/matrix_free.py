"""Matrix-free Gauss–Newton: the damped least-squares step from Jacobian–vector products only.

``J`` is never formed: ``J v`` and ``Jᵀ w`` come from automatic differentiation of the residual, and
``min ‖Jδ - r‖² + λ‖δ‖²`` is solved by CGLS (conjugate gradients on ``(JᵀJ + λI) δ = Jᵀr`` in the form
that multiplies by ``J`` and ``Jᵀ`` separately), to a relative tolerance or an iteration cap. Memory is
that of two gradients instead of ``N × P``: the scalable form of Gauss–Newton natural gradient (Jnini,
Vella & Zeinhofer 2024, arXiv 2402.10680, Sec. 3).

- :func:`function_operator`: ``J`` of ``f(θ)`` by ``torch.func.jvp`` / ``torch.func.vjp`` (any function that
  torch.func can trace, e.g. a :class:`~pdesolve.ngd.jacobian.FlatModule` at fixed points);
- :func:`graph_operator`: ``J`` of a residual tensor already computed with autograd (PINN residuals hold
  ``autograd.grad(..., create_graph=True)``, which torch.func cannot trace): ``Jᵀw`` is one backward pass,
  ``J v`` the double-backward trick (``g(w) = Jᵀw`` is linear in ``w``, so ``∂(g·v)/∂w = J v``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import jvp, vjp

from pdesolve.ngd.least_squares import MatrixFree, cgls
from pdesolve.ngd.system import LeastSquaresInfo


def function_operator(f: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor) -> MatrixFree:
    """``J = ∂f/∂θ`` at ``θ`` as products: ``J v`` by forward mode, ``Jᵀw`` by reverse mode (one linearisation)."""
    theta = theta.detach()
    value, pullback = vjp(f, theta)

    def matvec(v: torch.Tensor) -> torch.Tensor:
        return jvp(f, (theta,), (v.to(theta.dtype),))[1]

    def rmatvec(w: torch.Tensor) -> torch.Tensor:
        return pullback(w.to(value.dtype))[0]

    return MatrixFree(matvec, rmatvec, (value.numel(), theta.numel()))


def graph_operator(r: torch.Tensor, params: list[torch.Tensor], dtype: torch.dtype | None = None) -> MatrixFree:
    """``J = ∂r/∂θ`` (θ: ``params`` flattened) of a residual ``r`` that still holds its autograd graph.

    Products take and return ``dtype`` (default: ``r``'s) whatever the network's precision.
    """
    dtype = r.dtype if dtype is None else dtype
    probe = torch.zeros_like(r, requires_grad=True)
    pieces = torch.autograd.grad(r, params, probe, create_graph=True, allow_unused=True, materialize_grads=True)
    transposed = torch.cat([piece.reshape(-1) for piece in pieces])  # Jᵀ probe, linear in the probe

    def matvec(v: torch.Tensor) -> torch.Tensor:
        (jv,) = torch.autograd.grad(transposed, probe, v.to(transposed.dtype), retain_graph=True, allow_unused=True)
        return torch.zeros(r.numel(), dtype=dtype, device=r.device) if jv is None else jv.reshape(-1).to(dtype)

    def rmatvec(w: torch.Tensor) -> torch.Tensor:
        grads = torch.autograd.grad(
            r, params, w.reshape(r.shape).to(r.dtype), retain_graph=True, allow_unused=True, materialize_grads=True
        )
        return torch.cat([g.reshape(-1) for g in grads]).to(dtype)

    return MatrixFree(matvec, rmatvec, (r.numel(), transposed.numel()))


class MatrixFreeSystem:
    """``min ‖Jδ - r‖² + λ‖δ‖²`` by CGLS on a :class:`MatrixFree` ``J``, stopped at ``‖Jᵀ(r - Jδ) - λδ‖ ≤
    tol ‖Jᵀr‖`` or after ``max_iter`` iterations (each one ``J v`` and one ``Jᵀw``).

    ``unit`` (the scale of a relative damping, ``‖J‖²_F / m``) is Hutchinson's estimate ``mean ‖J z‖² / m``
    over ``probes`` Rademacher vectors ``z`` (Hutchinson 1990), seeded, so that runs repeat.
    """

    def __init__(
        self, operator: MatrixFree, r: torch.Tensor, tol: float = 1e-10, max_iter: int | None = None, probes: int = 8
    ) -> None:
        self.operator, self.r, self.tol, self.max_iter, self.probes = operator, r, tol, max_iter, probes
        self._unit: float | None = None

    @property
    def unit(self) -> float:
        if self._unit is None:
            m = self.operator.shape[1]
            generator = torch.Generator().manual_seed(0)
            total = 0.0
            for _ in range(self.probes):
                z = torch.randint(0, 2, (m,), generator=generator).to(self.r) * 2 - 1
                total += float(self.operator.matvec(z).square().sum())
            self._unit = total / (self.probes * m)
        return self._unit

    def solve(self, damping: float) -> tuple[torch.Tensor, LeastSquaresInfo]:
        return cgls(self.operator, self.r, damping, self.tol, self.max_iter)
