"""Seeded parametric families: random coefficient fields and random initial conditions.

A family maps parameter names to samplers; ``problem.sample(seed)`` draws one member. Fields are
Gaussian random fields with covariance ``σ² (-Δ + τ² I)^(-α)`` (Karhunen–Loève expansion in the
Laplacian's eigenfunctions: Fourier modes when periodic, cosines for homogeneous Neumann as in the
FNO paper's Darcy data, Li et al. 2021), optionally thresholded into piecewise-constant fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.fft
from scipy.interpolate import RegularGridInterpolator

from pdesolve.problem.coords import Coords
from pdesolve.problem.grid import Grid
from pdesolve.problem.tensors import tensor_library


class GridFunction:
    """A function given by values on a grid, evaluated anywhere by (periodic) linear interpolation."""

    def __init__(self, grid: Grid, values: np.ndarray) -> None:
        self.grid = grid
        self.values = np.asarray(values, dtype=float)
        axes, padded = list(grid.axes), self.values
        for k, periodic in enumerate(grid.periodic):
            if periodic:  # close the period so interpolation wraps around
                axes[k] = np.append(axes[k], grid.upper[k])
                padded = np.concatenate([padded, np.take(padded, [0], axis=k)], axis=k)
        self._interpolator = RegularGridInterpolator(axes, padded, bounds_error=False, fill_value=None)

    def __call__(self, x: Coords) -> Any:
        coords = [c.detach().cpu().numpy() if tensor_library(c) else np.asarray(c, dtype=float) for c in x]
        shape = np.shape(coords[0])
        points = np.stack([np.broadcast_to(c, shape).ravel() for c in coords], axis=1)
        for k, periodic in enumerate(self.grid.periodic):
            if periodic:
                lo, hi = self.grid.lower[k], self.grid.upper[k]
                points[:, k] = lo + np.mod(points[:, k] - lo, hi - lo)
        values = self._interpolator(points).reshape(shape)
        torch = tensor_library(x[0])
        if torch:
            return torch.as_tensor(values, dtype=x[0].dtype, device=x[0].device)
        return values


@dataclass(frozen=True)
class GaussianRandomField:
    """Samples of a GRF ``N(0, σ² (-Δ + τ² I)^(-α))`` on a box, as :class:`GridFunction`."""

    lower: tuple[float, ...]
    upper: tuple[float, ...]
    resolution: int
    alpha: float = 2.0
    tau: float = 3.0
    sigma: float = 1.0
    boundary: Literal["periodic", "neumann"] = "periodic"

    def grid(self) -> Grid:
        dim = len(self.lower)
        periodic = self.boundary == "periodic"
        return Grid(tuple(self.lower), tuple(self.upper), (self.resolution,) * dim, (periodic,) * dim)

    def sample(self, rng: np.random.Generator) -> GridFunction:
        return GridFunction(self.grid(), GRF_SERIES[self.boundary](self, rng))


def _fourier_series(field: GaussianRandomField, rng: np.random.Generator) -> np.ndarray:
    """A periodic sample: complex Fourier modes, mean-free."""
    grid = field.grid()
    lengths = np.array(field.upper) - np.array(field.lower)
    ks = np.meshgrid(*[grid.wavenumbers(k) for k in range(grid.dim)], indexing="ij")
    eigen = field.sigma**2 * (sum(k**2 for k in ks) + field.tau**2) ** (-field.alpha)
    eigen[(0,) * grid.dim] = 0.0  # mean-free
    noise = rng.standard_normal(grid.shape) + 1j * rng.standard_normal(grid.shape)
    # Re Σ sqrt(λ_k) ξ_k exp(ikx)/sqrt(|Ω|) has exactly the covariance Σ λ_k cos(k(x-y))/|Ω|
    coefficients = np.sqrt(eigen / np.prod(lengths)) * noise * grid.size
    return np.fft.ifftn(coefficients).real


def _cosine_series(field: GaussianRandomField, rng: np.random.Generator) -> np.ndarray:
    """A sample with zero normal derivative on the boundary: cosine modes, mean-free."""
    grid = field.grid()
    lengths = np.array(field.upper) - np.array(field.lower)
    n = field.resolution
    ks = np.meshgrid(*[np.pi * np.arange(n) / length for length in lengths], indexing="ij")
    eigen = field.sigma**2 * (sum(k**2 for k in ks) + field.tau**2) ** (-field.alpha)
    eigen[(0,) * grid.dim] = 0.0
    coefficients = np.sqrt(eigen) * rng.standard_normal(grid.shape)
    # cosine modes on the cell-centred grid (DCT-II), sampled at the nodes by interpolation
    return scipy.fft.idctn(coefficients, norm="ortho") * np.sqrt(grid.size / np.prod(lengths))


GRF_SERIES = {"periodic": _fourier_series, "neumann": _cosine_series}  # GaussianRandomField.boundary -> its series


@dataclass(frozen=True)
class Thresholded:
    """``high`` where a random field is ≥ ``level``, ``low`` elsewhere (the FNO Darcy coefficients)."""

    field: GaussianRandomField
    high: float = 12.0
    low: float = 3.0
    level: float = 0.0

    def sample(self, rng: np.random.Generator) -> GridFunction:
        base = self.field.sample(rng)
        return GridFunction(base.grid, np.where(base.values >= self.level, self.high, self.low))


class Family:
    """Named samplers; ``draw(seed)`` gives one parameter set of the family."""

    def __init__(self, **samplers: Any) -> None:
        self.samplers = samplers

    def draw(self, seed: int) -> dict[str, Any]:
        rng = np.random.default_rng(seed)
        return {name: sampler.sample(rng) for name, sampler in self.samplers.items()}

    def __repr__(self) -> str:
        return f"Family({', '.join(self.samplers)})"
