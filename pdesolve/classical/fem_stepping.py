"""Implicit time steps of ``M u' = G(u, t)`` with variable steps: the θ-method and BDF2, Newton inside.

θ-method: ``M (u⁺ − u)/h = θ G(u⁺, t + h) + (1 − θ) G(u, t)`` (θ = 1/2: Crank–Nicolson).
Variable-step BDF2 (Hairer & Wanner, "Solving ODEs II", §III.5), with ``ω = h_n / h_{n−1}``:

    M (a₀ u⁺ − (1 + ω) u_n + ω²/(1 + ω) u_{n−1}) / h_n = G(u⁺, t + h_n),    a₀ = (1 + 2ω)/(1 + ω);

its first step is Crank–Nicolson. Rows of Dirichlet degrees of freedom are replaced by their values
at the new time. Adaptive steps (Milne's device): the local error is estimated from the difference
of the step and the polynomial extrapolation ``p`` of degree ``q`` (the scheme's order) through the
last ``q + 1`` accepted levels, ``est = C / (C + P) ‖u⁺ − p‖_∞``, with ``C`` and ``P`` the leading
error coefficients of the scheme and of the extrapolation for the actual steps; a step is accepted
when ``est ≤ tol · max(1, ‖u⁺‖_∞)`` and the next is ``h · clip(0.9 (tol / est)^{1/(q+1)}, 0.2, 2)``.
The first ``q`` steps, without an estimate, are ``tol^{1/(q+1)} / 10`` of the interval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from pdesolve.classical.newton import newton
from pdesolve.errors import DivergenceError

MIN_FRACTION = 1e-12


@dataclass
class Stepper:
    """``M u' = G(u, t)``; ``linearise(u, t)`` gives ``(G, ∂G/∂u)``, ``dirichlet(t)`` the fixed values."""

    mass: sp.csr_matrix
    residual: Callable[[np.ndarray, float], np.ndarray]
    linearise: Callable[[np.ndarray, float], tuple[np.ndarray, sp.csr_matrix]]
    dirichlet: Callable[[float], np.ndarray]
    free: np.ndarray
    scheme: str = "bdf2"
    theta: float = 0.5
    newton_tol: float = 1e-10
    times: list[float] = field(default_factory=list)
    levels: list[np.ndarray] = field(default_factory=list)
    newton_iterations: int = 0
    rejected: int = 0

    def __post_init__(self) -> None:
        self.mass_rows = self.mass[self.free].tocsr()
        self.mass_free = self.mass_rows[:, self.free].tocsr()

    @property
    def order(self) -> int:
        return 2 if self.scheme == "bdf2" or self.theta == 0.5 else 1

    def _coefficients(self, h: float) -> tuple[float, np.ndarray, float, np.ndarray | None]:
        """``(a, H, w, E)`` of ``M (a u⁺ − H) / h = w G(u⁺) + E`` for a step of ``h``."""
        u_n, t_n = self.levels[-1], self.times[-1]
        if self.scheme == "bdf2" and len(self.levels) >= 2:
            omega = h / (t_n - self.times[-2])
            history = (1 + omega) * u_n - omega**2 / (1 + omega) * self.levels[-2]
            return (1 + 2 * omega) / (1 + omega), history, 1.0, None
        theta = 0.5 if self.scheme == "bdf2" else self.theta
        explicit = None if theta == 1 else (1 - theta) * self.residual(u_n, t_n)[self.free]
        return 1.0, u_n, theta, explicit

    def step(self, h: float, guess: np.ndarray) -> np.ndarray:
        """The level at ``t_n + h`` (Newton from ``guess``)."""
        t = self.times[-1] + h
        a, history, weight, explicit = self._coefficients(h)
        full = self.dirichlet(t)
        free, mass = self.free, self.mass_rows

        def embed(y: np.ndarray) -> np.ndarray:
            values = full.copy()
            values[free] = y
            return values

        def equation(u: np.ndarray, G: np.ndarray) -> np.ndarray:
            r = mass @ (a * u - history) / h - weight * G[free]
            return r if explicit is None else r - explicit

        def linearised(y: np.ndarray):
            u = embed(y)
            G, J = self.linearise(u, t)
            return equation(u, G), (a / h) * self.mass_free - weight * J[free][:, free]

        result = newton(
            lambda y: equation(embed(y), self.residual(embed(y), t)), linearised, guess[free], tol=self.newton_tol
        )
        self.newton_iterations += result.iterations
        return embed(result.y)

    def extrapolate(self, t: float, degree: int) -> np.ndarray:
        """The polynomial through the last ``degree + 1`` levels (fewer when fewer exist) at ``t``."""
        count = min(degree + 1, len(self.levels))
        return _lagrange(self.times[-count:], self.levels[-count:], t)

    def estimate(self, h: float, u: np.ndarray) -> float | None:
        """Milne's estimate of the local error of the step of ``h`` to ``u``; None without enough levels."""
        q = self.order
        if len(self.levels) < q + 1:
            return None
        t = self.times[-1] + h
        gaps = [t - s for s in self.times[-(q + 1) :]]
        predictor = float(np.prod(gaps)) / (q + 1) / (2 if q == 2 else 1)  # Π (t − t_i) / (q + 1)!
        if self.scheme == "bdf2":
            omega = h / (self.times[-1] - self.times[-2])
            scheme = h * h * (h + self.times[-1] - self.times[-2]) / 6 / ((1 + 2 * omega) / (1 + omega))
        elif q == 2:
            scheme = h**3 / 12
        else:
            scheme = abs(self.theta - 0.5) * h * h
        return scheme / (scheme + predictor) * float(np.max(np.abs(u - self.extrapolate(t, q))))


