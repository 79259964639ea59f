"""A fixed uniform partition of a box (space, and optionally time) into experts.

Chalapathi, Du & Krishnapriyan ("Scaling physics-informed hard constraints with mixture-of-experts",
ICLR 2024) split the domain into a uniform grid of subdomains; each expert enforces the PDE on its own
subdomain with its own basis weights, and no continuity is imposed between experts. One expert is the
single global hard constraint. :meth:`ExpertPartition.blend_weights` gives a smooth partition of unity on the
subdomains widened by an overlap, to blend the experts' fields instead of cutting them at the interfaces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from pdesolve.errors import PdesolveError

Array = np.ndarray | torch.Tensor


@dataclass(frozen=True)
class ExpertPartition:
    """``splits[a]`` equal pieces along axis ``a`` of ``[lower, upper]``; experts numbered in C order. Along
    ``periodic`` axes (default none) widened subdomains and blends wrap around.

    >>> ExpertPartition((0.0,), (1.0,), (4,)).assign(np.array([[0.1], [0.3], [1.0]])).tolist()
    [0, 1, 3]
    """

    lower: tuple[float, ...]
    upper: tuple[float, ...]
    splits: tuple[int, ...]
    periodic: tuple[bool, ...] = ()

    def __post_init__(self) -> None:
        if not self.periodic:
            object.__setattr__(self, "periodic", (False,) * len(self.splits))
        if not (len(self.lower) == len(self.upper) == len(self.splits) == len(self.periodic)):
            raise PdesolveError("an expert partition needs one split count per axis")
        if any(s < 1 for s in self.splits):
            raise PdesolveError(f"expert splits must be positive, got {self.splits}")

    @classmethod
    def for_axes(
        cls,
        lower: tuple[float, ...],
        upper: tuple[float, ...],
        experts: int | tuple[int, ...],
        periodic: tuple[bool, ...] = (),
    ) -> ExpertPartition:
        """``experts`` pieces along the first axis (an int), or a split count per axis (a tuple)."""
        if isinstance(experts, int):
            experts = (experts,) + (1,) * (len(lower) - 1)
        bounds = tuple(float(v) for v in lower), tuple(float(v) for v in upper)
        return cls(*bounds, tuple(int(s) for s in experts), tuple(bool(p) for p in periodic))

    @property
    def count(self) -> int:
        return int(np.prod(self.splits))

    def cells(self, points: np.ndarray) -> np.ndarray:
        """The cell of each point along each axis, (R, axes) (rows of ``points`` hold one coordinate per axis)."""
        points = np.asarray(points, dtype=float).reshape(-1, len(self.splits))
        lower, upper, splits = np.array(self.lower), np.array(self.upper), np.array(self.splits)
        relative = (points - lower) / np.where(upper > lower, upper - lower, 1.0)
        return np.clip(np.floor(relative * splits).astype(int), 0, splits - 1)

    def assign(self, points: np.ndarray) -> np.ndarray:
        """The expert of each point (rows of ``points`` hold one coordinate per axis)."""
        return np.ravel_multi_index(tuple(self.cells(points).T), tuple(self.splits))

    def members(self, points: np.ndarray, expert: int, overlap: float = 0.0) -> np.ndarray:
        """Which points belong to ``expert``: its own (:meth:`assign`), or with ``overlap`` > 0 those in its box
        widened by ``overlap`` × the box's width on both sides of every split axis (overlapping subdomains)."""
        points = np.asarray(points, dtype=float).reshape(-1, len(self.splits))
        if overlap <= 0.0:
            return self.assign(points) == expert
        lower, upper = self.window(expert, overlap)
        inside = np.ones(len(points), dtype=bool)
        for a, splits in enumerate(self.splits):
            if splits == 1:
                continue
            tolerance = 1e-12 * max(1.0, abs(upper[a] - lower[a]))
            x = self._near(points[:, a], a, 0.5 * (lower[a] + upper[a]))
            inside &= (x >= lower[a] - tolerance) & (x <= upper[a] + tolerance)
        return inside

    def window(self, expert: int, overlap: float) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper corners of the expert's subdomain widened by ``overlap`` × its width on both sides of
        every split axis: cut at the domain on other axes, unwrapped (reaching past the ends) on periodic ones."""
        lower, upper = self.box(expert)
        margin = overlap * (upper - lower) * (np.array(self.splits) > 1)
        periodic = np.array(self.periodic)
        low, high = lower - margin, upper + margin
        return np.where(periodic, low, np.maximum(low, self.lower)), np.where(
            periodic, high, np.minimum(high, self.upper)
        )

    def wrap(self, points: np.ndarray) -> np.ndarray:
        """Points (rows) with their periodic coordinates moved into ``[lower, upper)``."""
        lower, upper = np.array(self.lower), np.array(self.upper)
        return np.where(np.array(self.periodic), lower + np.mod(points - lower, upper - lower), points)

    def blend_weights(self, points: Array, overlap: float) -> Array:
        """A smooth partition of unity (K, R) subordinate to the subdomains widened by ``overlap`` ∈ (0, ½]: along
        every split axis, across each interface ``X`` between two cells of width ``W``, the weight of the cell
        below ramps from 1 to 0 as ``ρ((X - x) / (overlap W))`` with ``ρ(s) = (1 + sin(πs/2)) / 2`` on
        [-1, 1] (C¹; ``ρ(s) + ρ(-s) = 1``), the weights of the axes multiplied; on a periodic axis the ends of the
        domain are an interface too. The window functions of finite
        basis PINNs (Moseley, Markham & Nissen-Meyer, Adv. Comput. Math. 2023) and of overlapping Schwarz
        methods. For a torch tensor of points the weights are a tensor, differentiable in the points."""
        if not 0.0 < overlap <= 0.5:
            raise PdesolveError(f"a blend needs an overlap in (0, 0.5], got {overlap}")
        xp = _array_module(points)
        points = (points if xp is torch else np.asarray(points, dtype=float)).reshape(-1, len(self.splits))
        weights = []
        for k in range(self.count):
            lower, upper = self.box(k)
            weight = xp.ones_like(points[:, 0])
            for a, splits in enumerate(self.splits):
                if splits == 1:
                    continue
                width = overlap * (upper[a] - lower[a])
                x = self._near(points[:, a], a, 0.5 * (lower[a] + upper[a]))
                if lower[a] > self.lower[a] or self.periodic[a]:
                    weight = weight * _ramp((x - lower[a]) / width)
                if upper[a] < self.upper[a] or self.periodic[a]:
                    weight = weight * _ramp((upper[a] - x) / width)
            weights.append(weight)
        return xp.stack(weights)

    def _near(self, x: Array, axis: int, centre: float) -> Array:
        """Coordinates along ``axis``, moved by periods (on a periodic axis) to within half a period of ``centre``."""
        if not self.periodic[axis]:
            return x
        period = self.upper[axis] - self.lower[axis]
        return x - period * _array_module(x).floor((x - centre) / period + 0.5)

    def expert_cells(self) -> np.ndarray:
        """The cell of each expert along each axis, (axes, K)."""
        return np.array(np.unravel_index(np.arange(self.count), self.splits))

    def box(self, expert: int) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper corners of one expert's subdomain."""
        cell = np.array(np.unravel_index(expert, self.splits))
        lower, upper = np.array(self.lower), np.array(self.upper)
        width = (upper - lower) / np.array(self.splits)
        return lower + cell * width, lower + (cell + 1) * width


def _array_module(values: Array):
    return torch if torch.is_tensor(values) else np


def _ramp(s: Array) -> Array:
    """0 below -1, 1 above 1, ``(1 + sin(πs/2)) / 2`` between."""
    xp = _array_module(s)
    return 0.5 * (1.0 + xp.sin(0.5 * np.pi * xp.clip(s, -1.0, 1.0)))
