"""A smooth distance-like function outside a polygonal hole: the exterior Green's function, by a lightning fit.

The Euclidean distance to a polygon (or any R-function of its sides) has a Laplacian that alternates sector by
sector around the hole, 0 beside a side and ``1/ρ`` ahead of a vertex, however many sides; a network ``N`` in
``u = φN`` then has to undo that pattern and does not. The exterior Green's function with its pole at infinity,

    g harmonic outside the polygon P,  g = 0 on ∂P,  g(z) = log|z − c| + O(1) as |z| → ∞,

is smooth up to the sides, has ``Δg = 0``, and behaves at each vertex like the corner's own singular function
``r^{π/ω} cos(πθ/ω)``. For a circle of radius R, ``R (e^g − 1) = |z − c| − R`` is the Euclidean distance; for a
polygon :func:`hole_potential` returns the same ``R̄ (e^g − 1)`` (R̄ the vertices' mean radius): zero on the sides,
positive outside, ``Δ = R̄ e^g |∇g|²`` without sectors.

``g = log|z − c| + h``, with ``h`` harmonic outside P: a constant, a Laurent tail ``Σ_k κ_k ((z − c)/ρ)^{−k}`` (c the
vertices' mean, ρ its distance to the sides) and simple poles clustered exponentially toward every vertex inside the
hole, ``Σ d_j/(z − p_j)``, fitted by linear
least squares to ``h = −log|z − c|`` on points of the sides clustered toward the vertices (Gopal & Trefethen 2019,
"Solving Laplace problems with corner singularities via rational functions", SIAM J. Numer. Anal. 57(5):2074–2094;
their pole spacing ``L e^{−σ(√n − √j)}``, L the vertex's shorter side). The fit's largest error on the sides is
checked on fresh points; where no fit of ``FITS`` is within ``TOLERANCE`` (sharp corners converge slowly: a
triangle's 45° vertices), :func:`hole_potential` gives ``None`` and the caller keeps the Euclidean distance, since a
hard constraint is exact only to the fit's error.

φ's derivatives of every order come from ``F⁽ᵏ⁾`` of the fitted function in closed form (``g = Re F``; by
Cauchy–Riemann each derivative is the next one's real or imaginary part), not from autograd through its 1,500
columns, and are remembered by the points they were asked at.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import torch

Distance = Callable[[torch.Tensor], torch.Tensor]

TOLERANCE = 1e-12  # largest |g| allowed on the sides and at the vertices: |φ| ≤ R̄ · TOLERANCE there
FITS = ((4.0, 48), (2.8, 64), (2.8, 96))  # (σ, poles per vertex), tried in turn until one meets TOLERANCE
LAURENT_TERMS = 32
VERTEX_WEIGHT = 1e3  # the vertices' rows: a lightning fit is least accurate right at a corner
POINTS_PER_HALF_SIDE = 100
MEMO_BYTES = 64 * 2**20  # what the remembered evaluations (points and values) may hold


def _vertex_poles(vertices: np.ndarray, centre: complex, count: int, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Poles on each vertex's line toward the centre at distances ``L e^{−σ(√n − √j)}`` (L the shorter side),
    and those distances (each pole's column is scaled by its own distance)."""
    z = vertices[:, 0] + 1j * vertices[:, 1]
    shorter = np.minimum(np.abs(z - np.roll(z, 1)), np.abs(np.roll(z, -1) - z))
    inward = (centre - z) / np.abs(centre - z)
    steps = np.exp(-sigma * (math.sqrt(count) - np.sqrt(np.arange(1, count + 1))))
    distances = shorter[:, None] * steps[None, :]
    return (z[:, None] + inward[:, None] * distances).ravel(), distances.ravel()


def _side_points(vertices: np.ndarray, per_half: int) -> np.ndarray:
    """Points of every side, clustered exponentially toward both of its ends (from 1e-10 of its length), and as
    many again spread evenly (between the fit points the Laurent tail must not oscillate)."""
    z = vertices[:, 0] + 1j * vertices[:, 1]
    half = np.logspace(-10, math.log10(0.5), per_half)
    s = np.concatenate([half, np.linspace(0.0, 1.0, 2 * per_half)[1:-1], 1 - half[::-1]])
    return (z[:, None] + (np.roll(z, -1) - z)[:, None] * s[None, :]).ravel()


