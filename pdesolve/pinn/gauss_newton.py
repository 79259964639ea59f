"""Gauss–Newton natural gradient with Levenberg–Marquardt damping for the PINN loss ``‖r(θ)‖²``.

For the squared-residual loss the energy natural gradient of Müller & Zeinhofer (2023, "Achieving high
accuracy with PINNs via energy natural gradient descent") is the Gauss–Newton step: solve
``J δ ≈ r`` in least squares with the Jacobian of every residual row (interior, boundary, initial)
with respect to the parameters, then a line search on ``θ − η δ``. For nonlinear PDEs it stays
Gauss–Newton (Jnini, Vella & Zeinhofer 2024, "Gauss–Newton natural gradient descent for
physics-informed computational fluid dynamics"), and far from the solution it needs damping.

Each step:

1. ``r, J`` at ``θ`` (solved in float64 whatever the model's dtype);
2. ``δ = argmin ‖J δ − r‖² + λ μ ‖δ‖²`` with ``μ = trace(JᵀJ)/P``, by :mod:`pdesolve.ngd`: a truncated
   SVD (``rcond`` cut-off, Tikhonov filter ``σ/(σ² + λμ)``) or the damped normal equations (Cholesky);
   both keep their factorisation, so a retry with a new damping costs one small solve;
3. a line search over ``η = 2^−k`` (the best, searched until the loss rises again, as in
   Müller & Zeinhofer); no decrease at all: raise ``λ ← λν``, ``ν ← 2ν`` and retry (Levenberg 1944,
   Marquardt 1963; Nielsen's ``ν``, Madsen, Nielsen & Tingleff 2004, §3.2);
4. the damping as a trust region: ``λ ← λ/10`` when ``η ≥ 1/2`` and the gain ratio
   ``ρ = (L(θ) − L(θ − ηδ)) / (‖r‖² − ‖r − ηJδ‖²) > 1/4``; ``λ ← 2λ`` when the search cut the step
   below ``η = 1/8``.

``λ = 0`` (with the SVD) is the undamped energy natural gradient of Müller & Zeinhofer: best on
linear problems started near a solution (poisson2d: 1e-7), but on helmholtz2d and the L-shape its
steps along nearly singular directions are so long that the line search keeps ``η ≈ 1e-9`` (a stall);
``λ = 1e-3`` reaches 1e-2 there in 100 steps. A step that finds no decrease within ``max_tries``
dampings marks the stage ``stalled`` (converged to what the points and the precision resolve).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from pdesolve.ngd import GramSystem, SVDSystem
from pdesolve.ngd.residual_jacobian import residual_jacobian

SOLVERS = ("auto", "svd", "cholesky")
MIN_DAMPING = 1e-12  # a positive λ stays above this (relative to μ): Cholesky squares the condition number


class GaussNewtonStage:
    """Damped Gauss–Newton steps with a line search on ``r(θ)``; ``linearize() -> (r, J)``, ``evaluate() -> r``.

    ``evaluate`` must compute the same residual as ``linearize`` (with whatever weights the latter fixed)
    at the current parameters; by default ``linearize`` uses the generic autograd Jacobian of it.
    ``damping`` is the initial ``λ`` relative to ``μ`` (0: undamped until a step fails). ``solver``
    "auto" is the truncated SVD when undamped, the Cholesky factorisation (cheaper) otherwise.
    """

    name = "ngd"

    def __init__(
        self,
        params: list[torch.Tensor],
        evaluate: Callable[[], torch.Tensor],
        linearize: Callable[[], tuple[torch.Tensor, torch.Tensor]] | None = None,
        solver: str = "auto",
        rcond: float = 1e-6,
        damping: float = 1e-3,
        max_tries: int = 12,
        line_search: int = 30,
    ) -> None:
        if solver not in SOLVERS:
            raise ValueError(f"Gauss-Newton solver must be one of {SOLVERS}, got {solver!r}")
        self.params = params
        self.evaluate = evaluate
        self.linearize = linearize or self._generic_linearize
        self.solver = solver if solver != "auto" else ("svd" if damping == 0 else "cholesky")
        self.rcond = rcond
        self.damping = damping if damping == 0 and self.solver == "svd" else max(damping, MIN_DAMPING)
        self.nu = 2.0
        self.max_tries, self.line_search = max_tries, line_search
        self.stalled = False
        self.last_info: Any = None
        self.last_eta = self.last_ratio = math.nan
        self.tries = 0

    def _generic_linearize(self) -> tuple[torch.Tensor, torch.Tensor]:
        r = self.evaluate()
        return r.detach(), residual_jacobian(r, self.params)

    def _flat(self) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1) for p in self.params])

    def _assign(self, theta: torch.Tensor) -> None:
        with torch.no_grad():
            offset = 0
            for p in self.params:
                p.copy_(theta[offset : offset + p.numel()].view_as(p).to(p.dtype))
                offset += p.numel()

    def _system(self, J: torch.Tensor, r: torch.Tensor) -> Callable[[float], tuple[torch.Tensor, Any]]:
        """``solve(λ) -> (δ, info)`` on a kept factorisation, damping ``λ μ`` with ``μ = trace(JᵀJ)/P``."""
        unit = float(J.square().sum()) / J.shape[1]
        if self.solver == "svd":
            system = SVDSystem.factor(J, r)
            return lambda lam: system.solve(self.rcond, lam * unit)
        gram = GramSystem.factor(J, r)
        return lambda lam: gram.solve(lam * unit)

    def _loss_at(self, theta: torch.Tensor) -> float:
        self._assign(theta)
        value = float(self.evaluate().detach().square().sum())
        return value if math.isfinite(value) else math.inf

    def _line_search(self, theta: torch.Tensor, delta: torch.Tensor, loss: float) -> tuple[float, float]:
        """The best ``η = 2^−k`` along ``−δ`` (searched until the loss rises again) and its loss; η = 0: none."""
        best_loss, best_eta = loss, 0.0
        for k in range(self.line_search + 1):
            eta = 0.5**k
            trial = self._loss_at(theta - eta * delta)
            if trial < best_loss - 1e-14 * loss:
                best_loss, best_eta = trial, eta
            elif best_eta > 0:
                break
        return best_eta, best_loss

    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> float:
        """One accepted step (or ``stalled``); returns the loss ``‖r‖²`` after it."""
        r, J = self.linearize()
        r, J = r.to(torch.float64), J.to(torch.float64)
        loss = float(r.square().sum())
        solve = self._system(J, r)
        theta = self._flat().to(torch.float64)
        for tries in range(1, self.max_tries + 1):
            self.tries = tries
            try:
                delta, self.last_info = solve(self.damping)
            except torch.linalg.LinAlgError:  # not positive definite at this damping
                self._raise_damping()
                continue
            eta, trial = self._line_search(theta, delta, loss)
            if eta == 0:
                self._raise_damping()
                continue
            Jd = J @ delta
            predicted = 2 * eta * float(r @ Jd) - eta**2 * float(Jd @ Jd)
            self.last_ratio = (loss - trial) / predicted if predicted > 0 else math.nan
            self.last_eta = eta
            if eta >= 0.5 and self.last_ratio > 0.25:  # the model is trusted: widen the region
                self.damping = max(self.damping / 10, MIN_DAMPING) if self.damping else 0.0
            elif eta < 0.125:  # the line search cut the step hard: narrow it
                self.damping *= 2
            self.nu = 2.0
            self._assign(theta - eta * delta)
            return trial
        self._assign(theta)
        self.stalled = True
        return loss

    def _raise_damping(self) -> None:
        self.damping = max(self.damping, 1e-9) * self.nu  # from λ = 0 to a small damping
        self.nu *= 2

    def state_dict(self) -> dict[str, Any]:
        return {"damping": self.damping, "nu": self.nu, "stalled": self.stalled}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.damping, self.nu = state.get("damping", self.damping), state.get("nu", self.nu)
        self.stalled = state.get("stalled", False)
