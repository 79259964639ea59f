"""One damped Gauss–Newton (Levenberg–Marquardt) driver: ``init`` / ``step`` / ``terminate``.

A step linearises the problem at the current point into a :class:`~pdesolve.ngd.system.LeastSquaresSystem`,
solves it with the damping ``offset + λ · unit`` (``λ`` relative to the system's scale), and lets the problem
turn the solution into a trial point (a plain step, a line search, a geodesic correction) that it accepts or
refuses. A refused or failed trial (no acceptable point, a Cholesky factor that does not exist) raises the
damping and solves again, up to ``max_tries`` times; then the driver marks the state ``stalled``. How the
damping moves is a :class:`DampingPolicy` (Levenberg 1944, Marquardt 1963; Nielsen 1999; Madsen, Nielsen &
Tingleff 2004): the driver passes it the gain ratio ``ρ = actual / predicted decrease`` of the squared
residual and the step length. The same structure as optimistix's least-squares solvers (``init``, ``step``,
``terminate`` over a state) without their JAX machinery.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Protocol

import torch

from pdesolve.ngd.system import LeastSquaresInfo, LeastSquaresSystem


@dataclass(frozen=True)
class Damping:
    """The relative damping ``λ`` and the factor ``ν`` of its next increase."""

    value: float
    nu: float = 2.0


class DampingPolicy(Protocol):
    """How ``λ`` moves after an accepted step (gain ratio ``ρ``, step length ``η``) and after a refused one."""

    def accepted(self, damping: Damping, gain: float, eta: float) -> Damping: ...

    def rejected(self, damping: Damping) -> Damping: ...


@dataclass(frozen=True)
class Nielsen:
    """``λ ← λ · max(1/3, 1 - (2ρ - 1)³)`` after an accepted step, ``λ ← λν, ν ← 2ν`` after a refused one
    (Nielsen 1999, IMM-REP-1999-05, eq. 2.4); at ``floor`` or below an accepted step drops ``λ`` to 0."""

    floor: float = 1e-15

    def accepted(self, damping: Damping, gain: float, eta: float = 1.0) -> Damping:
        if damping.value <= self.floor:
            return Damping(0.0)
        return Damping(damping.value * max(1 / 3, 1 - (2 * min(gain, 1.0) - 1) ** 3))

    def rejected(self, damping: Damping) -> Damping:
        return Damping(max(damping.value * damping.nu, self.floor), 2 * damping.nu)


@dataclass(frozen=True)
class TrustRegion:
    """A trust region read from a line search: ``λ ← λ/10`` (not below ``floor``) when ``η ≥ 1/2`` and
    ``ρ > 1/4``, ``λ ← 2λ`` when the search cut the step below ``η = 1/8``; a refused step ``λ ← max(λ, 1e-9) ν``,
    ``ν ← 2ν`` (Nielsen's ``ν``; from ``λ = 0`` to a small damping)."""

    floor: float = 1e-12

    def accepted(self, damping: Damping, gain: float, eta: float) -> Damping:
        value = damping.value
        if eta >= 0.5 and gain > 0.25:  # the model is trusted: widen the region
            value = max(value / 10, self.floor) if value else 0.0
        elif eta < 0.125:  # the line search cut the step hard: narrow it
            value *= 2
        return Damping(value)

    def rejected(self, damping: Damping) -> Damping:
        return Damping(max(damping.value, 1e-9) * damping.nu, 2 * damping.nu)


@dataclass(frozen=True)
class Multiplicative:
    """``λ ← λ / decrease`` after an accepted step, ``λ ← λ · increase`` after a refused one (Marquardt 1963).
    Elementwise, so ``value`` may be a tensor of per-problem dampings (the batched constraint layer)."""

    increase: float = 10.0
    decrease: float = 10.0

    def accepted(self, damping: Damping, gain: Any = math.nan, eta: float = 1.0) -> Damping:
        return Damping(damping.value / self.decrease, damping.nu)

    def rejected(self, damping: Damping) -> Damping:
        return Damping(damping.value * self.increase, damping.nu)


@dataclass(frozen=True)
class Trial:
    """A point the problem proposes from a solved step: its cost ``‖r‖²`` and the step length ``η`` taken."""

    point: Any
    cost: float
    eta: float = 1.0


class DampedProblem(Protocol):
    """What the driver needs: a linearisation at a point, and a trial point from a solution (None: refused)."""

    def linearize(self, point: Any) -> LeastSquaresSystem: ...

    def propose(
        self, point: Any, system: LeastSquaresSystem, delta: torch.Tensor, info: LeastSquaresInfo, damping: float
    ) -> Trial | None: ...


@dataclass(frozen=True)
class DriverState:
    """Where the iteration stands: the point and its cost, the damping, counters, and the last step's
    solve info, gain ratio, step length and tries."""

    point: Any
    cost: float
    damping: Damping
    iterations: int = 0
    solves: int = 0
    stalled: bool = False
    info: LeastSquaresInfo | None = None
    gain: float = math.nan
    eta: float = math.nan
    tries: int = 0


class DampedGaussNewton:
    """``init(point, cost, λ₀)``, ``step(state)``, ``terminate(state)``: damped Gauss–Newton on ``problem``.

    The absolute damping of a solve is ``offset + λ · system.unit``. ``terminate`` is true once stalled,
    after ``max_steps`` steps, or at ``cost ≤ atol``.
    """

    def __init__(
        self,
        problem: DampedProblem,
        policy: DampingPolicy,
        max_tries: int = 12,
        offset: float = 0.0,
        max_steps: int | None = None,
        atol: float = 0.0,
    ) -> None:
        self.problem, self.policy, self.max_tries, self.offset = problem, policy, max_tries, offset
        self.max_steps, self.atol = max_steps, atol

    def init(self, point: Any, cost: float, damping: float) -> DriverState:
        return DriverState(point, cost, Damping(damping))

    def step(self, state: DriverState) -> DriverState:
        """One accepted step, or the state marked ``stalled`` after ``max_tries`` refused solves."""
        system = self.problem.linearize(state.point)
        damping, solves = state.damping, state.solves
        for tries in range(1, self.max_tries + 1):
            absolute = self.offset + damping.value * system.unit
            solves += 1
            try:
                delta, info = system.solve(absolute)
                trial = self.problem.propose(state.point, system, delta, info, absolute)
            except torch.linalg.LinAlgError:  # normal equations not numerically positive definite
                trial = None
            if trial is None:
                damping = self.policy.rejected(damping)
                continue
            predicted = info.predicted_decrease(trial.eta)
            gain = (state.cost - trial.cost) / predicted if predicted > 0 else math.nan
            return DriverState(
                trial.point,
                trial.cost,
                self.policy.accepted(Damping(damping.value), gain, trial.eta),
                state.iterations + 1,
                solves,
                False,
                info,
                gain,
                trial.eta,
                tries,
            )
        return replace(state, damping=damping, solves=solves, stalled=True, tries=self.max_tries)

    def terminate(self, state: DriverState) -> bool:
        if state.stalled or state.cost <= self.atol:
            return True
        return self.max_steps is not None and state.iterations >= self.max_steps