class _Basis:
    """The columns of ``h``: 1, Re/Im ``(ρ/(z − c))^k`` for k = 1 … K, Re/Im ``δ_j/(z − p_j)``."""

    def __init__(self, centre: complex, rho: float, poles: np.ndarray, scales: np.ndarray, terms: int) -> None:
        self.centre, self.rho, self.poles, self.scales, self.terms = centre, rho, poles, scales, terms

    def columns(self, z: np.ndarray) -> np.ndarray:
        q = self.rho / (z - self.centre)
        powers = q[:, None] ** np.arange(1, self.terms + 1)[None, :]
        fractions = self.scales[None, :] / (z[:, None] - self.poles[None, :])
        return np.column_stack([np.ones(len(z)), powers.real, powers.imag, fractions.real, fractions.imag])

    def derivatives(self, coefficients: np.ndarray) -> Callable[[torch.Tensor, int], torch.Tensor]:
        """``(points, k) ↦ (Re, Im) F⁽ᵏ⁾(z)`` for ``F = log(z − c) + h``, h's analytic extension: every term's
        k-th derivative in closed form (``(z − a)^{−m}`` gives ``(−1)^k m(m+1)…(m+k−1) (z − a)^{−m−k}``)."""
        terms, count = self.terms, len(self.poles)
        real, imag = coefficients[1 : 1 + terms], coefficients[1 + terms : 1 + 2 * terms]
        pole_real, pole_imag = (
            coefficients[1 + 2 * terms : 1 + 2 * terms + count],
            coefficients[1 + 2 * terms + count :],
        )
        exponents = np.arange(1, terms + 1)
        # Re(κ q^m) = a Re q^m + b Im q^m with κ = a − ib, and q^m = ρ^m (z − c)^{−m}
        laurent = torch.as_tensor((real - 1j * imag) * self.rho**exponents)
        residues = torch.as_tensor(self.scales * (pole_real - 1j * pole_imag))
        poles, powers = torch.as_tensor(self.poles), torch.as_tensor(exponents, dtype=torch.float64)
        constant, centre = float(coefficients[0]), self.centre

        def evaluate(points: torch.Tensor, k: int) -> torch.Tensor:
            z = torch.complex(points[:, 0], points[:, 1])
            sign = -1.0 if k % 2 else 1.0
            inverse = 1 / (z - centre)
            inverse_powers = torch.cumprod(inverse[:, None].expand(-1, terms + k), dim=1)[:, k:]  # (z − c)^{−m−k}
            rising = torch.exp(torch.lgamma(powers + k) - torch.lgamma(powers))  # m(m+1)…(m+k−1)
            value = inverse_powers @ (sign * rising * laurent).to(z)
            value = value + (1 / (z[:, None] - poles.to(z))) ** (k + 1) @ (sign * math.factorial(k) * residues.to(z))
            if k == 0:
                value = value + torch.log(z - centre) + constant
            else:
                value = value - sign * math.factorial(k - 1) * inverse**k  # log's: (−1)^{k−1} (k−1)! (z − c)^{−k}
            return torch.stack([value.real, value.imag], dim=1)

        return _memoized(evaluate)


def _memoized(
    evaluate: Callable[[torch.Tensor, int], torch.Tensor], budget: int = MEMO_BYTES
) -> Callable[[torch.Tensor, int], torch.Tensor]:
    """``evaluate`` remembered by the points' bytes, the oldest forgotten beyond ``budget`` bytes (keys and values):
    a trainer evaluates the distance and its derivatives at the same collocation points at every loss evaluation
    of its line search."""
    remembered: OrderedDict[tuple, torch.Tensor] = OrderedDict()
    held = 0

    def size(key: tuple, value: torch.Tensor) -> int:
        return len(key[-1]) + value.numel() * value.element_size()

    def cached(points: torch.Tensor, k: int) -> torch.Tensor:
        nonlocal held
        key = (k, points.dtype, points.device, points.shape, points.detach().cpu().numpy().tobytes())
        if key in remembered:
            remembered.move_to_end(key)
            return remembered[key].clone()
        value = evaluate(points, k)
        if (needed := size(key, value)) <= budget:
            remembered[key] = value
            held += needed
        while held > budget:
            held -= size(*remembered.popitem(last=False))
        return value.clone()

    return cached


