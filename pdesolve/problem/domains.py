"""Spatial domains: intervals, rectangles, boxes, disks, polygons and meshes read with meshio.

Point sampling inside and on the boundary (with outward normals) uses DeepXDE's geometry module;
box-shaped domains also give uniform grids to the grid-based solvers, and every domain can be
triangulated (or is already a mesh) for finite elements. 2D domains combine with ``|``, ``&`` and
``-`` (:mod:`pdesolve.problem.csg`); their boundaries are named parts (a box's ``left``, ``right``,
``bottom``, ``top``, ``back``, ``front``; a polygon's ``side0``, ``side1``, ...; every part of a
primitive also answers to the primitive's ``name``, alone or as ``name.side``) that conditions select
with ``on="name"``.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pdesolve.errors import ProblemError
from pdesolve.problem import pieces as bp

FACES = (("left", "right"), ("bottom", "top"), ("back", "front"))


def _deepxde_geometry():
    """Import ``deepxde.geometry`` quietly, with float64 points and no global side effects.

    Importing DeepXDE (PyTorch backend) moves torch's default device to CUDA when one exists, and
    ``set_default_float`` changes torch's default dtype: both are restored here.
    """
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    dtype, device = torch.get_default_dtype(), torch.get_default_device()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import deepxde
            import deepxde.geometry as geometry

            deepxde.config.set_default_float("float64")
    finally:
        torch.set_default_dtype(dtype)
        # "cpu" is torch's own default: restore it by removing the mode, since an explicit default
        # device wraps every torch call in a Python function mode (2x slower small-tensor training)
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
    boundary :meth:`pieces` (segments and arcs, domain on their left)."""

    dim: int

    def pieces(self) -> list[bp.Piece]:
        raise ProblemError(f"a {type(self).__name__} in {self.dim}D has no boundary pieces (2D domains only)")

    def level(self, points: np.ndarray) -> np.ndarray:
        """A signed distance (a lower bound of it): positive inside, zero on the boundary, negative outside."""
        raise ProblemError(
            f"constructive geometry takes 2D rectangles, disks, polygons and their combinations, "
            f"not a {type(self).__name__}"
        )

    @property
    def scale(self) -> float:
        lower, upper = self.bounds
        return float(max(np.max(upper - lower), np.max(np.abs(lower)), np.max(np.abs(upper))))

    @property
    def measure(self) -> float:
        """Length, area or volume, exact (Green's theorem on the boundary pieces in 2D)."""
        return bp.area(self.pieces())

    @property
    def part_names(self) -> frozenset[str]:
        return frozenset().union(*(piece.labels for piece in self.pieces()))

    def part_mask(self, points: np.ndarray, names: frozenset[str]) -> np.ndarray:
        """Which boundary points lie on a part called one of ``names`` (each point's nearest parts)."""
        pieces = self.pieces()
        chosen = np.array([bool(piece.labels & names) for piece in pieces])
        nearest = bp.nearest(pieces, np.asarray(points, dtype=float).reshape(-1, 2), 1e-9 * self.scale)
        return (nearest & chosen).any(axis=1)

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
class Disk(Domain):
    """The disk of ``radius`` around ``center``."""

    center: tuple[float, float]
    radius: float
    name: str | None = None
    dim = 2

    def __post_init__(self) -> None:
        center = tuple(map(float, np.ravel(self.center)))
        if len(center) != 2 or not np.all(np.isfinite(center)):
            raise ProblemError(f"a disk needs a finite 2D center, got {self.center}")
        if not (np.isfinite(self.radius) and self.radius > 0):
            raise ProblemError(f"a disk needs a radius > 0, got {self.radius}")
        object.__setattr__(self, "center", center)
        object.__setattr__(self, "radius", float(self.radius))

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c = np.asarray(self.center, dtype=float)
        return c - self.radius, c + self.radius

    @property
    def measure(self) -> float:
        return float(np.pi * self.radius**2)

    def pieces(self) -> list[bp.Piece]:
        return bp.circle(self.center, self.radius, labels("circle", self.name))

    def level(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=float).reshape(-1, 2)
        return self.radius - np.linalg.norm(points - self.center, axis=1)

    def _geometry(self) -> Any:
        return _deepxde_geometry().Disk(list(self.center), self.radius)


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


