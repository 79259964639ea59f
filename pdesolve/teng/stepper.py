"""TENG time steps (Chen et al., "TENG", ICML 2024, Sec. 3.2): explicit targets, fitted in parameter space.

For ``u_t = F(u)`` a step from ``θ_n`` (network ``u_n``) to ``θ_{n+1}`` fits the network to the target
of an explicit scheme at the sample points, starting from the previous parameters:

- TENG-Euler: target ``u_n + Δt F(u_n)``;
- TENG-Heun: predictor ``θ*`` fitted to ``u_n + Δt F(u_n)``, then corrector target
  ``u_n + Δt/2 (F(u_n) + F(u_θ*))`` fitted from ``θ*`` (second order).

Each stepper is a small object with ``step(θ, t, Δt) -> (θ, StepInfo)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from pdesolve.teng.fit import FitInfo, GaussNewtonFit


@dataclass
class StepInfo:
    """The fits of one step (one for Euler, predictor and corrector for Heun)."""

    fits: list[FitInfo] = field(default_factory=list)

    @property
    def residual(self) -> float:
        """Relative residual of the last fit: how closely the network matches the step's target."""
        return self.fits[-1].final

    @property
    def solves(self) -> int:
        return sum(f.solves for f in self.fits)


class TengEuler:
    """TENG-Euler: first order in Δt."""

    order = 1

    def __init__(self, fitter: GaussNewtonFit, iterations: int) -> None:
        self.fitter = fitter
        self.iterations = iterations

    def step(self, theta: torch.Tensor, t: float, dt: float) -> tuple[torch.Tensor, StepInfo]:
        model = self.fitter.model
        target = model.values(theta) + dt * model.rhs(theta, t)
        theta, fit = self.fitter.fit(theta, target, self.iterations)
        return theta, StepInfo([fit])


class TengHeun:
    """TENG-Heun: second order in Δt (predictor + corrector fits)."""

    order = 2

    def __init__(self, fitter: GaussNewtonFit, iterations: int, corrector_iterations: int) -> None:
        self.fitter = fitter
        self.iterations = iterations
        self.corrector_iterations = corrector_iterations

    def step(self, theta: torch.Tensor, t: float, dt: float) -> tuple[torch.Tensor, StepInfo]:
        model = self.fitter.model
        u_n = model.values(theta)
        f_n = model.rhs(theta, t)
        predicted, fit1 = self.fitter.fit(theta, u_n + dt * f_n, self.iterations)
        target = u_n + (dt / 2) * (f_n + model.rhs(predicted, t + dt))
        theta, fit2 = self.fitter.fit(predicted, target, self.corrector_iterations)
        return theta, StepInfo([fit1, fit2])


SCHEMES = ("euler", "heun")


def make_stepper(scheme: str, fitter: GaussNewtonFit, iterations: int, corrector_iterations: int):
    """``"euler"`` or ``"heun"``."""
    if scheme == "euler":
        return TengEuler(fitter, iterations)
    if scheme == "heun":
        return TengHeun(fitter, iterations, corrector_iterations)
    raise ValueError(f"TENG scheme {scheme!r}: choose 'euler' or 'heun'")
