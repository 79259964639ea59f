"""Spatial domains: intervals, rectangles, boxes, disks, polygons and meshes read with meshio.

Point sampling inside and on the boundary (with outward normals) uses DeepXDE's geometry module;
box-shaped domains also give uniform grids to the grid-based solvers, and every domain can be
triangulated (or is already a mesh) for finite elements.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from pdesolve.errors import ProblemError


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


class Domain:
    """A region of space. Subclasses give ``dim``, ``bounds`` and a DeepXDE geometry."""

    dim: int

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

    def __post_init__(self) -> None:
        lower, upper = tuple(map(float, np.atleast_1d(self.lower))), tuple(map(float, np.atleast_1d(self.upper)))
        if len(lower) != len(upper) or not all(lo < hi for lo, hi in zip(lower, upper)):
            raise ProblemError(f"a box needs lower < upper in every dimension, got {lower} and {upper}")
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)

    @property
    def dim(self) -> int:
        return len(self.lower)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self.lower), np.array(self.upper)

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


def Interval(a: float, b: float) -> Box:  # noqa: N802 - reads as a type in problem files
    """The interval ``[a, b]``."""
    return Box((a,), (b,))


def Rectangle(lower: tuple[float, float], upper: tuple[float, float]) -> Box:  # noqa: N802
    """The rectangle ``[x0, x1] × [y0, y1]`` from corners ``(x0, y0)`` and ``(x1, y1)``."""
    return Box(tuple(lower), tuple(upper))


@dataclass(frozen=True)
class Disk(Domain):
    """The disk of ``radius`` around ``center``."""

    center: tuple[float, float]
    radius: float
    dim = 2

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c = np.asarray(self.center, dtype=float)
        return c - self.radius, c + self.radius

    def _geometry(self) -> Any:
        return _deepxde_geometry().Disk(list(self.center), self.radius)


@dataclass(frozen=True)
class Polygon(Domain):
    """A simple polygon given by its vertices in order."""

    vertices: tuple[tuple[float, float], ...]
    dim = 2

    def __post_init__(self) -> None:
        vertices = tuple(tuple(map(float, v)) for v in self.vertices)
        if len(vertices) < 3 or any(len(v) != 2 for v in vertices):
            raise ProblemError("a polygon needs at least three 2D vertices")
        object.__setattr__(self, "vertices", vertices)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        v = np.array(self.vertices)
        return v.min(axis=0), v.max(axis=0)

    def _geometry(self) -> Any:
        return _deepxde_geometry().Polygon([list(v) for v in self.vertices])


class Mesh(Domain):
    """A triangle/tetrahedron mesh read with meshio (gmsh ``.msh``, ``.vtu``, ``.xdmf``, ...)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ProblemError(f"mesh file {self.path} does not exist")

    @cached_property
    def _mesh(self) -> tuple[np.ndarray, np.ndarray]:
        import meshio

        try:
            mesh = meshio.read(self.path)
        except Exception as error:  # meshio raises many kinds
            raise ProblemError(f"cannot read mesh {self.path}: {error}") from None
        for kind in ("tetra", "triangle"):
            cells = [block.data for block in mesh.cells if block.type == kind]
            if cells:
                dim = 3 if kind == "tetra" else 2
                return np.asarray(mesh.points[:, :dim], dtype=float), np.vstack(cells)
        raise ProblemError(f"mesh {self.path} has no triangles or tetrahedra")

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

    def sample_boundary(self, n: int, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Uniform points on the boundary facets, with outward normals."""
        mesh = self._skfem()
        rng = np.random.default_rng(seed)
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
        chosen = rng.choice(len(facets), size=n, p=sizes / sizes.sum())
        weights = rng.dirichlet(np.ones(self.dim), size=n)
        return np.einsum("nk,nkd->nd", weights, corners[chosen]), normals[chosen]

    def __repr__(self) -> str:
        return f"Mesh({str(self.path)!r})"
