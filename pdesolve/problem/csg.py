"""Constructive solid geometry: ``A | B`` (union), ``A & B`` (intersection), ``A - B`` (difference).

Operands are rectangles, disks, polygons (2D), boxes and balls (3D) or combinations of them, all of one
dimension. Membership follows the operands' signed distances (max for a union, min for an intersection,
``min(a, −b)`` for a difference). Interior points are the domain's share of a sample of its bounding box
(DeepXDE's samplers, so Sobol and Hammersley sequences stay low-discrepancy).

2D: the boundary is computed exactly as oriented segments and arcs (:func:`pdesolve.problem.pieces.boundary_of`),
which gives the exact area, boundary points uniform in arc length with exact outward normals, and the
named parts of the operands (a hole ``Disk(..., name="cylinder")`` is the part ``cylinder``).

3D: the boundary is the primitives' faces and spheres that bound the domain somewhere
(:mod:`pdesolve.problem.surfaces`); boundary points are drawn uniformly in area on them and kept where
they bound the domain, with the surface's exact normal (turned on a subtracted ball). The volume is exact
by inclusion–exclusion when no two primitive surfaces cross (:mod:`pdesolve.problem.volume`), else a
Monte Carlo estimate whose standard error is :attr:`Combination.measure_error`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cached_property
from typing import TypeVar

import numpy as np

from pdesolve.errors import ProblemError
from pdesolve.problem import pieces as bp
from pdesolve.problem import surfaces as sf
from pdesolve.problem import volume
from pdesolve.problem.domains import Box, Domain

T = TypeVar("T")
PROBES = 4096  # points per primitive surface that decide whether it bounds a 3D domain


class Combination(Domain):
    """Two domains of one dimension (2 or 3) combined; subclasses say how their signed distances combine."""

    symbol = "?"

    def __init__(self, first: Domain, second: Domain) -> None:
        for operand in (first, second):
            if not isinstance(operand, Domain) or getattr(operand, "dim", None) not in (2, 3):
                raise ProblemError(
                    "constructive geometry combines 2D domains (Rectangle, Disk, Polygon) or 3D ones (Box, Ball), "
                    f"got {operand!r}"
                )
        if first.dim != second.dim:
            raise ProblemError(
                f"constructive geometry combines domains of one dimension, got a {first.dim}D {first!r} "
                f"and a {second.dim}D {second!r}"
            )
        for operand in (first, second):
            operand.level(np.zeros((1, first.dim)))  # refuses operands without a signed distance (meshes)
        self.first, self.second = first, second
        if not self.boundary():
            raise ProblemError(f"{self!r} is empty or has no boundary")

    @property
    def dim(self) -> int:  # type: ignore[override]
        return self.first.dim

    def combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def level(self, points: np.ndarray) -> np.ndarray:
        return self.combine(self.first.level(points), self.second.level(points))

    @property
    def primitives(self) -> list[Domain]:
        """The rectangles, disks, polygons, boxes and balls the domain is made of, left to right."""
        return [p for operand in (self.first, self.second) for p in getattr(operand, "primitives", [operand])]

    def formula(self, values: Sequence[T], join: Callable[[str, T, T], T]) -> T:
        """The domain's Boolean expression with its :attr:`primitives` replaced by ``values`` (in order) and each
        operation by ``join(symbol, a, b)`` (symbol ``|``, ``&`` or ``-``)."""
        count = len(getattr(self.first, "primitives", [self.first]))
        operands = []
        for operand, mine in ((self.first, values[:count]), (self.second, values[count:])):
            operands.append(operand.formula(mine, join) if isinstance(operand, Combination) else mine[0])
        return join(self.symbol, *operands)

    @cached_property
    def _pieces(self) -> list[bp.Piece]:
        return bp.boundary_of([p.pieces() for p in self.primitives], self.inside, self.scale)

    def pieces(self) -> list[bp.Piece]:
        if self.dim != 2:
            return super().pieces()
        return self._pieces

    @cached_property
    def _surfaces(self) -> list[sf.Surface]:
        """The primitives' surfaces that bound the domain at some of :data:`PROBES` points of each, turned where
        the domain lies outside them (most of the probes say so)."""
        rng, out = np.random.default_rng(0), []
        for surface in (s for p in self.primitives for s in p.surfaces()):
            points = surface.at(rng.uniform(size=(PROBES, 2)))
            kept, turned = sf.on_boundary(points, surface.normal(points), self.inside, 1e-7 * self.scale)
            if kept.any():
                out.append(replace(surface, sign=-surface.sign) if 2 * turned.sum() > kept.sum() else surface)
        return out

    def surfaces(self) -> list[sf.Surface]:
        if self.dim != 3:
            return super().surfaces()
        return self._surfaces

    @cached_property
    def _volume(self) -> tuple[float, float]:
        return volume.volume(self)

    @property
    def measure(self) -> float:
        """Area (exact) or volume (exact when the primitives' surfaces do not cross, else Monte Carlo)."""
        return bp.area(self.pieces()) if self.dim == 2 else self._volume[0]

    @property
    def measure_error(self) -> float:
        """The standard error of :attr:`measure`: 0 when exact."""
        return 0.0 if self.dim == 2 else self._volume[1]

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """A bounding box: of both operands (union), of their overlap (intersection), of the first (difference)."""
        (l0, u0), (l1, u1) = self.first.bounds, self.second.bounds
        if isinstance(self, Union):
            return np.minimum(l0, l1), np.maximum(u0, u1)
        if isinstance(self, Intersection):
            return np.maximum(l0, l1), np.minimum(u0, u1)
        return l0, u0

    def inside(self, points: np.ndarray) -> np.ndarray:
        return self.level(points) >= -1e-12 * self.scale

    def sample_interior(self, n: int, seed: int | None = None, method: str = "pseudo") -> np.ndarray:
        """``n`` points inside: the domain's share of ``m`` points of the bounding box, ``m`` doubled until enough."""
        lower, upper = self.bounds
        box = Box(tuple(lower), tuple(upper))
        m = math.ceil(1.2 * n * box.measure / self.measure) + 16
        while True:
            candidates = box.sample_interior(m, seed=seed, method=method)
            chosen = candidates[self.level(candidates) > 0]
            if len(chosen) >= n:
                return chosen[:n]
            m *= 2

    def sample_boundary(self, n: int, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points uniform in arc length (area in 3D) on the boundary and their outward unit normals."""
        rng = np.random.default_rng(seed)
        if self.dim == 3:
            points, normals, _ = sf.sample(self.surfaces(), n, rng, self.inside, self.scale)
        else:
            points, normals, _ = bp.sample(self.pieces(), n, rng)
        return points, normals

    def __repr__(self) -> str:
        return f"({self.first!r} {self.symbol} {self.second!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (self.first, self.second) == (other.first, other.second)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.first, self.second))


class Union(Combination):
    symbol = "|"

    def combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.maximum(a, b)


class Intersection(Combination):
    symbol = "&"

    def combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.minimum(a, b)


class Difference(Combination):
    symbol = "-"

    def combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.minimum(a, -b)
