"""Collocation points: fixed (Sobol, Hammersley, pseudo-random, uniform grid), resampled, and RAR.

Interior points come from the domain's own sampling (DeepXDE's geometry); evolution problems on boxes
sample the space-time box at once, so quasi-random sequences stay low-discrepancy in (x, t).
Residual-based adaptive refinement (RAR, Lu, Meng, Mao & Karniadakis 2021, DeepXDE §2.8) adds the
candidate points of largest residual to the interior set; the residual-based adaptive distribution
(RAD, Wu, Zhu, Tan, Kartha & Lu 2023, "A comprehensive study of non-adaptive and residual-based
adaptive sampling for PINNs") redraws them with density ``∝ |r|^k / mean|r|^k + c``.
``near`` (a boundary part of a stationary 2D problem) draws the share ``near_fraction`` of the interior points
graded toward that part (:mod:`pdesolve.pinn.graded`), interleaved with the rest so that every prefix (the
Gauss–Newton warm-up's) holds both.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from pdesolve.errors import PdesolveError
from pdesolve.pinn.graded import near_part
from pdesolve.problem import Box, Coords, Dirichlet, Domain, Gauge, Periodic, Problem
from pdesolve.problem.conditions import Condition

SAMPLING = {"sobol": "Sobol", "hammersley": "Hammersley", "pseudo": "pseudo", "uniform": "uniform"}


@dataclass
class PointSet:
    """Training points (time as the last column) for every loss term."""

    interior: torch.Tensor
    boundary: dict[int, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)  # condition -> (x, n)
    initial: torch.Tensor | None = None
    periodic: list[tuple[int, torch.Tensor, torch.Tensor]] = field(default_factory=list)  # (axis, low, high)


class Sampler:
    """Draws a :class:`PointSet` for the loss terms that are not imposed exactly."""

    def __init__(
        self,
        problem: Problem,
        soft_conditions: list[int],
        soft_initial: bool,
        soft_periodic: bool,
        n_interior: int,
        n_boundary: int,
        n_initial: int,
        method: str = "sobol",
        dtype: torch.dtype = torch.float64,
        device: str | torch.device = "cpu",
        near: str = "",
        near_fraction: float = 0.0,
        time_grading: float = 1.0,
    ) -> None:
        if method not in SAMPLING:
            raise ValueError(f"sampling must be one of {sorted(SAMPLING)}, got {method!r}")
        if near and (problem.is_evolution or not 0 <= near_fraction <= 1):
            raise PdesolveError(
                f"points_near={near!r} needs a stationary 2D problem and points_near_fraction in [0, 1], "
                f"got {near_fraction}"
            )
        if time_grading != 1.0 and (not problem.is_evolution or not time_grading >= 1.0):
            raise PdesolveError(f"time_grading={time_grading} needs an evolution problem and a value of at least 1")
        self.problem = problem
        self.soft_conditions = soft_conditions
        self.soft_initial = soft_initial
        self.soft_periodic = soft_periodic
        self.n_interior, self.n_boundary, self.n_initial = n_interior, n_boundary, n_initial
        self.method = method
        self.dtype, self.device = dtype, device
        self.near, self.near_fraction = near, near_fraction
        self.time_grading = time_grading

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(array), dtype=self.dtype, device=self.device)

    def _times(self, n: int, rng: np.random.Generator) -> np.ndarray:
        t0, t1 = self.problem.time
        return rng.uniform(t0, t1, n)

    def interior(self, n: int, seed: int, method: str | None = None) -> torch.Tensor:
        """``n`` points in the domain (× the time interval), time last."""
        problem, method = self.problem, SAMPLING[method or self.method]
        domain = problem.domain
        if problem.is_evolution and isinstance(domain, Box) and domain.dim < 3:
            t0, t1 = problem.time
            domain = Box((*domain.lower, t0), (*domain.upper, t1))
        graded = round(self.near_fraction * n) if self.near else 0
        points = quiet_interior(domain, n - graded, seed, method) if n > graded else np.empty((0, problem.dim))
        if graded:
            points = interleave(points, near_part(problem, self.near, graded, seed))
        if points.shape[1] == problem.dim and problem.is_evolution:
            points = np.column_stack([points, self._times(len(points), np.random.default_rng(seed))])
        if self.time_grading != 1.0:
            t0, t1 = problem.time
            points[:, -1] = t0 + (t1 - t0) * ((points[:, -1] - t0) / (t1 - t0)) ** self.time_grading
        return self._tensor(points)

    def _on_periodic_face(self, points: np.ndarray) -> np.ndarray:
        if not isinstance(self.problem.domain, Box):
            return np.zeros(len(points), dtype=bool)
        lower, upper = self.problem.domain.bounds
        out = np.zeros(len(points), dtype=bool)
        for k, periodic in enumerate(self.problem.periodic_axes):
            if periodic:
                tol = 1e-10 * (upper[k] - lower[k])
                out |= (np.abs(points[:, k] - lower[k]) < tol) | (np.abs(points[:, k] - upper[k]) < tol)
        return out

    def _boundary(self, seed: int) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
        problem = self.problem
        points, normals = boundary_points(problem.domain, self.n_boundary, seed)
        keep = ~self._on_periodic_face(points)
        points, normals = points[keep], normals[keep]
        if problem.is_evolution:
            points = np.column_stack([points, self._times(len(points), np.random.default_rng(seed + 1))])
        coords = Coords(list(points[:, : problem.dim].T), t=points[:, -1] if problem.is_evolution else None)
        unclaimed = {name: np.ones(len(points), dtype=bool) for name in problem.unknowns}  # per unknown
        out = {}
        for index, condition in enumerate(problem.boundary):
            if isinstance(condition, (Periodic, Gauge)):
                continue
            names = condition.names if problem.is_system and isinstance(condition, Dirichlet) else problem.unknowns
            applies = condition_mask(condition, coords)
            mask = applies & np.any([unclaimed[name] for name in names], axis=0)
            for name in names:
                unclaimed[name] &= ~applies
            if index in self.soft_conditions and mask.any():
                out[index] = (self._tensor(points[mask]), self._tensor(normals[mask]))
        return out

    def _periodic_pairs(self, seed: int) -> list[tuple[int, torch.Tensor, torch.Tensor]]:
        """Points on the lower face of each periodic axis and their images on the upper face."""
        problem = self.problem
        lower, upper = problem.domain.bounds
        pairs = []
        for k, periodic in enumerate(problem.periodic_axes):
            if not periodic:
                continue
            low = self.interior(self.n_boundary, seed + 7 * (k + 1), method="pseudo").cpu().numpy()
            low[:, k] = lower[k]
            high = low.copy()
            high[:, k] = upper[k]
            pairs.append((k, self._tensor(low), self._tensor(high)))
        return pairs

    def draw(self, seed: int, method: str | None = None) -> PointSet:
        """All points for one training round; ``method`` overrides the interior sampling (resampling)."""
        problem = self.problem
        points = PointSet(self.interior(self.n_interior, seed, method))
        if self.soft_conditions:
            points.boundary = self._boundary(seed)
        if self.soft_initial:
            space = quiet_interior(problem.domain, self.n_initial, seed, SAMPLING[self.method])
            points.initial = self._tensor(np.column_stack([space, np.full(len(space), problem.time[0])]))
        if self.soft_periodic:
            points.periodic = self._periodic_pairs(seed)
        return points


def quiet_interior(domain: Domain, n: int, seed: int, method: str) -> np.ndarray:
    """``domain.sample_interior`` without skopt's warning that Sobol sequences like powers of two."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return domain.sample_interior(n, seed=seed, method=method)


