"""The interface every damped linear least-squares system offers to a Gauss–Newton driver.

A system stands for ``min_δ ‖J δ - r‖² + λ ‖S⁻¹δ‖²`` at one linearisation (``S``: an optional diagonal
column scaling). ``solve(λ)`` returns the step and a :class:`LeastSquaresInfo` whose residual ``‖r - Jδ‖``
and products ``rᵀJδ``, ``‖Jδ‖²`` give the decrease the linear model predicts for any step ``ηδ`` — what a
damping policy compares the actual decrease with (the gain ratio of Levenberg–Marquardt, Nielsen 1999).
``unit`` is the scale of a relative damping: ``‖JS‖²_F / m``, the mean diagonal of the (scaled) Gram matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

import torch


@dataclass(frozen=True)
class LeastSquaresInfo:
    """What a solve reports: the residual ``‖Jδ - r‖``, ``‖r‖``, the numerical rank (svd), the largest/smallest
    kept singular value (svd), the iterations (cg), and ``rᵀJδ``, ``‖Jδ‖²`` where the solve knows them."""

    method: str
    residual_norm: float
    rhs_norm: float
    rank: int | None = None
    sigma_max: float | None = None
    sigma_min_kept: float | None = None
    iterations: int | None = None
    converged: bool = True
    r_dot_jd: float | None = None
    jd_sq: float | None = None

    @property
    def relative_residual(self) -> float:
        return self.residual_norm / self.rhs_norm if self.rhs_norm > 0 else 0.0

    def predicted_decrease(self, eta: float = 1.0) -> float:
        """``‖r‖² - ‖r - ηJδ‖²``: the decrease of the squared residual the linear model predicts for ``ηδ``."""
        if eta == 1.0:
            return self.rhs_norm**2 - self.residual_norm**2
        if self.r_dot_jd is None or self.jd_sq is None:
            raise ValueError(f"a {self.method} solve predicts the decrease of the full step only")
        return 2 * eta * self.r_dot_jd - eta**2 * self.jd_sq

    def replace(self, **changes) -> LeastSquaresInfo:
        return replace(self, **changes)


@runtime_checkable
class LeastSquaresSystem(Protocol):
    """One linearisation ``(J, r)``: ``solve(damping) -> (δ, info)`` for any damping, ``unit`` its scale."""

    @property
    def unit(self) -> float: ...

    def solve(self, damping: float) -> tuple[torch.Tensor, LeastSquaresInfo]: ...


def model_products(r: torch.Tensor, jd: torch.Tensor) -> dict[str, float]:
    """``rᵀJδ`` and ``‖Jδ‖²`` for :class:`LeastSquaresInfo` from ``Jδ`` (any basis in which ``r`` is given)."""
    return {"r_dot_jd": float(r @ jd), "jd_sq": float(jd @ jd)}