class Mesh(Domain):
    """A triangle/tetrahedron mesh read with meshio (gmsh ``.msh``, ``.vtu``, ``.xdmf``, ...)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ProblemError(f"mesh file {self.path} does not exist")

    @cached_property
    def _meshio(self) -> Any:
        import meshio

        try:
            return meshio.read(self.path)
        except Exception as error:  # meshio raises many kinds
            raise ProblemError(f"cannot read mesh {self.path}: {error}") from None

    @cached_property
    def _mesh(self) -> tuple[np.ndarray, np.ndarray]:
        mesh = self._meshio
        for kind in ("tetra", "triangle"):
            cells = [block.data for block in mesh.cells if block.type == kind]
            if cells:
                dim = 3 if kind == "tetra" else 2
                return np.asarray(mesh.points[:, :dim], dtype=float), np.vstack(cells)
        raise ProblemError(f"mesh {self.path} has no triangles or tetrahedra")

    def _edge_names(self) -> dict[tuple[int, int], str]:
        """Boundary edges named by the gmsh physical group of the line elements on them."""
        mesh = self._meshio
        names = {int(tag): name for name, (tag, *_) in mesh.field_data.items()}
        physical = mesh.cell_data.get("gmsh:physical", [None] * len(mesh.cells))
        out = {}
        for block, tags in zip(mesh.cells, physical):
            if block.type == "line" and tags is not None:
                for (i, j), tag in zip(block.data, tags):
                    if int(tag) in names:
                        out[(min(i, j), max(i, j))] = names[int(tag)]
        return out

    @cached_property
    def _pieces(self) -> list[bp.Piece]:
        """The boundary facets, outward, chained into loops whose collinear runs of one name are merged."""
        if self.dim != 2:
            return super().pieces()
        points, edges, _ = self._boundary_facets()
        named = self._edge_names()
        following = {int(i): (int(j), named.get((min(i, j), max(i, j)))) for i, j in edges}
        out: list[bp.Piece] = []
        while following:
            start = next(iter(following))
            loop = [start]
            while following.get(loop[-1]) is not None and following[loop[-1]][0] != start:
                loop.append(following[loop[-1]][0])
            steps = [(loop[k], *following.pop(loop[k])) for k in range(len(loop))]
            out += _merge_collinear(points, steps)
        return out

    def pieces(self) -> list[bp.Piece]:
        return self._pieces

    @property
    def measure(self) -> float:
        vertices = self.points[self.cells]
        return float(np.abs(np.linalg.det(vertices[:, 1:] - vertices[:, :1])).sum() / math.factorial(self.dim))

    @property
    def points(self) -> np.ndarray:
        return self._mesh[0]

    @property
    def cells(self) -> np.ndarray:
        return self._mesh[1]

    @property
    def dim(self) -> int:  # type: ignore[override]
        return self.points.shape[1]

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.points.min(axis=0), self.points.max(axis=0)

    def _skfem(self):
        import skfem

        kind = skfem.MeshTet if self.dim == 3 else skfem.MeshTri
        return kind(self.points.T.copy(), self.cells.T.copy())

    def inside(self, points: np.ndarray) -> np.ndarray:
        """Barycentric test against the elements with the nearest centroids (boundary points count as inside)."""
        from scipy.spatial import cKDTree

        points = np.asarray(points, dtype=float).reshape(-1, self.dim)
        vertices = self.points[self.cells]  # (cells, dim+1, dim)
        k = min(len(self.cells), 16)
        _, candidates = cKDTree(vertices.mean(axis=1)).query(points, k=k)
        corners = vertices[candidates.reshape(len(points), k)]  # (points, k, dim+1, dim)
        edges = np.swapaxes(corners[:, :, 1:] - corners[:, :, :1], -1, -2)
        weights = np.linalg.solve(edges, (points[:, None, :] - corners[:, :, 0])[..., None])[..., 0]
        weights = np.concatenate([1 - weights.sum(axis=-1, keepdims=True), weights], axis=-1)
        return (weights >= -1e-9).all(axis=-1).any(axis=-1)

    def sample_interior(self, n: int, seed: int | None = None, method: str = "pseudo") -> np.ndarray:
        """Uniform points in the mesh: pick elements by volume, then barycentric coordinates."""
        rng = np.random.default_rng(seed)
        vertices = self.points[self.cells]  # (cells, dim+1, dim)
        edges = vertices[:, 1:] - vertices[:, :1]
        volumes = np.abs(np.linalg.det(edges))
        chosen = rng.choice(len(self.cells), size=n, p=volumes / volumes.sum())
        weights = rng.dirichlet(np.ones(self.dim + 1), size=n)
        return np.einsum("nk,nkd->nd", weights, vertices[chosen])

    def _boundary_facets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points, boundary facets (vertex indices, ordered counter-clockwise about the domain in 2D) and
        their outward unit normals."""
        mesh = self._skfem()
        facets = mesh.facets[:, mesh.boundary_facets()].T
        corners = mesh.p.T[facets]  # (facets, dim, dim)
        if self.dim == 2:
            tangent = corners[:, 1] - corners[:, 0]
            sizes = np.linalg.norm(tangent, axis=1)
            normals = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1) / sizes[:, None]
        else:
            cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
            sizes = np.linalg.norm(cross, axis=1)
            normals = cross / sizes[:, None]
        facet_mid = corners.mean(axis=1)
        elements = mesh.f2t[0, mesh.boundary_facets()]
        element_mid = mesh.p.T[mesh.t[:, elements].T].mean(axis=1)
        flip = np.einsum("nd,nd->n", normals, facet_mid - element_mid) < 0
        normals[flip] *= -1
        if self.dim == 2:  # the normal (t_y, -t_x) is outward when the facet runs counter-clockwise
            facets[flip] = facets[flip][:, ::-1]
        return mesh.p.T, facets, normals

    def sample_boundary(self, n: int, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Uniform points on the boundary facets, with outward normals."""
        rng = np.random.default_rng(seed)
        points, facets, normals = self._boundary_facets()
        corners = points[facets]
        sizes = (
            np.linalg.norm(corners[:, 1] - corners[:, 0], axis=1)
            if self.dim == 2
            else np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1)
        )
        chosen = rng.choice(len(facets), size=n, p=sizes / sizes.sum())
        weights = rng.dirichlet(np.ones(self.dim), size=n)
        return np.einsum("nk,nkd->nd", weights, corners[chosen]), normals[chosen]

    def __repr__(self) -> str:
        return f"Mesh({str(self.path)!r})"


def _merge_collinear(points: np.ndarray, steps: list[tuple[int, int, str | None]]) -> list[bp.Segment]:
    """One closed loop of edges (start, end, name) as segments, consecutive collinear edges of one name joined."""
    segments: list[bp.Segment] = []
    for start, end, name in steps:
        a, b = points[start], points[end]
        if segments:
            last = segments[-1]
            d0, d1 = np.subtract(last.b, last.a), b - a
            straight = abs(d0[0] * d1[1] - d0[1] * d1[0]) <= 1e-12 * np.linalg.norm(d0) * np.linalg.norm(d1)
            if straight and d0 @ d1 > 0 and last.labels == _mesh_labels(name):
                segments[-1] = bp.Segment(last.a, tuple(b), last.labels)
                continue
        segments.append(bp.Segment(tuple(a), tuple(b), _mesh_labels(name)))
    first, last = segments[0], segments[-1]
    d0, d1 = np.subtract(last.b, last.a), np.subtract(first.b, first.a)
    if len(segments) > 1 and abs(d0[0] * d1[1] - d0[1] * d1[0]) <= 1e-12 * np.linalg.norm(d0) * np.linalg.norm(d1):
        if d0 @ d1 > 0 and first.labels == last.labels:
            segments = [bp.Segment(last.a, first.b, first.labels), *segments[1:-1]]
    return segments


def _mesh_labels(name: str | None) -> frozenset[str]:
    """A physical group's name; ``channel.left`` also answers to ``channel`` and ``left``."""
    return frozenset({name, *name.split(".")}) if name else frozenset()