def _lagrange(times: list[float], levels: list[np.ndarray], t: float) -> np.ndarray:
    total = np.zeros_like(levels[0])
    for i, (t_i, level) in enumerate(zip(times, levels)):
        weight = np.prod([(t - t_j) / (t_i - t_j) for j, t_j in enumerate(times) if j != i])
        total = total + weight * level
    return total


def integrate(
    stepper: Stepper,
    u0: np.ndarray,
    t0: float,
    t1: float,
    outputs: np.ndarray,
    dt: float,
    tol: float,
    progress: Callable[[float], None] = lambda advanced: None,
) -> tuple[np.ndarray, int]:
    """Levels at the ``outputs`` times (dense output: the polynomial through the last levels), and the
    number of accepted steps. ``dt > 0``: fixed steps of about ``dt``; else adaptive to ``tol``."""
    stepper.times, stepper.levels = [t0], [u0]
    span = t1 - t0
    if dt > 0:
        h = span / max(1, round(span / dt))
    else:
        h = span * tol ** (1 / (stepper.order + 1)) / 10
    snapshots, pending, steps = [u0], 1, 0
    while stepper.times[-1] < t1 - MIN_FRACTION * span:
        h = min(h, t1 - stepper.times[-1])
        try:
            u = stepper.step(h, stepper.extrapolate(stepper.times[-1] + h, stepper.order))
        except DivergenceError:
            if dt > 0 or h < MIN_FRACTION * span:
                raise
            h, stepper.rejected = h / 4, stepper.rejected + 1
            continue
        if not np.all(np.isfinite(u)):
            raise DivergenceError(f"the solution became NaN or infinite at t = {stepper.times[-1] + h:.6g}")
        error = None if dt > 0 else stepper.estimate(h, u)
        factor = 2.0
        if error is not None:
            scale = tol * max(1.0, float(np.max(np.abs(u))))
            factor = float(np.clip(0.9 * (scale / max(error, 1e-300)) ** (1 / (stepper.order + 1)), 0.2, 2.0))
            if error > scale:
                h, stepper.rejected = h * factor, stepper.rejected + 1
                continue
        stepper.times.append(stepper.times[-1] + h)
        stepper.levels.append(u)
        stepper.times, stepper.levels = stepper.times[-3:], stepper.levels[-3:]
        steps += 1
        progress(h)
        while pending < len(outputs) and outputs[pending] <= stepper.times[-1] + MIN_FRACTION * span:
            snapshots.append(stepper.extrapolate(outputs[pending], stepper.order))
            pending += 1
        if dt <= 0:
            h *= factor
    while pending < len(outputs):
        snapshots.append(stepper.levels[-1])
        pending += 1
    return np.stack(snapshots), steps
