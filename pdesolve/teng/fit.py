"""Fitting the network to target values at the sample points by Gauss–Newton (natural-gradient) steps.

One iteration (Chen et al., "TENG", ICML 2024, Sec. 3): the residual ``r = target - u_θ(X)``, the
Jacobian ``J = ∂u_θ(X)/∂θ_S`` on a random subset ``S`` of the parameters, the least-squares step
``δ = argmin ‖J δ - r‖`` (truncated SVD by default) and ``θ_S ← θ_S + δ``. Unlike the paper's plain
iteration, a step that raises the residual is solved again with Levenberg–Marquardt damping (the
residual at the trial point is needed for the next iteration anyway, so the check costs no extra pass). Jacobian rows come in
memory-bounded blocks; when there is more than one block they are reduced by a streaming QR, so an
``N × |S|`` matrix is never held in one piece.

:func:`fit_initial` fits ``u_0`` from scratch: a short Adam warm start, then damped Gauss–Newton.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from pdesolve.ngd import ReducedSystem, SVDSystem, reduce_rows, solve_least_squares, solve_reduced
from pdesolve.teng.model import SampledModel

GROWTH = 1e3
PATIENCE = 8
MAX_TRIES = 12
MU_MIN = 1e-12


@dataclass(frozen=True)
class FitOptions:
    """Options of one fit: ``tol`` is on ``‖r‖ / ‖target‖`` (0: run every iteration)."""

    iterations: int = 7
    tol: float = 0.0
    method: str = "svd"
    rcond: float | None = None
    damping: float = 0.0
    subset_first: int = 1536
    subset: int = 1024
    jacobian_mode: str = "rev"
    svd_driver: str | None = None


@dataclass
class FitInfo:
    """Relative residuals ``‖r‖/‖target‖``: the start, after each accepted step, and the best last;
    ``solves`` counts least-squares solves (rejected steps included)."""

    residuals: list[float] = field(default_factory=list)
    solves: int = 0

    @property
    def iterations(self) -> int:
        return max(0, len(self.residuals) - 2)

    @property
    def final(self) -> float:
        return self.residuals[-1]


@dataclass(frozen=True)
class Linearization:
    """The Jacobian on ``columns`` (None: all) with the residual: an SVD (method svd), ``(J, r)`` or a streamed QR;
    ``scale`` is the mean squared column norm of ``J`` (the unit of relative damping)."""

    columns: torch.Tensor | None
    system: SVDSystem | tuple[torch.Tensor, torch.Tensor] | ReducedSystem
    scale: float


def _relative(r: torch.Tensor, target: torch.Tensor) -> float:
    scale = float(torch.linalg.vector_norm(target))
    value = float(torch.linalg.vector_norm(r)) / (scale if scale > 0 else 1.0)
    return value if math.isfinite(value) else math.inf


class GaussNewtonFit:
    """``fit(θ, target)``: Gauss–Newton safeguarded as Levenberg–Marquardt, on random parameter subsets.

    A step is accepted when it lowers the residual. A rejected step is solved again with damping
    ``μ · scale`` (μ from ``MU_MIN``, doubling growth factor; Nielsen 1999), and after an accepted step
    μ shrinks by the gain ratio, to plain Gauss–Newton (μ = 0) once it falls below ``MU_MIN``.
    The random subsets come from ``generator`` (on the CPU, so runs repeat across devices).
    """

    def __init__(self, model: SampledModel, options: FitOptions, generator: torch.Generator) -> None:
        self.model = model
        self.options = options
        self.generator = generator

    def columns(self, size: int, n_params: int, device: torch.device) -> torch.Tensor | None:
        """A sorted random subset of ``size`` parameter indices (None: all of them)."""
        if size <= 0 or size >= n_params:
            return None
        chosen = torch.randperm(n_params, generator=self.generator)[:size]
        return chosen.sort().values.to(device)

    def linearize(self, theta: torch.Tensor, r: torch.Tensor, size: int) -> Linearization:
        """The Jacobian on a random subset of ``size`` parameters: one block, or a streamed QR of blocks."""
        columns = self.columns(size, theta.numel(), theta.device)
        width = theta.numel() if columns is None else len(columns)
        blocks = self.model.jacobian_blocks(theta, columns, self.options.jacobian_mode)
        svd = self.options.method == "svd"
        if self.model.n_points <= self.model.chunk_size:
            J = next(blocks)
            system = SVDSystem.factor(J, r, self.options.svd_driver) if svd else (J, r)
            return Linearization(columns, system, float(J.square().sum()) / width)
        reduced = reduce_rows(zip(blocks, torch.split(r, self.model.chunk_size)))  # one block held at a time
        system = SVDSystem.factor_reduced(reduced, self.options.svd_driver) if svd else reduced
        return Linearization(columns, system, float(reduced.R.square().sum()) / width)

    def solve(self, theta: torch.Tensor, lin: Linearization, damping: float) -> tuple[torch.Tensor, float]:
        """The step ``δ`` (full length, zero off the subset) for ``J δ ≈ r`` and the predicted ``‖r - Jδ‖``."""
        opts = self.options
        solver = {"method": opts.method, "rcond": opts.rcond, "damping": damping}
        if isinstance(lin.system, SVDSystem):  # factored once per linearization
            delta, info = lin.system.solve(opts.rcond, damping)
        elif isinstance(lin.system, ReducedSystem):
            delta, info = solve_reduced(lin.system, **solver)
        else:
            delta, info = solve_least_squares(*lin.system, **solver)
        if lin.columns is not None:
            delta = torch.zeros_like(theta).index_copy_(0, lin.columns, delta)
        return delta, info.residual_norm

    def fit(
        self,
        theta: torch.Tensor,
        target: torch.Tensor,
        iterations: int | None = None,
        growth: float = 1.0,
        patience: int = 0,
    ) -> tuple[torch.Tensor, FitInfo]:
        """Up to ``iterations`` steps from ``θ``; returns the best θ seen and a :class:`FitInfo`.

        A step is accepted when its residual is below ``growth ×`` the best so far (``growth = 1``:
        monotone) and below that of ``u = 0``. The fit stops at ``tol``, or after ``patience``
        iterations without a new best when ``patience > 0``.
        """
        opts = self.options
        iterations = opts.iterations if iterations is None else iterations
        theta = theta.detach()
        r = target - self.model.values(theta)
        norm = max(float(torch.linalg.vector_norm(target)), 1e-300)
        residual = _relative(r, target)
        info = FitInfo([residual])
        best, best_residual, mu, factor, stalled = theta, residual, 0.0, 2.0, 0
        for k in range(iterations):
            if best_residual <= opts.tol:
                break
            lin = self.linearize(theta, r, opts.subset_first if k == 0 else opts.subset)
            for _ in range(MAX_TRIES):
                delta, predicted = self.solve(theta, lin, opts.damping + mu * lin.scale)
                info.solves += 1
                r_trial = target - self.model.values(theta + delta)
                trial_residual = _relative(r_trial, target)
                if trial_residual < min(growth * best_residual, 1.0):
                    # Nielsen's update from the gain ratio (actual / predicted decrease)
                    gain = (residual**2 - trial_residual**2) / max(residual**2 - (predicted / norm) ** 2, 1e-300)
                    mu = mu * max(1 / 3, 1 - (2 * min(gain, 1.0) - 1) ** 3) if mu > MU_MIN else 0.0
                    theta, r, residual, factor = theta + delta, r_trial, trial_residual, 2.0
                    break
                mu, factor = max(mu * factor, MU_MIN), 2 * factor
            else:
                break  # no acceptable step even with strong damping
            info.residuals.append(residual)
            if residual < best_residual:
                best, best_residual, stalled = theta, residual, 0
            else:
                stalled += 1
                if patience and stalled >= patience:
                    break
        info.residuals.append(best_residual)
        return best, info


def adam_warm_start(model: SampledModel, theta: torch.Tensor, target: torch.Tensor, steps: int, lr: float):
    """``steps`` Adam iterations on ``mean((u_θ - target)²)``, the rate decaying exponentially to ``lr/100``."""
    theta = theta.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([theta], lr=lr)
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.01 ** (1 / max(steps, 1)))
    for _ in range(steps):
        optimizer.zero_grad()
        loss = sum(
            (model.fn(theta, chunk) - t).square().sum()
            for chunk, t in zip(model.chunks(), torch.split(target, model.chunk_size))
        ) / len(target)
        loss.backward()
        optimizer.step()
        schedule.step()
    return theta.detach()


def fit_initial(
    fitter: GaussNewtonFit, theta: torch.Tensor, target: torch.Tensor, adam_steps: int, lr: float, iterations: int
) -> tuple[torch.Tensor, FitInfo]:
    """Fit ``u_0``: Adam warm start, then Gauss–Newton until ``fitter.options.tol`` or ``iterations``.

    Far from the solution Gauss–Newton is not monotone (it may first raise the residual, then
    converge fast), so steps up to ``GROWTH`` times the best residual are accepted at first; after
    ``PATIENCE`` iterations without a new best the fit goes on from the best parameters with
    monotone (Levenberg–Marquardt safeguarded) steps.
    """
    theta = adam_warm_start(fitter.model, theta, target, adam_steps, lr)
    theta, info = fitter.fit(theta, target, iterations, growth=GROWTH, patience=PATIENCE)
    remaining = iterations - info.iterations
    if info.final > fitter.options.tol and remaining > 0:
        theta, monotone = fitter.fit(theta, target, remaining, patience=PATIENCE)
        info = FitInfo(info.residuals[:-1] + monotone.residuals, info.solves + monotone.solves)
    return theta, info
