"""Constructive solid geometry in 2D: ``A | B`` (union), ``A & B`` (intersection), ``A - B`` (difference).

Operands are rectangles, disks, polygons or combinations of them. Membership follows the operands'
signed distances (max for a union, min for an intersection, ``min(a, −b)`` for a difference). The
boundary is computed exactly as oriented segments and arcs (:func:`pdesolve.problem.pieces.boundary_of`),
which gives the exact area, boundary points uniform in arc length with exact outward normals, and the
named parts of the operands (a hole ``Disk(..., name="cylinder")`` is the part ``cylinder``). Interior
points are the domain's share of a sample of its bounding box (DeepXDE's samplers, so Sobol and
Hammersley sequences stay low-discrepancy).
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np

from pdesolve.errors import ProblemError
from pdesolve.problem import pieces as bp
from pdesolve.problem.domains import Box, Domain


class Combination(Domain):
    """Two 2D domains combined; subclasses say how their signed distances combine."""

    dim = 2
    symbol = "?"

    def __init__(self, first: Domain, second: Domain) -> None:
        for operand in (first, second):
            if not isinstance(operand, Domain) or operand.dim != 2:
                raise ProblemError(
                    f"constructive geometry combines 2D domains (Rectangle, Disk, Polygon), got {operand!r}"
                )
            operand.level(np.zeros((1, 2)))  # refuses operands without a signed distance (meshes)
        self.first, self.second = first, second
        if not self.pieces():
            raise ProblemError(f"{self!r} is empty or has no boundary")

    def combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def level(self, points: np.ndarray) -> np.ndarray:
        return self.combine(self.first.level(points), self.second.level(points))

    @property
    def primitives(self) -> list[Domain]:
        """The rectangles, disks and polygons the domain is made of."""
        return [p for operand in (self.first, self.second) for p in getattr(operand, "primitives", [operand])]

    @cached_property
    def _pieces(self) -> list[bp.Piece]:
        return bp.boundary_of([p.pieces() for p in self.primitives], self.inside, self.scale)

    def pieces(self) -> list[bp.Piece]:
        return self._pieces

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
        """``n`` points uniform in arc length on the boundary and their outward unit normals."""
        points, normals, _ = bp.sample(self.pieces(), n, np.random.default_rng(seed))
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
