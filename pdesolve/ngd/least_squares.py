"""Stable linear least squares for natural-gradient (Gauss–Newton) steps.

Each natural-gradient step solves ``min_δ ||J δ - r||² + λ ||δ||²`` where ``J`` is the Jacobian of a
network output (or residual) at sample points with respect to parameters. Network Jacobians are
severely ill-conditioned and often rank deficient, so the normal equations ``JᵀJ δ = Jᵀr`` are never
formed explicitly:

- ``"svd"``: truncated SVD, singular values below ``rcond · σ_max`` dropped (``numpy.linalg.lstsq``'s
  rule, as in the TENG paper, Chen et al. ICML 2024); with damping the Tikhonov filter
  ``σ / (σ² + λ)``. Tall matrices are first reduced by a QR factorisation (R-SVD).
- ``"qr"``: Householder QR of ``[J; √λ I]`` and a triangular solve. Exact for full column rank;
  rank-deficient systems need ``damping > 0``.
- ``"cg"``: CGLS, i.e. conjugate gradients on the damped normal equations using only products with
  ``J`` and ``Jᵀ`` (so ``J`` may be a :class:`MatrixFree` operator built from jvp/vjp).
- ``"cholesky"``: the damped normal equations themselves, ``(JᵀJ + λI) δ = Jᵀr``, or for a wide ``J``
  the kernel form ``δ = Jᵀ (JJᵀ + λI)⁻¹ r`` (:class:`GramSystem`). One matrix product and a Cholesky
  factorisation: the fastest direct method on GPUs; it squares the condition number, so it needs
  ``λ ≳ eps · ‖J‖²`` — the Levenberg–Marquardt damping of a Gauss–Newton fit.

:class:`SVDSystem` keeps a factorisation so that new cut-offs or damping cost almost nothing
(Levenberg–Marquardt retries).
Rows may also arrive in blocks (:func:`reduce_rows`): a streaming (TSQR) QR keeps only an ``m × m``
triangle, so an ``N × m`` Jacobian never has to be held in one piece. ``‖J δ - r‖`` equals
``‖R δ - Qᵀr‖`` up to a constant, hence every method above applies to the reduced system.

Example::

    delta, info = solve_least_squares(J, r, method="svd", rcond=1e-12)
    theta = theta + delta
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch

from pdesolve.ngd.gram import GramSystem
from pdesolve.ngd.system import LeastSquaresInfo, model_products

METHODS = ("svd", "qr", "cg", "cholesky")


@dataclass(frozen=True)
class MatrixFree:
    """A linear operator known only by its products: ``matvec(v) = J v`` and ``rmatvec(w) = Jᵀ w``."""

    matvec: Callable[[torch.Tensor], torch.Tensor]
    rmatvec: Callable[[torch.Tensor], torch.Tensor]
    shape: tuple[int, int]


@dataclass(frozen=True)
class ReducedSystem:
    """``‖J δ - r‖² = ‖R δ - qtr‖² + residual_sq`` for every δ (from :func:`reduce_rows`, or ``R = J`` itself),
    solved by ``method`` (qr | cg | svd | cholesky) with ``rcond`` (svd) for any damping."""

    R: torch.Tensor
    qtr: torch.Tensor
    residual_sq: float
    rhs_norm: float
    method: str = "qr"
    rcond: float | None = None

    @classmethod
    def of(cls, J: torch.Tensor, r: torch.Tensor, method: str = "qr", rcond: float | None = None) -> ReducedSystem:
        """The system ``(J, r)`` as it is (no reduction)."""
        return cls(J, r, 0.0, float(torch.linalg.vector_norm(r)), method, rcond)

    @property
    def unit(self) -> float:
        return float(self.R.square().sum()) / self.R.shape[1]

    def solve(self, damping: float = 0.0) -> tuple[torch.Tensor, LeastSquaresInfo]:
        return solve_reduced(self, method=self.method, rcond=self.rcond, damping=damping)


def solve_least_squares(
    J: torch.Tensor | MatrixFree,
    r: torch.Tensor,
    method: str = "svd",
    rcond: float | None = None,
    damping: float = 0.0,
    tol: float = 1e-14,
    max_iter: int | None = None,
) -> tuple[torch.Tensor, LeastSquaresInfo]:
    """``argmin_δ ‖J δ - r‖² + damping ‖δ‖²`` by ``method`` (svd | qr | cg | cholesky).

    ``rcond`` (svd): relative cut-off of singular values, default ``eps · max(N, m)``.
    ``tol``/``max_iter`` (cg): stop when ``‖Jᵀ(r - Jδ) - λδ‖ ≤ tol ‖Jᵀr‖`` or after ``max_iter``
    iterations (default ``2 m``). Returns the step and a :class:`LeastSquaresInfo`.
    """
    if method not in METHODS:
        raise ValueError(f"least-squares method {method!r}: choose one of {', '.join(METHODS)}")
    if damping < 0:
        raise ValueError("damping must be non-negative")
    if method == "cg":
        return cgls(J, r, damping, tol, max_iter)
    if isinstance(J, MatrixFree):
        raise ValueError(f"method {method!r} needs an explicit matrix; use method='cg' for a MatrixFree operator")
    if method == "svd":
        return _svd(J, r, rcond, damping)
    if method == "cholesky":
        delta, info = GramSystem.factor(J, r).solve(damping)
        return delta, info.replace(residual_norm=_residual_norm(J, delta, r))
    return _qr(J, r, damping)


def reduce_rows(blocks: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> ReducedSystem:
    """Streaming QR (TSQR) of row blocks ``(J_i, r_i)``: memory ``O(m²)`` plus one block."""
    R = qtr = None
    residual_sq = 0.0
    rhs_sq = 0.0
    for J_block, r_block in blocks:
        rhs_sq += float(r_block.square().sum())
        stacked = J_block if R is None else torch.cat([R, J_block])
        rhs = r_block if qtr is None else torch.cat([qtr, r_block])
        Q, R = torch.linalg.qr(stacked, mode="reduced")
        qtr = Q.mT @ rhs
        residual_sq += float((rhs - Q @ qtr).square().sum())
    if R is None:
        raise ValueError("reduce_rows needs at least one block")
    return ReducedSystem(R, qtr, residual_sq, rhs_sq**0.5)


def solve_reduced(system: ReducedSystem, **options) -> tuple[torch.Tensor, LeastSquaresInfo]:
    """:func:`solve_least_squares` on a :class:`ReducedSystem`, reporting the full residual ``‖Jδ - r‖``."""
    delta, info = solve_least_squares(system.R, system.qtr, **options)
    residual = (info.residual_norm**2 + system.residual_sq) ** 0.5
    return delta, info.replace(residual_norm=residual, rhs_norm=system.rhs_norm)


def _residual_norm(J: torch.Tensor, delta: torch.Tensor, r: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(J @ delta - r))


@dataclass(frozen=True)
class SVDSystem:
    """``J = U diag(s) Vᵀ`` with ``Uᵀr`` kept: solves for any damping without refactoring (a
    Levenberg–Marquardt retry with new damping costs two small products); singular values
    ``≤ rcond · σ_max`` are dropped (default ``eps · max(N, m)``).

    ``‖J δ - r‖² = ‖diag(s) Vᵀδ - Uᵀr‖² + outside_sq`` where ``outside_sq`` is the part of ``‖r‖²``
    outside the column space (plus a reduced system's own ``residual_sq``).
    """

    s: torch.Tensor
    Vh: torch.Tensor
    utr: torch.Tensor
    outside_sq: float
    rhs_norm: float
    shape: tuple[int, int]
    rcond: float | None = None

    @classmethod
    def factor(
        cls, J: torch.Tensor, r: torch.Tensor, driver: str | None = None, rcond: float | None = None
    ) -> SVDSystem:
        """Factor ``J`` (R-SVD: a QR first when ``J`` is tall); ``driver`` picks cuSOLVER's
        gesvd / gesvdj / gesvda on CUDA (None: torch's choice)."""
        A, b = J, r
        if J.shape[0] > 2 * J.shape[1]:
            Q, A = torch.linalg.qr(J, mode="reduced")
            b = Q.mT @ r
        U, s, Vh = torch.linalg.svd(A, full_matrices=False, driver=driver if A.is_cuda else None)
        utr = U.mT @ b
        rhs_sq = float(r.square().sum())
        outside = max(rhs_sq - float(utr.square().sum()), 0.0)
        return cls(s, Vh, utr, outside, rhs_sq**0.5, tuple(J.shape), rcond)

    @classmethod
    def factor_reduced(cls, system: ReducedSystem, driver: str | None = None, rcond: float | None = None) -> SVDSystem:
        factored = cls.factor(system.R, system.qtr, driver)
        outside = factored.outside_sq + system.residual_sq
        return cls(factored.s, factored.Vh, factored.utr, outside, system.rhs_norm, factored.shape, rcond)

    @property
    def unit(self) -> float:
        return float(self.s.square().sum()) / self.shape[1]

    def solve(self, damping: float = 0.0) -> tuple[torch.Tensor, LeastSquaresInfo]:
        """Truncated (singular values ``≤ rcond · σ_max`` dropped) and Tikhonov-filtered solution."""
        s = self.s
        rcond = torch.finfo(s.dtype).eps * max(self.shape) if self.rcond is None else self.rcond
        sigma_max = float(s[0]) if len(s) else 0.0
        keep = s > rcond * sigma_max
        filt = torch.where(keep, s / (s.square() + damping), torch.zeros_like(s))
        coefficients = filt * self.utr
        delta = self.Vh.mT @ coefficients
        inside = float((self.utr - s * coefficients).square().sum())
        info = LeastSquaresInfo(
            "svd",
            (inside + self.outside_sq) ** 0.5,
            self.rhs_norm,
            rank=int(keep.sum()),
            sigma_max=sigma_max,
            sigma_min_kept=float(s[keep][-1]) if bool(keep.any()) else 0.0,
            **model_products(self.utr, s * coefficients),  # Jδ in the basis U
        )
        return delta, info


def _svd(J: torch.Tensor, r: torch.Tensor, rcond: float | None, damping: float):
    delta, info = SVDSystem.factor(J, r, rcond=rcond).solve(damping)
    return delta, info.replace(residual_norm=_residual_norm(J, delta, r))


def _qr(J: torch.Tensor, r: torch.Tensor, damping: float):
    n, m = J.shape
    A, b = J, r
    if damping > 0:
        eye = torch.eye(m, dtype=J.dtype, device=J.device) * damping**0.5
        A, b = torch.cat([J, eye]), torch.cat([r, torch.zeros(m, dtype=r.dtype, device=r.device)])
    elif n < m:
        raise ValueError("method 'qr' needs at least as many rows as columns, or damping > 0")
    Q, R = torch.linalg.qr(A, mode="reduced")
    delta = torch.linalg.solve_triangular(R, (Q.mT @ b)[:, None], upper=True)[:, 0]
    return delta, LeastSquaresInfo("qr", _residual_norm(J, delta, r), float(torch.linalg.vector_norm(r)))


def cgls(J: torch.Tensor | MatrixFree, r: torch.Tensor, damping: float, tol: float, max_iter: int | None):
    """CGLS (Hestenes–Stiefel, Björck's form) for ``min ‖Jδ - r‖² + λ‖δ‖²``."""
    if isinstance(J, MatrixFree):
        matvec, rmatvec, m = J.matvec, J.rmatvec, J.shape[1]
    else:
        matvec, rmatvec, m = (lambda v: J @ v), (lambda w: J.mT @ w), J.shape[1]
    max_iter = 2 * m if max_iter is None else max_iter
    delta = torch.zeros(m, dtype=r.dtype, device=r.device)
    residual = r.clone()  # r - J δ
    s = rmatvec(residual)
    p = s.clone()
    gamma = float(s.square().sum())
    target = tol * gamma**0.5
    iterations = 0
    while gamma**0.5 > target and iterations < max_iter:
        q = matvec(p)
        alpha = gamma / (float(q.square().sum()) + damping * float(p.square().sum()))
        delta = delta + alpha * p
        residual = residual - alpha * q
        s = rmatvec(residual) - damping * delta
        gamma_new = float(s.square().sum())
        p = s + (gamma_new / gamma) * p
        gamma = gamma_new
        iterations += 1
    info = LeastSquaresInfo(
        "cg",
        float(torch.linalg.vector_norm(residual)),
        float(torch.linalg.vector_norm(r)),
        iterations=iterations,
        converged=gamma**0.5 <= target,
        **model_products(r, r - residual),
    )
    return delta, info
