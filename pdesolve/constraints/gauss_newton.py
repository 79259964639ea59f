"""Batched Levenberg–Marquardt for the small nonlinear least-squares problems of hard constraints.

Every expert ``k`` of every sample ``b`` solves ``min_ω ½‖r_bk(ω)‖² + ½ ridge ‖ω‖²`` for its ``nb`` basis
weights (Levenberg 1944, Marquardt 1963; as in Chalapathi et al., ICLR 2024). All problems advance together:
one trial residual, one Jacobian evaluation and one batched factorisation ``J = QR``, ``R = U diag(σ) Vᵀ``
(float64; the eigenvectors of the Gauss–Newton matrix ``JᵀJ`` without forming it) per iteration, with damping
and acceptance decided per problem by masks, never by a Python loop over experts: the batched, masked form
of :class:`~pdesolve.ngd.driver.DampedGaussNewton` with its :class:`~pdesolve.ngd.driver.Multiplicative`
damping policy. The factorisation gives any damping for free (the per-system :class:`~pdesolve.ngd.least_squares.SVDSystem` idea, batched):
``δ = -V (diag(σ²) + ridge + λ)⁻¹ Vᵀ g``.

Each problem stops on its own: the callbacks receive a mask of the problems whose rows are needed (trial
residuals of the unconverged ones, Jacobians of those whose step was accepted) and may skip the rest (an
expert whose samples have all converged costs nothing more), and only those problems are refactored.
:attr:`LMResult.steps` counts the iterations of each problem.

A numerically singular ``JᵀJ`` (fewer rows than basis functions, duplicate basis functions) is solved with
the damping floor ``√eps · s_max`` and a :class:`SingularSystemWarning`, never with NaNs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch

from pdesolve.ngd.driver import Damping, Multiplicative

Residual = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
ResidualAndJacobian = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


class SingularSystemWarning(UserWarning):
    """A least-squares system of a hard constraint is (numerically) rank deficient."""


@dataclass(frozen=True)
class LMOptions:
    """``max_iter`` iterations; a problem stops when a step is below ``tol · (‖ω‖ + tol)`` (default 1e-10
    in float64, 1e-5 otherwise), when a rejected step raises the cost (or an accepted step of a singular
    system lowers it) by at most ``ftol · cost`` (default ``tol`` in float64 or when ``tol`` is given, else
    3e-4 ≈ √eps of float32: float32 rows of a PDE cancel large terms, so their cost is known to about that;
    cf. the f-tests of MINPACK and of the paper's optimistix solver, rtol 1e-4), or when the cost falls
    below ``atol``;
    initial damping ``damping · s_max``, divided by ``decrease`` after accepted and multiplied by ``increase``
    after rejected steps; ``ridge`` is Tikhonov regularisation of ω (part of the objective)."""

    max_iter: int = 50
    tol: float | None = None
    ftol: float | None = None
    atol: float = 1e-28
    damping: float = 1e-10
    increase: float = 10.0
    decrease: float = 10.0
    ridge: float = 0.0


@dataclass(frozen=True)
class GaussNewtonMatrix:
    """``J = Q U diag(σ) Vᵀ`` per problem (QR, then the SVD of the small triangle; float64), so that
    ``JᵀJ = V diag(s) Vᵀ`` with ``s = σ²`` and steps never square the condition number; ``floor`` is the
    damping of singular systems."""

    sigma: torch.Tensor  # (..., nb)
    V: torch.Tensor  # (..., nb, nb)
    QU: torch.Tensor  # (..., M, nb)
    floor: torch.Tensor  # (...)

    @property
    def s(self) -> torch.Tensor:
        return self.sigma.square()

    @classmethod
    def of(cls, J: torch.Tensor) -> GaussNewtonMatrix:
        """Factor Jacobians ``J`` (..., M, nb); warn when some system is singular."""
        J64 = J.to(torch.float64)
        if J.shape[-2] < J.shape[-1]:  # fewer rows than unknowns: pad with zero rows (rank deficient anyway)
            J64 = torch.cat([J64, J64.new_zeros(*J.shape[:-2], J.shape[-1] - J.shape[-2], J.shape[-1])], dim=-2)
        Q, R = torch.linalg.qr(J64, mode="reduced")
        U, sigma, Vh = torch.linalg.svd(R)
        eps = torch.finfo(torch.float64).eps
        sigma_max = sigma[..., 0]
        singular = sigma[..., -1] <= 10 * J.shape[-1] * eps * sigma_max
        if bool(singular.any()):
            warnings.warn(
                "a hard-constraint least-squares system is singular (too few points or linearly dependent "
                "basis functions): solved with damping",
                SingularSystemWarning,
                stacklevel=3,
            )
        floor = torch.where(singular, eps**0.5 * sigma_max.square().clamp_min(eps), torch.zeros_like(sigma_max))
        QU = (Q @ U)[..., : J.shape[-2], :]
        return cls(sigma, Vh.mT, QU, floor)

    def updated(self, J: torch.Tensor, mask: torch.Tensor) -> GaussNewtonMatrix:
        """This factorisation with the problems under ``mask`` (the leading dims) refactored from ``J``."""
        if bool(mask.all()):
            return GaussNewtonMatrix.of(J)
        flat = mask.reshape(-1).nonzero()[:, 0]
        fresh = GaussNewtonMatrix.of(J.reshape(-1, *J.shape[-2:])[flat])
        parts = []
        for old, new in zip((self.sigma, self.V, self.QU, self.floor), (fresh.sigma, fresh.V, fresh.QU, fresh.floor)):
            merged = old.reshape(-1, *old.shape[mask.dim() :]).clone()
            merged[flat] = new
            parts.append(merged.reshape(old.shape))
        return GaussNewtonMatrix(*parts)

    def solve(self, rhs: torch.Tensor, shift: torch.Tensor | float) -> torch.Tensor:
        """``(JᵀJ + shift + floor)⁻¹ rhs`` for ``rhs`` (..., nb); ``shift`` per problem or scalar."""
        coefficients = (self.V.mT @ rhs.to(torch.float64)[..., None])[..., 0] / self._denominator(shift)
        return (self.V @ coefficients[..., None])[..., 0].to(rhs.dtype)

    def step(self, r: torch.Tensor, omega: torch.Tensor, ridge: float, shift: torch.Tensor) -> torch.Tensor:
        """The damped Gauss–Newton step ``-(JᵀJ + ridge + shift + floor)⁻¹ (Jᵀr + ridge ω)``, with ``Jᵀr``
        taken as ``V σ (QU)ᵀ r`` (accurate to ``eps · cond(J)``)."""
        projected = (self.QU.mT @ r.to(torch.float64)[..., None])[..., 0]
        gradient = self.sigma * projected + ridge * (self.V.mT @ omega.to(torch.float64)[..., None])[..., 0]
        coefficients = gradient / self._denominator(shift + ridge)
        return -(self.V @ coefficients[..., None])[..., 0].to(omega.dtype)

    def _denominator(self, shift: torch.Tensor | float) -> torch.Tensor:
        shift = torch.as_tensor(shift, dtype=torch.float64, device=self.sigma.device)
        return self.s + (shift + self.floor)[..., None]


@dataclass(frozen=True)
class LMResult:
    """The solution ω (..., nb), its residual rows and Jacobian, ``JᵀJ`` at ω, iterations (of the slowest
    problem), per-problem convergence flags and per-problem iteration counts ``steps``."""

    omega: torch.Tensor
    residual: torch.Tensor
    jacobian: torch.Tensor
    gauss_newton: GaussNewtonMatrix
    iterations: int
    converged: torch.Tensor
    steps: torch.Tensor


def rows_and_jacobian(rows: Callable[[torch.Tensor], torch.Tensor], omega: torch.Tensor):
    """Rows ``r`` (batch, K, M) and Jacobian (batch, K, M, nb) of ``rows(ω (batch, K, c, nb)) -> (batch, K, c, M)``
    at ``omega`` (batch, K, nb): reverse mode twice on ``nb`` copies, ``J e_c = ∂/∂p ⟨Jᵀp, e_c⟩``."""
    batch, experts, nb = omega.shape
    with torch.enable_grad():
        copies = omega.detach()[:, :, None].expand(-1, -1, nb, -1).clone().requires_grad_()
        r = rows(copies)
        probe = torch.zeros_like(r, requires_grad=True)
        (transposed,) = torch.autograd.grad(r, copies, probe, create_graph=True)
        tangent = torch.eye(nb, dtype=omega.dtype, device=omega.device).expand(batch, experts, nb, nb)
        (jt,) = torch.autograd.grad(transposed, probe, tangent)
    return r[:, :, 0].detach(), jt.transpose(-1, -2)


def _cost(r: torch.Tensor, omega: torch.Tensor, ridge: float) -> torch.Tensor:
    cost = 0.5 * r.to(torch.float64).square().sum(-1) + 0.5 * ridge * omega.to(torch.float64).square().sum(-1)
    return torch.nan_to_num(cost, nan=torch.inf)


def levenberg_marquardt(
    residual_and_jacobian: ResidualAndJacobian,
    residual: Residual,
    omega: torch.Tensor,
    options: LMOptions = LMOptions(),
) -> LMResult:
    """Minimise ``½‖r(ω)‖² + ½ ridge ‖ω‖²`` for a batch of problems (leading dims of ``omega``).

    ``residual_and_jacobian(ω, mask) -> (r (..., M), J (..., M, nb))`` and ``residual(ω, mask) -> r`` (trial
    steps) need be right only where ``mask`` (the leading dims) is set; the other entries are ignored.
    """
    omega = omega.detach()
    ridge = options.ridge
    wide = omega.dtype == torch.float64
    tol = options.tol if options.tol is not None else (1e-10 if wide else 1e-5)
    ftol = options.ftol if options.ftol is not None else (tol if wide or options.tol is not None else 3e-4)
    everything = torch.ones(omega.shape[:-1], dtype=torch.bool, device=omega.device)
    r, J = residual_and_jacobian(omega, everything)
    H = GaussNewtonMatrix.of(J)
    cost = _cost(r, omega, ridge)
    lam = options.damping * H.s[..., -1]
    policy = Multiplicative(options.increase, options.decrease)
    converged = cost <= options.atol
    steps = torch.zeros(omega.shape[:-1], dtype=torch.int64, device=omega.device)
    iterations = 0
    while iterations < options.max_iter and not bool(converged.all()):
        active = ~converged
        step = torch.where(active[..., None], H.step(r, omega, ridge, lam), torch.zeros_like(omega))
        trial = omega + step
        trial_cost = torch.where(active, _cost(residual(trial, active), trial, ridge), cost)
        accept = (trial_cost <= cost) & active
        small = accept & (step.norm(dim=-1) <= tol * (omega.norm(dim=-1) + tol))
        stalled = accept & (H.floor > 0) & (cost - trial_cost <= ftol * cost)
        flat = active & ~accept & (trial_cost - cost <= ftol * cost)  # at the minimum up to rounding
        omega = torch.where(accept[..., None], trial, omega)
        cost = torch.where(accept, trial_cost, cost)
        damping = Damping(lam)  # the driver's multiplicative policy, per problem
        lam = torch.where(
            accept, policy.accepted(damping).value, torch.where(active, policy.rejected(damping).value, lam)
        )
        converged = converged | small | stalled | flat | (cost <= options.atol)
        steps += active.long()
        iterations += 1
        if bool(accept.any()):  # new rows and Jacobians where ω moved (also for problems that just converged)
            r_new, J_new = residual_and_jacobian(omega, accept)
            r = torch.where(accept[..., None], r_new, r)
            J = torch.where(accept[..., None, None], J_new, J)
            H = H.updated(J, accept)
    return LMResult(omega, r, J, H, iterations, converged, steps)
