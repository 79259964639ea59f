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

Differential-algebraic systems (``M`` zero on the rows of the algebraic unknowns, e.g. a pressure and
its gauge's multiplier) take the algebraic rows implicitly in every scheme, ``0 = G_alg(u⁺)``, and only
the differential degrees of freedom enter the error estimate. Their start is made consistent first
(:func:`consistent_start`): two backward Euler steps of ``10⁻⁶`` of the interval, the first projecting
the initial data onto the constraint, the second giving the algebraic unknowns (the pressure) that the
Crank–Nicolson start of BDF2 and the θ-method read at the old level. Where ``G`` is affine with a constant
Jacobian (a linear problem), the matrix ``a M / h − w J`` of a step depends on ``h`` only: its LU
factorisation is kept and reused while the step does not change. ``linearly_implicit`` replaces the
Newton iteration by one Newton step from the extrapolated state (a linearly implicit scheme: one
factorisation per step, the order of the scheme kept since the extrapolation is accurate to it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from pdesolve.classical.newton import newton
from pdesolve.errors import DivergenceError

Factor = Callable[[sp.spmatrix], Callable[[np.ndarray], np.ndarray]]


def sparse_factor(matrix: sp.spmatrix) -> Callable[[np.ndarray], np.ndarray]:
    """A solve with ``matrix`` by SuperLU (its default ordering)."""
    try:
        factors = spla.splu(sp.csc_matrix(matrix))
    except RuntimeError as error:  # exactly singular
        raise DivergenceError(f"the step's matrix is singular ({error})") from None

    def solve(right: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return factors.solve(right)

    return solve


MIN_FRACTION = 1e-12

Coefficients = tuple[float, np.ndarray, float, np.ndarray | None]  # (a, H, w, E) of a step, see Stepper


@dataclass(frozen=True)
class ThetaScheme:
    """The θ-method, ``M (u⁺ − u_n)/h = θ G(u⁺) + (1 − θ) G(u_n)``: order 2 at θ = 1/2 (Crank–Nicolson), else 1."""

    theta: float = 0.5

    @property
    def order(self) -> int:
        return 2 if self.theta == 0.5 else 1

    def coefficients(self, stepper: Stepper, h: float) -> Coefficients:
        u_n, t_n = stepper.levels[-1], stepper.times[-1]
        theta = self.theta
        explicit = None if theta == 1 else (1 - theta) * stepper.evaluate(u_n, t_n)[stepper.free] * stepper.differential
        return 1.0, u_n, theta, explicit

    def error_constant(self, stepper: Stepper, h: float) -> float:
        """``C`` of the local error ``C u⁽ᵠ⁺¹⁾`` of a step of ``h``."""
        return h**3 / 12 if self.order == 2 else abs(self.theta - 0.5) * h * h


CRANK_NICOLSON = ThetaScheme(0.5)


@dataclass(frozen=True)
class BDF2Scheme:
    """Variable-step BDF2 (order 2), its first step Crank–Nicolson."""

    order = 2

    def coefficients(self, stepper: Stepper, h: float) -> Coefficients:
        if len(stepper.levels) < 2:
            return CRANK_NICOLSON.coefficients(stepper, h)
        u_n, t_n = stepper.levels[-1], stepper.times[-1]
        omega = h / (t_n - stepper.times[-2])
        history = (1 + omega) * u_n - omega**2 / (1 + omega) * stepper.levels[-2]
        return (1 + 2 * omega) / (1 + omega), history, 1.0, None

    def error_constant(self, stepper: Stepper, h: float) -> float:
        """``C`` of the local error ``C u‴`` of a step of ``h``."""
        omega = h / (stepper.times[-1] - stepper.times[-2])
        return h * h * (h + stepper.times[-1] - stepper.times[-2]) / 6 / ((1 + 2 * omega) / (1 + omega))


TimeScheme = ThetaScheme | BDF2Scheme
SCHEMES: dict[str, Callable[[float], TimeScheme]] = {"bdf2": lambda theta: BDF2Scheme(), "theta": ThetaScheme}


@dataclass
class Stepper:
    """``M u' = G(u, t)``; ``linearise(u, t)`` gives ``(G, ∂G/∂u)``, ``residual(u, t)`` (None: from
    ``linearise``) ``G`` alone, ``dirichlet(t)`` the fixed values. ``constant_jacobian``: ``∂G/∂u`` does not
    depend on ``u`` or ``t`` (its factorisations are reused); ``factor`` builds a solve with a matrix; ``scheme``:
    the time discretisation (:data:`SCHEMES`)."""

    mass: sp.csr_matrix
    residual: Callable[[np.ndarray, float], np.ndarray] | None
    linearise: Callable[[np.ndarray, float], tuple[np.ndarray, sp.csr_matrix]]
    dirichlet: Callable[[float], np.ndarray]
    free: np.ndarray
    scheme: TimeScheme = BDF2Scheme()
    newton_tol: float = 1e-10
    constant_jacobian: bool = False
    linearly_implicit: bool = False
    factor: Factor = sparse_factor
    times: list[float] = field(default_factory=list)
    levels: list[np.ndarray] = field(default_factory=list)
    newton_iterations: int = 0
    rejected: int = 0
    factorisations: int = 0

    def __post_init__(self) -> None:
        self.mass_rows = self.mass[self.free].tocsr()
        self.mass_free = self.mass_rows[:, self.free].tocsr()
        self.differential = np.asarray(abs(self.mass_free).sum(axis=1)).ravel() > 0  # free rows with a mass
        self.measured = self.free[self.differential]  # the degrees of freedom the error estimate reads
        self._factors: dict[tuple[float, float], Callable[[np.ndarray], np.ndarray]] = {}

    def evaluate(self, u: np.ndarray, t: float) -> np.ndarray:
        return self.residual(u, t) if self.residual is not None else self.linearise(u, t)[0]

    def _solve(self, matrix: sp.spmatrix, right: np.ndarray, key: tuple[float, float]) -> np.ndarray:
        """``matrix⁻¹ right``; the factorisation kept for ``key`` when the Jacobian is constant."""
        solve = self._factors.get(key) if self.constant_jacobian else None
        if solve is None:
            solve, self.factorisations = self.factor(matrix), self.factorisations + 1
            if self.constant_jacobian:
                self._factors = {**dict(list(self._factors.items())[-1:]), key: solve}
        return solve(right)

    @property
    def order(self) -> int:
        return self.scheme.order

    def step(self, h: float, guess: np.ndarray) -> np.ndarray:
        """The level at ``t_n + h`` (Newton from ``guess``)."""
        t = self.times[-1] + h
        a, history, weight, explicit = self.scheme.coefficients(self, h)  # M (a u⁺ − H) / h = w G(u⁺) + E
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

        key = (float(f"{a / h:.12g}"), weight)  # the same matrix up to round-off in h
        if self.linearly_implicit:
            r, matrix = linearised(guess[free])
            self.newton_iterations += 1
            return embed(guess[free] - self._solve(matrix, r, key))
        result = newton(
            None if self.residual is None else lambda y: equation(embed(y), self.residual(embed(y), t)),
            linearised,
            guess[free],
            tol=self.newton_tol,
            solve=lambda matrix, right: self._solve(matrix, right, key),
        )
        self.newton_iterations += result.iterations
        return embed(result.y)

    def derivative(self) -> np.ndarray:
        """``u'`` at the last level: the derivative of the polynomial through the last (up to 3) levels, which
        is the BDF2 formula once there are three."""
        times, levels = self.times[-3:], self.levels[-3:]
        t = times[-1]
        total = np.zeros_like(levels[-1])
        for i, t_i in enumerate(times):
            others = [t_j for j, t_j in enumerate(times) if j != i]
            weight = sum(np.prod([(t - t_k) for t_k in others if t_k != t_j]) for t_j in others) / np.prod(
                [t_i - t_j for t_j in others]
            )
            total = total + weight * levels[i]
        return total

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
        scheme = self.scheme.error_constant(self, h)
        difference = (u - self.extrapolate(t, q))[self.measured]
        return scheme / (scheme + predictor) * float(np.max(np.abs(difference), initial=0.0))


def consistent_start(stepper: Stepper, u0: np.ndarray, t0: float, span: float) -> np.ndarray:
    """``u0`` with its differential part projected onto the constraints and its algebraic part (a pressure)
    consistent with them: two linearly implicit backward Euler steps of ``ε = 10⁻⁶ span`` (errors ``O(ε)``;
    a smaller ε lets round-off in the constraint rows, amplified by ``1/ε``, reach the pressure); ``u0``
    itself when every degree of freedom is differential."""
    if stepper.differential.all():
        return u0
    eps, saved = 1e-6 * span, (stepper.scheme, stepper.linearly_implicit)
    stepper.scheme, stepper.linearly_implicit = ThetaScheme(1.0), True
    try:
        stepper.times, stepper.levels = [t0], [u0]
        projected = stepper.step(eps, u0)
        stepper.times, stepper.levels = [t0], [projected]
        settled = stepper.step(eps, projected)
    finally:
        stepper.scheme, stepper.linearly_implicit = saved
    algebraic = stepper.free[~stepper.differential]
    projected[algebraic] = settled[algebraic]
    projected[np.setdiff1d(np.arange(len(u0)), stepper.free)] = u0[np.setdiff1d(np.arange(len(u0)), stepper.free)]
    return projected


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
    observe: Callable[[Stepper], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Levels at the ``outputs`` times (dense output: the polynomial through the last levels), and the
    number of accepted steps. ``dt > 0``: fixed steps of about ``dt``; else adaptive to ``tol``.
    ``observe(stepper)`` sees every accepted level (``stepper.times[-1]``, ``stepper.levels[-1]``)."""
    span = t1 - t0
    u0 = consistent_start(stepper, u0, t0, span)
    stepper.times, stepper.levels = [t0], [u0]
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
            scale = tol * max(1.0, float(np.max(np.abs(u[stepper.measured]), initial=0.0)))
            factor = float(np.clip(0.9 * (scale / max(error, 1e-300)) ** (1 / (stepper.order + 1)), 0.2, 2.0))
            if error > scale:
                h, stepper.rejected = h * factor, stepper.rejected + 1
                continue
        stepper.times.append(stepper.times[-1] + h)
        stepper.levels.append(u)
        stepper.times, stepper.levels = stepper.times[-3:], stepper.levels[-3:]
        steps += 1
        progress(h)
        if observe is not None:
            observe(stepper)
        while pending < len(outputs) and outputs[pending] <= stepper.times[-1] + MIN_FRACTION * span:
            snapshots.append(stepper.extrapolate(outputs[pending], stepper.order))
            pending += 1
        if dt <= 0:
            h *= factor
    while pending < len(outputs):
        snapshots.append(stepper.levels[-1])
        pending += 1
    return np.stack(snapshots), steps


def jacobian_is_constant(
    linearise: Callable[[np.ndarray, float], tuple[np.ndarray, sp.spmatrix]], u: np.ndarray, t0: float, t1: float
) -> bool:
    """Whether ``∂G/∂u`` is the same at ``u`` and a perturbed state, and at ``t0`` and ``t1`` (``G`` affine in
    ``u`` with coefficients constant in time: a linear problem whose step matrices can be factored once)."""
    rng = np.random.default_rng(0)
    other = u + rng.standard_normal(u.shape) * (1 + float(np.max(np.abs(u), initial=0.0)))
    J = linearise(u, t0)[1]
    scale = max(float(abs(J).max()), 1e-300)
    return all(float(abs(J - K).max()) <= 1e-12 * scale for K in (linearise(other, t0)[1], linearise(u, t1)[1]))
