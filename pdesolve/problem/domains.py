"""Spatial domains: intervals, rectangles, boxes, disks and polygons (meshes: :mod:`pdesolve.problem.mesh_domain`).

Point sampling inside and on the boundary (with outward normals) uses DeepXDE's geometry module;
box-shaped domains also give uniform grids to the grid-based solvers, and every domain can be
triangulated (or is already a mesh) for finite elements. 2D and 3D domains combine with ``|``, ``&`` and
``-`` (:mod:`pdesolve.problem.csg`); their boundaries are named parts (a box's ``left``, ``right``,
``bottom``, ``top``, ``back``, ``front``; a polygon's ``side0``, ``side1``, ...; a disk's ``circle``, a
ball's ``sphere``; every part of a primitive also answers to the primitive's ``name``, alone or as
``name.side``) that conditions select with ``on="name"``.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from pdesolve.errors import ProblemError
from pdesolve.problem import pieces as bp
from pdesolve.problem import surfaces as sf

FACES = (("left", "right"), ("bottom", "top"), ("back", "front"))


def _deepxde_geometry():
    """Import ``deepxde.geometry`` quietly, with float64 points and no global side effects.

    Importing DeepXDE (PyTorch backend) moves torch's default device to CUDA when one exists, and
    ``set_default_float`` changes torch's default dtype: both are restored here.
    """
    import torch

    os.environ.setdefault("DDE_BACKEND", "pytorch")
    dtype, device = torch.get_default_dtype(), torch.get_default_device()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import deepxde
            import deepxde.geometry as geometry

            deepxde.config.set_default_float("float64")
    finally:
        torch.set_default_dtype(dtype)
        # only when DeepXDE moved it (a caller's own default-device context stays as it was); "cpu" is torch's
        # own default: restore it by removing the mode, since an explicit default device wraps every torch
        # call in a Python function mode (2x slower small-tensor training)
        if torch.get_default_device() != device:
            torch.set_default_device(None if device == torch.device("cpu") else device)
    return geometry


def _seeded(seed: int | None):
    """DeepXDE samples from numpy's global generator: run it under a fixed seed."""
    state = np.random.get_state()
    if seed is not None:
        np.random.seed(seed)
    return state


def labels(part: str, name: str | None) -> frozenset[str]:
    """The names a boundary part answers to: its own, and its primitive's (alone and as ``name.part``)."""
    return frozenset({part} | ({name, f"{name}.{part}"} if name else set()))


