"""Boundary surfaces of 3D domains: a box's axis-aligned faces and a ball's sphere, each with its part's names.

The 3D counterpart of :mod:`pdesolve.problem.pieces`. A constructive domain's boundary is the union of the
parts of its primitives' surfaces where the domain lies on exactly one side; rather than cutting the
surfaces along their intersection curves, points drawn uniformly in area on a whole surface are kept
there (:func:`on_boundary`: the points ``x ± ε n`` fall on different sides), which leaves them uniform in
area on the domain's boundary, with the exact normal of the surface, turned where the domain lies on its
outer side (a subtracted ball).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pdesolve.errors import ProblemError


@dataclass(frozen=True)
class Face:
    """The rectangle ``x_axis = value``, ``lower ≤ (x_j, x_k) ≤ upper`` over the other two axes in order;
    outward normal ``sign · e_axis``."""

    axis: int
    value: float
    lower: tuple[float, float]
    upper: tuple[float, float]
    sign: float
    labels: frozenset[str] = frozenset()

    @property
    def others(self) -> tuple[int, int]:
        return tuple(k for k in range(3) if k != self.axis)

    @property
    def area(self) -> float:
        return float(np.prod(np.subtract(self.upper, self.lower)))

    def at(self, uv: np.ndarray) -> np.ndarray:
        """Points at fractions ``uv`` (N, 2) of the rectangle's sides."""
        points = np.empty((len(uv), 3))
        points[:, self.axis] = self.value
        points[:, list(self.others)] = np.asarray(self.lower) + uv * np.subtract(self.upper, self.lower)
        return points

    def normal(self, points: np.ndarray) -> np.ndarray:
        normals = np.zeros((len(points), 3))
        normals[:, self.axis] = self.sign
        return normals

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Distance to the rectangle."""
        inplane = points[:, list(self.others)]
        gap = np.maximum(np.maximum(np.asarray(self.lower) - inplane, inplane - np.asarray(self.upper)), 0.0)
        return np.sqrt((points[:, self.axis] - self.value) ** 2 + np.sum(gap**2, axis=1))


@dataclass(frozen=True)
class Sphere:
    """The sphere of ``radius`` around ``center``; outward normal ``sign · (x − c)/r``."""

    center: tuple[float, float, float]
    radius: float
    sign: float
    labels: frozenset[str] = frozenset()

    @property
    def area(self) -> float:
        return 4 * math.pi * self.radius**2

    def at(self, uv: np.ndarray) -> np.ndarray:
        """Archimedes' map: ``z = 1 − 2u`` and the angle ``2π v`` are uniform in area."""
        z = 1 - 2 * uv[:, 0]
        ring = np.sqrt(np.clip(1 - z**2, 0.0, None))
        angle = 2 * math.pi * uv[:, 1]
        unit = np.stack([ring * np.cos(angle), ring * np.sin(angle), z], axis=1)
        return np.asarray(self.center) + self.radius * unit

    def normal(self, points: np.ndarray) -> np.ndarray:
        offset = points - np.asarray(self.center)
        return self.sign * offset / np.linalg.norm(offset, axis=1, keepdims=True)

    def distance(self, points: np.ndarray) -> np.ndarray:
        return np.abs(np.linalg.norm(points - np.asarray(self.center), axis=1) - self.radius)


Surface = Face | Sphere


def box_faces(
    lower: tuple[float, ...], upper: tuple[float, ...], names: list[tuple[frozenset, frozenset]]
) -> list[Face]:
    """The six faces of a box, axis by axis (lower face, upper face), with ``names[axis]`` as their labels."""
    faces = []
    for axis in range(3):
        others = [k for k in range(3) if k != axis]
        span = (tuple(lower[k] for k in others), tuple(upper[k] for k in others))
        faces.append(Face(axis, lower[axis], *span, -1.0, names[axis][0]))
        faces.append(Face(axis, upper[axis], *span, 1.0, names[axis][1]))
    return faces


def on_boundary(
    points: np.ndarray, normals: np.ndarray, inside: Callable[[np.ndarray], np.ndarray], eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """(kept, turned): the points with the domain on exactly one side (``x ∓ ε n``), and those with it outside
    the surface (the normal points into the domain and must be turned)."""
    before, after = inside(points - eps * normals), inside(points + eps * normals)
    return before != after, after & ~before


def sample(
    surfaces: list[Surface],
    n: int,
    rng: np.random.Generator,
    inside: Callable[[np.ndarray], np.ndarray],
    scale: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` points uniform in area on the domain's boundary, outward normals and the surface of each.

    Candidates uniform on the whole surfaces (by area) are kept where :func:`on_boundary`; a point also on an
    earlier surface (coincident faces) is left to that one, so overlaps are not counted twice.
    """
    eps, tol = 1e-7 * scale, 1e-10 * scale
    areas = np.array([surface.area for surface in surfaces])
    points, normals, owners, count = [], [], [], 0
    batch = max(64, 2 * n)
    while count < n:
        which = rng.choice(len(surfaces), size=batch, p=areas / areas.sum())
        uv = rng.uniform(size=(batch, 2))
        x, m = np.empty((batch, 3)), np.empty((batch, 3))
        for k, surface in enumerate(surfaces):
            mine = which == k
            x[mine] = surface.at(uv[mine])
            m[mine] = surface.normal(x[mine])
        kept, turned = on_boundary(x, m, inside, eps)
        for k in range(1, len(surfaces)):
            mine = np.flatnonzero(kept & (which == k))
            earlier = np.min([s.distance(x[mine]) for s in surfaces[:k]], axis=0) if len(mine) else []
            kept[mine[np.asarray(earlier) < tol]] = False
        m[turned] *= -1
        points.append(x[kept])
        normals.append(m[kept])
        owners.append(which[kept])
        count += int(kept.sum())
        if count == 0 and len(points) > 64:
            raise ProblemError("found no boundary points: the domain has no boundary surface")
    return np.concatenate(points)[:n], np.concatenate(normals)[:n], np.concatenate(owners)[:n]


def nearest(surfaces: list[Surface], points: np.ndarray, tol: float) -> np.ndarray:
    """(points, surfaces) bool: the surfaces nearest each point (every surface within ``tol`` of the nearest)."""
    distances = np.stack([surface.distance(points) for surface in surfaces], axis=1)
    return distances <= distances.min(axis=1, keepdims=True) + tol