def interleave(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The rows of both, each set in its own order, spread evenly through the result."""
    where = np.concatenate([(np.arange(len(first)) + 0.5) / len(first), (np.arange(len(second)) + 0.5) / len(second)])
    return np.concatenate([first, second])[np.argsort(where, kind="stable")]


def boundary_points(domain: Domain, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points and outward normals on the boundary; an interval gets both ends equally often."""
    if isinstance(domain, Box) and domain.dim == 1:
        ends = np.resize([0, 1], max(n, 2))
        return np.array([domain.lower, domain.upper])[ends], np.array([[-1.0], [1.0]])[ends]
    return domain.sample_boundary(n, seed=seed)


def condition_mask(condition: Condition, coords: Coords) -> np.ndarray:
    """Where ``condition`` applies among boundary points (numpy coordinates)."""
    return np.broadcast_to(condition.applies(coords), np.shape(coords[0])).copy()


def rar_select(candidates: torch.Tensor, residual: torch.Tensor, k: int) -> torch.Tensor:
    """The ``k`` candidates with the largest ``|residual|`` (RAR, Lu et al. 2021)."""
    order = torch.argsort(residual.detach().abs(), descending=True)[:k]
    return candidates[order]


def rad_select(
    candidates: torch.Tensor, residual: torch.Tensor, n: int, seed: int, k: float = 1.0, c: float = 1.0
) -> torch.Tensor:
    """``n`` of the candidates drawn without replacement with probability ``∝ |r|^k / mean|r|^k + c`` (RAD)."""
    power = residual.detach().abs().to(torch.float64) ** k
    density = power / power.mean().clamp_min(torch.finfo(torch.float64).tiny) + c
    generator = torch.Generator(device=density.device).manual_seed(seed)
    order = torch.multinomial(density, min(n, len(candidates)), replacement=False, generator=generator)
    return candidates[order]
