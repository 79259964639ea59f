"""Fitting the network to target values at the sample points by Gauss–Newton (natural-gradient) steps.

One iteration (Chen et al., "TENG", ICML 2024, Sec. 3): the residual ``r = target - u_θ(X)``, the
Jacobian ``J = ∂u_θ(X)/∂θ_S`` on a random subset ``S`` of the parameters, the least-squares step
``δ = argmin ‖J δ - r‖`` (truncated SVD by default) and ``θ_S ← θ_S + δ``. Jacobian rows come in
memory-bounded blocks; when there is more than one block they are reduced by a streaming QR, so an
``N × |S|`` matrix is never held in one piece.

:func:`fit_initial` fits ``u_0`` from scratch: a short Adam warm start, then Gauss–Newton steps
safeguarded against blow-up (see its docstring).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from pdesolve.ngd import ReducedSystem, reduce_rows, solve_least_squares, solve_reduced
from pdesolve.teng.model import SampledModel

GROWTH = 1e3
PATIENCE = 8  # stop after this many iterations without a new best
MIN_DAMPING = 1e-6


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


@dataclass
class FitInfo:
    """Relative residuals ``‖r‖/‖target‖`` before each iteration and after the last."""

    residuals: list[float] = field(default_factory=list)

    @property
    def iterations(self) -> int:
        return max(0, len(self.residuals) - 1)

    @property
    def final(self) -> float:
        return self.residuals[-1]


def _relative(r: torch.Tensor, target: torch.Tensor) -> float:
    scale = float(torch.linalg.vector_norm(target))
    return float(torch.linalg.vector_norm(r)) / (scale if scale > 0 else 1.0)


class GaussNewtonFit:
    """``fit(θ, target)``: Gauss–Newton iterations on random parameter subsets (generator on the CPU)."""

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

    def linearize(self, theta: torch.Tensor, r: torch.Tensor, size: int) -> tuple[torch.Tensor | None, Any]:
        """The Jacobian on a random subset of ``size`` parameters, with ``r``: one matrix or a streamed QR."""
        columns = self.columns(size, theta.numel(), theta.device)
        blocks = list(self.model.jacobian_blocks(theta, columns, self.options.jacobian_mode))
        if len(blocks) == 1:
            return columns, (blocks[0], r)
        return columns, reduce_rows(zip(blocks, torch.split(r, [len(b) for b in blocks])))

    def solve(self, theta: torch.Tensor, columns: torch.Tensor | None, system: Any, damping: float) -> torch.Tensor:
        """The least-squares step ``δ`` (full length, zero off the subset) for ``J δ ≈ r``."""
        opts = self.options
        solver = {"method": opts.method, "rcond": opts.rcond, "damping": damping}
        if isinstance(system, ReducedSystem):
            delta, _ = solve_reduced(system, **solver)
        else:
            delta, _ = solve_least_squares(*system, **solver)
        if columns is None:
            return delta
        return torch.zeros_like(theta).index_copy_(0, columns, delta)

    def fit(self, theta: torch.Tensor, target: torch.Tensor, iterations: int | None = None):
        """Run up to ``iterations`` Gauss–Newton steps from ``θ``; returns (θ, :class:`FitInfo`)."""
        opts = self.options
        iterations = opts.iterations if iterations is None else iterations
        info = FitInfo()
        theta = theta.detach().clone()
        for k in range(iterations + 1):
            r = target - self.model.values(theta)
            info.residuals.append(_relative(r, target))
            if k == iterations or info.residuals[-1] <= opts.tol:
                break
            columns, system = self.linearize(theta, r, opts.subset_first if k == 0 else opts.subset)
            theta = theta + self.solve(theta, columns, system, opts.damping)
        return theta, info


def adam_warm_start(model: SampledModel, theta: torch.Tensor, target: torch.Tensor, steps: int, lr: float):
    """``steps`` Adam iterations on the mean squared error ``mean((u_θ - target)²)``."""
    theta = theta.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([theta], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = sum(
            (model.fn(theta, chunk) - t).square().sum()
            for chunk, t in zip(model.chunks(), torch.split(target, model.chunk_size))
        ) / len(target)
        loss.backward()
        optimizer.step()
    return theta.detach()


def fit_initial(
    fitter: GaussNewtonFit, theta: torch.Tensor, target: torch.Tensor, adam_steps: int, lr: float, iterations: int
) -> tuple[torch.Tensor, FitInfo]:
    """Fit ``u_0``: Adam warm start, then Gauss–Newton until ``fitter.options.tol`` or ``iterations``.

    Gauss–Newton far from the solution is not monotone (it may first raise the residual, then
    converge fast), so a step is accepted unless it raises the residual ``GROWTH``-fold over the
    best so far; a rejected step raises the damping ×10, an accepted one lowers it ÷10. The best
    parameters seen are returned; the fit stops early after ``PATIENCE`` iterations without a new best.
    """
    model = fitter.model
    theta = adam_warm_start(model, theta, target, adam_steps, lr)
    r = target - model.values(theta)
    info = FitInfo([_relative(r, target)])
    best, best_residual, damping, stalled = theta, info.residuals[0], 0.0, 0
    for _ in range(iterations):
        if info.residuals[-1] <= fitter.options.tol:
            break
        columns, system = fitter.linearize(theta, r, fitter.options.subset_first)
        trial = theta + fitter.solve(theta, columns, system, damping)
        r_trial = target - model.values(trial)
        residual = _relative(r_trial, target)
        if residual < GROWTH * best_residual:
            theta, r = trial, r_trial
            damping = damping / 10 if damping > MIN_DAMPING else 0.0
        else:
            damping = max(10 * damping, MIN_DAMPING)
        info.residuals.append(_relative(r, target))
        if info.residuals[-1] < best_residual:
            best, best_residual, stalled = theta, info.residuals[-1], 0
        else:
            stalled += 1
            if stalled >= PATIENCE:
                break
    info.residuals.append(best_residual)
    return best, info