class Domain:
    """A region of space. Subclasses give ``dim``, ``bounds`` and a DeepXDE geometry; 2D ones their
    boundary :meth:`pieces` (segments and arcs, domain on their left), 3D ones their :meth:`surfaces`."""

    dim: int

    def pieces(self) -> list[bp.Piece]:
        raise ProblemError(f"a {type(self).__name__} in {self.dim}D has no boundary pieces (2D domains only)")

    def surfaces(self) -> list[sf.Surface]:
        """The boundary's faces and spheres (3D boxes, balls and their combinations)."""
        raise ProblemError(f"a {type(self).__name__} in {self.dim}D has no boundary surfaces (3D domains only)")

    def level(self, points: np.ndarray) -> np.ndarray:
        """A signed distance (a lower bound of it): positive inside, zero on the boundary, negative outside."""
        raise ProblemError(
            f"constructive geometry takes rectangles, disks, polygons (2D), boxes and balls (3D) and their "
            f"combinations, not a {type(self).__name__}"
        )

    @property
    def scale(self) -> float:
        lower, upper = self.bounds
        return float(max(np.max(upper - lower), np.max(np.abs(lower)), np.max(np.abs(upper))))

    @property
    def measure(self) -> float:
        """Length, area or volume, exact (Green's theorem on the boundary pieces in 2D)."""
        return bp.area(self.pieces())

    def boundary(self) -> list[bp.Piece] | list[sf.Surface]:
        """The boundary's pieces (2D) or surfaces (3D)."""
        return self.surfaces() if self.dim == 3 else self.pieces()

    @property
    def part_names(self) -> frozenset[str]:
        return frozenset().union(*(part.labels for part in self.boundary()))

    def part_mask(self, points: np.ndarray, names: frozenset[str]) -> np.ndarray:
        """Which boundary points lie on a part called one of ``names`` (each point's nearest parts)."""
        parts = self.boundary()
        chosen = np.array([bool(part.labels & names) for part in parts])
        nearest = (sf if self.dim == 3 else bp).nearest
        points = np.asarray(points, dtype=float).reshape(-1, self.dim)
        return (nearest(parts, points, 1e-9 * self.scale) & chosen).any(axis=1)

    def __or__(self, other: Domain) -> Domain:
        from pdesolve.problem.csg import Union

        return Union(self, other)

    def __and__(self, other: Domain) -> Domain:
        from pdesolve.problem.csg import Intersection

        return Intersection(self, other)

    def __sub__(self, other: Domain) -> Domain:
        from pdesolve.problem.csg import Difference

        return Difference(self, other)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _geometry(self) -> Any:
        raise NotImplementedError

    def inside(self, points: np.ndarray) -> np.ndarray:
        """True for points in the closed domain (DeepXDE's polygons leave out part of their boundary)."""
        geometry, points = self._geometry(), np.asarray(points, dtype=float)
        return np.asarray(geometry.inside(points)) | np.asarray(geometry.on_boundary(points))

    def sample_interior(self, n: int, seed: int | None = None, method: str = "pseudo") -> np.ndarray:
        """``n`` points inside: method is pseudo, Sobol, Hammersley, LHS or uniform (a grid)."""
        geometry = self._geometry()
        state = _seeded(seed)
        try:
            if method == "uniform":
                points = geometry.uniform_points(n, boundary=False)
            else:
                points = geometry.random_points(n, random=method)
        finally:
            np.random.set_state(state)
        return np.asarray(points, dtype=float)

    def sample_boundary(self, n: int, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points on the boundary and their outward unit normals."""
        geometry = self._geometry()
        state = _seeded(seed)
        try:
            points = np.asarray(geometry.random_boundary_points(n), dtype=float)
        finally:
            np.random.set_state(state)
        return points, np.asarray(geometry.boundary_normal(points), dtype=float)


@dataclass(frozen=True)
class Box(Domain):
    """An axis-aligned box ``[lower, upper]`` in any dimension; Interval and Rectangle are its 1D/2D names."""

    lower: tuple[float, ...]
    upper: tuple[float, ...]
    name: str | None = None

    def __post_init__(self) -> None:
        lower, upper = tuple(map(float, np.atleast_1d(self.lower))), tuple(map(float, np.atleast_1d(self.upper)))
        if len(lower) != len(upper) or not all(lo < hi for lo, hi in zip(lower, upper)):
            raise ProblemError(f"a box needs lower < upper in every dimension, got {lower} and {upper}")
        if len(lower) > 3:
            raise ProblemError(f"a box has at most 3 dimensions, got {len(lower)}")
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)

    @property
    def dim(self) -> int:
        return len(self.lower)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self.lower), np.array(self.upper)

    @property
    def measure(self) -> float:
        return float(np.prod(np.subtract(self.upper, self.lower)))

    @property
    def part_names(self) -> frozenset[str]:
        return frozenset().union(*(labels(face, self.name) for pair in FACES[: self.dim] for face in pair))

    def face_names(self, names: frozenset[str]) -> list[tuple[int, int]]:
        """The faces (axis, 0 lower | 1 upper) that answer to one of ``names``."""
        return [(k, side) for k in range(self.dim) for side in (0, 1) if labels(FACES[k][side], self.name) & names]

    def part_mask(self, points: np.ndarray, names: frozenset[str]) -> np.ndarray:
        points = np.asarray(points, dtype=float).reshape(-1, self.dim)
        gaps = np.concatenate([np.abs(points - self.lower), np.abs(points - self.upper)], axis=1)
        nearest = gaps <= gaps.min(axis=1, keepdims=True) + 1e-9 * self.scale
        chosen = np.zeros(2 * self.dim, dtype=bool)
        for k, side in self.face_names(names):
            chosen[k + side * self.dim] = True
        return (nearest & chosen).any(axis=1)

    def surfaces(self) -> list[sf.Surface]:
        if self.dim != 3:
            return super().surfaces()
        return sf.box_faces(self.lower, self.upper, [(labels(a, self.name), labels(b, self.name)) for a, b in FACES])

    def pieces(self) -> list[bp.Piece]:
        if self.dim != 2:
            return super().pieces()
        (x0, y0), (x1, y1) = self.lower, self.upper
        corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        return bp.polyline(corners, [labels(face, self.name) for face in ("bottom", "right", "top", "left")])

    def level(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=float).reshape(-1, self.dim)
        return np.minimum(points - self.lower, self.upper - points).min(axis=1)

    def _geometry(self) -> Any:
        geometry = _deepxde_geometry()
        if self.dim == 1:
            return geometry.Interval(self.lower[0], self.upper[0])
        if self.dim == 2:
            return geometry.Rectangle(list(self.lower), list(self.upper))
        return geometry.Cuboid(list(self.lower), list(self.upper))

    def inside(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=float).reshape(-1, self.dim)
        tol = 1e-12 * max(1.0, *np.abs(self.upper), *np.abs(self.lower))
        return np.all((points >= np.array(self.lower) - tol) & (points <= np.array(self.upper) + tol), axis=1)


def Interval(a: float, b: float, name: str | None = None) -> Box:  # noqa: N802 - reads as a type in problem files
    """The interval ``[a, b]``."""
    return Box((a,), (b,), name)


def Rectangle(lower: tuple[float, float], upper: tuple[float, float], name: str | None = None) -> Box:  # noqa: N802
    """The rectangle ``[x0, x1] × [y0, y1]`` from corners ``(x0, y0)`` and ``(x1, y1)``."""
    return Box(tuple(lower), tuple(upper), name)


@dataclass(frozen=True)
class Round(Domain):
    """The points within ``radius`` of ``center``: a :class:`Disk` in 2D, a :class:`Ball` in 3D."""

    center: tuple[float, ...]
    radius: float
    name: str | None = None

    def __post_init__(self) -> None:
        kind = type(self).__name__.lower()
        center = tuple(map(float, np.ravel(self.center)))
        if len(center) != self.dim or not np.all(np.isfinite(center)):
            raise ProblemError(f"a {kind} needs a finite {self.dim}D center, got {self.center}")
        if not (np.isfinite(self.radius) and self.radius > 0):
            raise ProblemError(f"a {kind} needs a radius > 0, got {self.radius}")
        object.__setattr__(self, "center", center)
        object.__setattr__(self, "radius", float(self.radius))

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c = np.asarray(self.center, dtype=float)
        return c - self.radius, c + self.radius

    def level(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=float).reshape(-1, self.dim)
        return self.radius - np.linalg.norm(points - self.center, axis=1)


@dataclass(frozen=True)
class Disk(Round):
    """The disk of ``radius`` around ``center``."""

    dim = 2

    @property
    def measure(self) -> float:
        return float(np.pi * self.radius**2)

    def pieces(self) -> list[bp.Piece]:
        return bp.circle(self.center, self.radius, labels("circle", self.name))

    def _geometry(self) -> Any:
        return _deepxde_geometry().Disk(list(self.center), self.radius)


@dataclass(frozen=True)
class Ball(Round):
    """The ball of ``radius`` around ``center`` in 3D; its boundary is the part ``sphere``."""

    dim = 3

    @property
    def measure(self) -> float:
        return float(4 / 3 * np.pi * self.radius**3)

    def surfaces(self) -> list[sf.Surface]:
        return [sf.Sphere(self.center, self.radius, 1.0, labels("sphere", self.name))]

    def inside(self, points: np.ndarray) -> np.ndarray:
        return self.level(points) >= -1e-12 * self.scale

    def sample_boundary(self, n: int, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points uniform in area on the sphere and their outward unit normals."""
        points, normals, _ = sf.sample(self.surfaces(), n, np.random.default_rng(seed), self.inside, self.scale)
        return points, normals

    def _geometry(self) -> Any:
        return _deepxde_geometry().Sphere(list(self.center), self.radius)


@dataclass(frozen=True)
class Polygon(Domain):
    """A simple polygon given by its vertices in order (either orientation); side k runs from vertex k to k + 1."""

    vertices: tuple[tuple[float, float], ...]
    name: str | None = None
    dim = 2

    def __post_init__(self) -> None:
        vertices = tuple(tuple(map(float, v)) for v in self.vertices)
        if len(vertices) < 3 or any(len(v) != 2 for v in vertices):
            raise ProblemError("a polygon needs at least three 2D vertices")
        object.__setattr__(self, "vertices", vertices)
        problem = _polygon_defect(np.array(vertices))
        if problem:
            raise ProblemError(f"polygon {list(vertices)} is not a simple polygon: {problem}")

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        v = np.array(self.vertices)
        return v.min(axis=0), v.max(axis=0)

    def pieces(self) -> list[bp.Piece]:
        names = [labels(f"side{k}", self.name) for k in range(len(self.vertices))]
        return bp.polyline(np.array(self.vertices), names)

    def level(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=float).reshape(-1, 2)
        distance = np.min([side.distance(points) for side in self.pieces()], axis=0)
        return np.where(_winding_inside(np.array(self.vertices), points), distance, -distance)

    def _geometry(self) -> Any:
        geometry = _deepxde_geometry()
        if len(self.vertices) == 3:  # DeepXDE's Polygon refuses triangles
            return geometry.Triangle(*(list(v) for v in self.vertices))
        return geometry.Polygon([list(v) for v in self.vertices])


def _winding_inside(vertices: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Even-odd rule: a horizontal ray from each point crosses the sides an odd number of times."""
    a, b = vertices, np.roll(vertices, -1, axis=0)
    x, y = points[:, :1], points[:, 1:]
    spans = (a[:, 1] > y) != (b[:, 1] > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross_x = a[:, 0] + (y - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
    return (np.sum(spans & (x < cross_x), axis=1) % 2) == 1


def _polygon_defect(vertices: np.ndarray) -> str | None:
    """Why the vertices do not make a simple polygon (repeated vertices, zero area, crossing sides), or None."""
    following = np.roll(vertices, -1, axis=0)
    lengths = np.linalg.norm(following - vertices, axis=1)
    size = float(np.max(np.ptp(vertices, axis=0)))
    if size == 0 or np.any(lengths <= 1e-12 * size):
        return "two consecutive vertices coincide"
    count = len(vertices)
    for i in range(count):
        for j in range(i + 1, count):
            if j == i + 1 or (i == 0 and j == count - 1):
                continue
            if _segments_meet(vertices[i], following[i], vertices[j], following[j]):
                return f"sides {i} and {j} cross"
    area = 0.5 * abs(np.sum(vertices[:, 0] * following[:, 1] - following[:, 0] * vertices[:, 1]))
    if area <= 1e-12 * size * size:
        return "its area is zero (collinear vertices)"
    return None


def _segments_meet(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> bool:
    def orient(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> float:
        return float((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]))

    o1, o2, o3, o4 = orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
    if o1 * o2 < 0 and o3 * o4 < 0:
        return True
    segments = ((a, b, c, o1), (a, b, d, o2), (c, d, a, o3), (c, d, b, o4))
    return any(o == 0 and np.all(np.minimum(p, q) <= r) and np.all(r <= np.maximum(p, q)) for p, q, r, o in segments)
