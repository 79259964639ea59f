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

METHODS = ("svd", "qr", "cg", "cholesky")


@dataclass(frozen=True)
class MatrixFree:
    """A linear operator known only by its products: ``matvec(v) = J v`` and ``rmatvec(w) = Jᵀ w``."""

    matvec: Callable[[torch.Tensor], torch.Tensor]
    rmatvec: Callable[[torch.Tensor], torch.Tensor]
    shape: tuple[int, int]


@dataclass(frozen=True)
class LeastSquaresInfo:
    """What a solve reports: the residual ``‖Jδ - r‖``, ``‖r‖``, the numerical rank (svd),
    the largest/smallest kept singular value (svd), and the iterations (cg)."""

    method: str
    residual_norm: float
    rhs_norm: float
    rank: int | None = None
    sigma_max: float | None = None
    sigma_min_kept: float | None = None
    iterations: int | None = None
    converged: bool = True

    @property
    def relative_residual(self) -> float:
        return self.residual_norm / self.rhs_norm if self.rhs_norm > 0 else 0.0


@dataclass(frozen=True)
class ReducedSystem:
    """``‖J δ - r‖² = ‖R δ - qtr‖² + residual_sq`` for every δ (from :func:`reduce_rows`)."""

    R: torch.Tensor
    qtr: torch.Tensor
    residual_sq: float
    rhs_norm: float


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
        return _cgls(J, r, damping, tol, max_iter)
    if isinstance(J, MatrixFree):
        raise ValueError(f"method {method!r} needs an explicit matrix; use method='cg' for a MatrixFree operator")
    if method == "svd":
        return _svd(J, r, rcond, damping)
    if method == "cholesky":
        delta, info = GramSystem.factor(J, r).solve(damping)
        return delta, _replace(info, residual_norm=_residual_norm(J, delta, r))
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
    return delta, _replace(info, residual_norm=residual, rhs_norm=system.rhs_norm)


def _replace(info: LeastSquaresInfo, **changes) -> LeastSquaresInfo:
    return LeastSquaresInfo(**{**info.__dict__, **changes})


def _residual_norm(J: torch.Tensor, delta: torch.Tensor, r: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(J @ delta - r))


@dataclass(frozen=True)
class SVDSystem:
    """``J = U diag(s) Vᵀ`` with ``Uᵀr`` kept: solves for any cut-off and damping without refactoring
    (a Levenberg–Marquardt retry with new damping costs two small products).

    ``‖J δ - r‖² = ‖diag(s) Vᵀδ - Uᵀr‖² + outside_sq`` where ``outside_sq`` is the part of ``‖r‖²``
    outside the column space (plus a reduced system's own ``residual_sq``).
    """

    s: torch.Tensor
    Vh: torch.Tensor
    utr: torch.Tensor
    outside_sq: float
    rhs_norm: float
    shape: tuple[int, int]

    @classmethod
    def factor(cls, J: torch.Tensor, r: torch.Tensor, driver: str | None = None) -> SVDSystem:
        """Factor ``J`` (R-SVD: a QR first when ``J`` is tall); ``driver`` picks cuSOLVER's
        gesvd / gesvdj / gesvda on CUDA (None: torch's choice)."""
        A, b = J, r
        if J.shape[0] > 2 * J.shape[1]:
            Q, A = torch.linalg.qr(J, mode="reduced")
            b = Q.mT @ r
        U, s, Vh = torch.linalg.svd(A, full_matrices=False, driver=driver if A.is_cuda else None)
        utr = U.mT @ b
        rhs_sq = float(r.square().sum())
        return cls(s, Vh, utr, max(rhs_sq - float(utr.square().sum()), 0.0), rhs_sq**0.5, tuple(J.shape))

    @classmethod
    def factor_reduced(cls, system: ReducedSystem, driver: str | None = None) -> SVDSystem:
        factored = cls.factor(system.R, system.qtr, driver)
        outside = factored.outside_sq + system.residual_sq
        return cls(factored.s, factored.Vh, factored.utr, outside, system.rhs_norm, factored.shape)

    def solve(self, rcond: float | None = None, damping: float = 0.0) -> tuple[torch.Tensor, LeastSquaresInfo]:
        """Truncated (singular values ``≤ rcond · σ_max`` dropped) and Tikhonov-filtered solution."""
        s = self.s
        if rcond is None:
            rcond = torch.finfo(s.dtype).eps * max(self.shape)
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
        )
        return delta, info


