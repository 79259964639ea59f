"""Damped normal equations solved by Cholesky: the fastest direct least-squares system on GPUs.

``(SJᵀJS + λI) δ' = SJᵀr`` (primal form, tall ``J``) or ``δ' = (JS)ᵀ(JS(JS)ᵀ + λI)⁻¹ r`` (kernel form,
wide ``J``), ``δ = S δ'``. Forming ``JᵀJ`` squares the condition number, so it needs ``λ ≳ eps · ‖J‖²``:
the Levenberg–Marquardt damping of a Gauss–Newton fit (Marquardt 1963, with his column scaling ``S``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from pdesolve.ngd.system import LeastSquaresInfo, model_products


class GramSystem:
    """Damped normal equations of ``‖J S δ' - r‖² + λ ‖δ'‖²`` with ``δ = S δ'``, solved by Cholesky.

    ``S`` is a diagonal column scaling (``scale_columns=True``: ``S = diag(1/‖J_j‖)``, Marquardt's
    scaling, which makes λ one number for parameters of very different sensitivity). The primal form
    factors ``SJᵀJS + λI`` (m × m) and suits ``N ≥ m``; the kernel form factors ``JS(JS)ᵀ + λI``
    (N × N) and suits wide ``J``. The Cholesky factor of the last damping is kept, so a second
    right-hand side (e.g. Levenberg–Marquardt's geodesic acceleration) costs two triangular solves.
    ``rmatvec(w) = Jᵀw`` is needed for other right-hand sides when ``J`` itself is not kept.
    ``unit`` (the scale of a relative damping) is 1 with column scaling, else ``trace(JᵀJ) / m``.
    """

    def __init__(
        self,
        gram: torch.Tensor,
        scale: torch.Tensor,
        rhs: torch.Tensor,
        rhs_sq: float,
        J: torch.Tensor | None = None,
        rmatvec: Callable[[torch.Tensor], torch.Tensor] | None = None,
        unit: float | None = None,
    ) -> None:
        self.gram, self.scale, self.rhs, self.rhs_sq = gram, scale, rhs, rhs_sq
        self.J, self.rmatvec = J, rmatvec
        self.kernel = J is not None and gram.shape[0] == J.shape[0] and J.shape[0] < J.shape[1]
        self.unit = float(gram.diagonal().sum()) / len(scale) if unit is None else unit
        self._factor: tuple[float, torch.Tensor] | None = None

    @classmethod
    def factor(cls, J: torch.Tensor, r: torch.Tensor, scale_columns: bool = False) -> GramSystem:
        """Form ``SJᵀJS`` (tall ``J``) or ``JS(JS)ᵀ`` (wide ``J``) in one matrix product."""
        scale = column_scale(J.square().sum(0)) if scale_columns else torch.ones_like(J[0])
        unit = 1.0 if scale_columns else None
        Js = J * scale
        if J.shape[0] < J.shape[1]:
            return cls(Js @ Js.mT, scale, r, float(r.square().sum()), J=J, unit=unit)
        return cls(Js.mT @ Js, scale, Js.mT @ r, float(r.square().sum()), J=J, unit=unit)

    @classmethod
    def from_kernel(
        cls, kernel: torch.Tensor, scale: torch.Tensor, r: torch.Tensor, rmatvec: Callable[[torch.Tensor], torch.Tensor]
    ) -> GramSystem:
        """The kernel form from ``JS(JS)ᵀ`` computed elsewhere (e.g. from structured factors, scaled), with ``Jᵀw``."""
        system = cls(kernel, scale, r, float(r.square().sum()), rmatvec=rmatvec, unit=1.0)
        system.kernel = True
        return system

    @classmethod
    def accumulate(
        cls,
        blocks: Iterable[tuple[torch.Tensor, torch.Tensor]],
        scale_columns: bool = False,
        rmatvec: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> GramSystem:
        """The primal form from row blocks ``(J_i, r_i)``: memory ``O(m²)`` plus one block."""
        gram = rhs = None
        rhs_sq = 0.0
        for J_block, r_block in blocks:
            gram = J_block.mT @ J_block if gram is None else gram.addmm_(J_block.mT, J_block)
            rhs = J_block.mT @ r_block if rhs is None else rhs.addmv_(J_block.mT, r_block)
            rhs_sq += float(r_block.square().sum())
        if gram is None:
            raise ValueError("GramSystem.accumulate needs at least one block")
        scale = column_scale(gram.diagonal()) if scale_columns else torch.ones_like(rhs)
        unit = 1.0 if scale_columns else None
        return cls(gram * scale[:, None] * scale, scale, rhs * scale, rhs_sq, rmatvec=rmatvec, unit=unit)

    @property
    def mean_diagonal(self) -> float:
        """``trace / size`` of the (scaled) Gram matrix."""
        return float(self.gram.diagonal().mean())

    def cholesky(self, damping: float) -> torch.Tensor:
        """The factor of ``gram + damping I``; raises ``torch.linalg.LinAlgError`` if not positive definite."""
        if self._factor is None or self._factor[0] != damping:
            shifted = self.gram.clone()
            shifted.diagonal().add_(damping)
            self._factor = (damping, torch.linalg.cholesky(shifted))
        return self._factor[1]

    def solve(self, damping: float, r: torch.Tensor | None = None) -> tuple[torch.Tensor, LeastSquaresInfo]:
        """``δ`` for the kept right-hand side, or for another residual ``r`` (N,); the info's residual
        ``‖r - Jδ‖`` comes from the identity ``‖r‖² - ‖r - Jδ‖² = δ'ᵀ(g + λδ')`` (no pass over ``J``)."""
        L = self.cholesky(damping)
        if self.kernel:
            r = self.rhs if r is None else r
            y = torch.cholesky_solve(r[:, None], L)[:, 0]
            delta = self.scale.square() * self._rmatvec(y)  # S (JS)ᵀ y
            residual = damping * float(torch.linalg.vector_norm(y))
            products = model_products(r, self.gram @ y)  # Jδ = JS(JS)ᵀ y
            return delta, LeastSquaresInfo("cholesky", residual, float(torch.linalg.vector_norm(r)), **products)
        if r is None:
            g, rhs_sq = self.rhs, self.rhs_sq
        else:
            g = self.scale * self._rmatvec(r)
            rhs_sq = float(r.square().sum())
        step = torch.cholesky_solve(g[:, None], L)[:, 0]
        decrease = float(step @ (g + damping * step))
        residual = max(rhs_sq - decrease, 0.0) ** 0.5
        products = {"r_dot_jd": float(step @ g), "jd_sq": float(step @ (self.gram @ step))}
        return self.scale * step, LeastSquaresInfo("cholesky", residual, rhs_sq**0.5, **products)

    def _rmatvec(self, r: torch.Tensor) -> torch.Tensor:
        if self.J is not None:
            return self.J.mT @ r
        if self.rmatvec is None:
            raise ValueError("this GramSystem keeps neither J nor rmatvec: it solves for its own right-hand side only")
        return self.rmatvec(r)


def column_scale(squares: torch.Tensor) -> torch.Tensor:
    """``1/‖J_j‖``, with columns below ``1e-12 ×`` the largest norm treated as that small."""
    floor = float(squares.max()) * 1e-24 if squares.numel() else 0.0
    return squares.clamp_min(max(floor, torch.finfo(squares.dtype).tiny)).rsqrt()