class _AnalyticDerivative(torch.autograd.Function):
    """``(Re, Im) F⁽ᵏ⁾(x + iy)`` of an analytic F, differentiable to any order: by Cauchy–Riemann
    ``∂ₓF⁽ᵏ⁾ = F⁽ᵏ⁺¹⁾`` and ``∂ᵧF⁽ᵏ⁾ = i F⁽ᵏ⁺¹⁾``, so each backward is the next derivative, itself differentiable."""

    @staticmethod
    def forward(ctx, points: torch.Tensor, evaluate: Callable, k: int) -> torch.Tensor:  # noqa: ANN001
        ctx.save_for_backward(points)
        ctx.evaluate, ctx.k = evaluate, k
        return evaluate(points, k)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:  # noqa: ANN001
        (points,) = ctx.saved_tensors
        following = _AnalyticDerivative.apply(points, ctx.evaluate, ctx.k + 1)
        re, im = following[:, 0], following[:, 1]
        gx = grad[:, 0] * re + grad[:, 1] * im
        gy = grad[:, 1] * re - grad[:, 0] * im
        return torch.stack([gx, gy], dim=1), None, None


def _fit(vertices: np.ndarray) -> tuple[_Basis, np.ndarray] | None:
    """The basis and coefficients of the first of ``FITS`` whose ``h`` misses ``−log|z − c|`` on 20,000 fresh
    points of the sides and at the vertices by at most ``TOLERANCE``; ``None`` if none does."""
    z = vertices[:, 0] + 1j * vertices[:, 1]
    centre = complex(z.mean())
    following = np.roll(z, -1)
    along = np.clip(((centre - z) * np.conj(following - z)).real / np.abs(following - z) ** 2, 0.0, 1.0)
    inner = float(np.abs(z + along * (following - z) - centre).min())  # the centre's distance to the sides
    fit_points = np.concatenate([_side_points(vertices, POINTS_PER_HALF_SIDE), z])
    weights = np.concatenate([np.ones(len(fit_points) - len(z)), np.full(len(z), VERTEX_WEIGHT)])[:, None]
    target = -np.log(np.abs(fit_points - centre))
    rng = np.random.default_rng(0)
    side = rng.integers(0, len(z), 20000)
    checked = np.concatenate([z[side] + (following - z)[side] * rng.random(20000), z])
    for sigma, count in FITS:
        basis = _Basis(centre, inner, *_vertex_poles(vertices, centre, count, sigma), LAURENT_TERMS)
        matrix = basis.columns(fit_points)
        norms = np.abs(matrix).max(axis=0)
        coefficients, *_ = np.linalg.lstsq(weights * matrix / norms, weights[:, 0] * target, rcond=1e-14)
        coefficients = coefficients / norms
        miss = np.abs(basis.columns(checked) @ coefficients + np.log(np.abs(checked - centre))).max()
        if miss <= TOLERANCE:
            return basis, coefficients
    return None


@functools.lru_cache(maxsize=16)
def _cached_fit(vertices: tuple[tuple[float, float], ...]) -> tuple[_Basis, np.ndarray] | None:
    return _fit(np.array(vertices, dtype=float))


def hole_potential(vertices: np.ndarray) -> Distance | None:
    """``R̄ (e^g − 1)`` for the polygonal hole with ``vertices`` (in order, either orientation), ``g`` its
    exterior Green's function fitted as in the module's docstring; ``None`` where no fit of ``FITS`` meets
    ``TOLERANCE`` (sharp corners: a triangle's)."""
    vertices = np.asarray(vertices, dtype=float)
    fitted = _cached_fit(tuple(map(tuple, vertices.tolist())))
    if fitted is None:
        return None
    basis, coefficients = fitted
    derivatives = basis.derivatives(coefficients)
    centre = basis.centre
    mean_radius = float(np.abs(vertices[:, 0] + 1j * vertices[:, 1] - centre).mean())

    def phi(points: torch.Tensor) -> torch.Tensor:
        g = _AnalyticDerivative.apply(points[:, :2].double(), derivatives, 0)[:, 0]
        return (mean_radius * torch.expm1(g)).to(points.dtype)

    return phi