def _svd(J: torch.Tensor, r: torch.Tensor, rcond: float | None, damping: float):
    delta, info = SVDSystem.factor(J, r).solve(rcond, damping)
    return delta, _replace(info, residual_norm=_residual_norm(J, delta, r))


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


def _cgls(J: torch.Tensor | MatrixFree, r: torch.Tensor, damping: float, tol: float, max_iter: int | None):
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
    )
    return delta, info


class GramSystem:
    """Damped normal equations of ``‖J S δ' - r‖² + λ ‖δ'‖²`` with ``δ = S δ'``, solved by Cholesky.

    ``S`` is a diagonal column scaling (``scale_columns=True``: ``S = diag(1/‖J_j‖)``, Marquardt's
    scaling, which makes λ one number for parameters of very different sensitivity). The primal form
    factors ``SJᵀJS + λI`` (m × m) and suits ``N ≥ m``; the kernel form factors ``JS(JS)ᵀ + λI``
    (N × N) and suits wide ``J``. The Cholesky factor of the last damping is kept, so a second
    right-hand side (e.g. Levenberg–Marquardt's geodesic acceleration) costs two triangular solves.
    ``rmatvec(w) = Jᵀw`` is needed for other right-hand sides when ``J`` itself is not kept.
    """

    def __init__(
        self,
        gram: torch.Tensor,
        scale: torch.Tensor,
        rhs: torch.Tensor,
        rhs_sq: float,
        J: torch.Tensor | None = None,
        rmatvec: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.gram, self.scale, self.rhs, self.rhs_sq = gram, scale, rhs, rhs_sq
        self.J, self.rmatvec = J, rmatvec
        self.kernel = J is not None and gram.shape[0] == J.shape[0] and J.shape[0] < J.shape[1]
        self._factor: tuple[float, torch.Tensor] | None = None

    @classmethod
    def factor(cls, J: torch.Tensor, r: torch.Tensor, scale_columns: bool = False) -> GramSystem:
        """Form ``SJᵀJS`` (tall ``J``) or ``JS(JS)ᵀ`` (wide ``J``) in one matrix product."""
        scale = column_scale(J.square().sum(0)) if scale_columns else torch.ones_like(J[0])
        Js = J * scale
        if J.shape[0] < J.shape[1]:
            return cls(Js @ Js.mT, scale, r, float(r.square().sum()), J=J)
        return cls(Js.mT @ Js, scale, Js.mT @ r, float(r.square().sum()), J=J)

    @classmethod
    def from_kernel(
        cls, kernel: torch.Tensor, scale: torch.Tensor, r: torch.Tensor, rmatvec: Callable[[torch.Tensor], torch.Tensor]
    ) -> GramSystem:
        """The kernel form from ``JS(JS)ᵀ`` computed elsewhere (e.g. from structured factors), with ``Jᵀw``."""
        system = cls(kernel, scale, r, float(r.square().sum()), rmatvec=rmatvec)
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
        return cls(gram * scale[:, None] * scale, scale, rhs * scale, rhs_sq, rmatvec=rmatvec)

    @property
    def mean_diagonal(self) -> float:
        """``trace / size`` of the (scaled) Gram matrix: the unit of a relative damping."""
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
            return delta, LeastSquaresInfo("cholesky", residual, float(torch.linalg.vector_norm(r)))
        if r is None:
            g, rhs_sq = self.rhs, self.rhs_sq
        else:
            g = self.scale * self._rmatvec(r)
            rhs_sq = float(r.square().sum())
        step = torch.cholesky_solve(g[:, None], L)[:, 0]
        decrease = float(step @ (g + damping * step))
        residual = max(rhs_sq - decrease, 0.0) ** 0.5
        return self.scale * step, LeastSquaresInfo("cholesky", residual, rhs_sq**0.5)

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
