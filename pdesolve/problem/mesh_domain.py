"""A :class:`Mesh` domain: a triangle or tetrahedron mesh read with meshio (gmsh ``.msh``, ``.vtu``, ...).

Its boundary is the mesh's boundary facets, merged into straight pieces (collinear runs joined) for
sampling and for the networks' distance functions; gmsh physical groups become boundary part names.
"""

from __future__ import annotations

import contextlib
import io
import math
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from pdesolve.errors import ProblemError
from pdesolve.problem import pieces as bp
from pdesolve.problem.domains import Domain

_INTERIOR_STREAM = 1  # second word of the interior sampler's seed, apart from the plain seed's stream


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
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                return meshio.read(self.path)
        except (Exception, SystemExit) as error:  # meshio raises many kinds, and exits on a file it cannot parse
            detail = f": {error}" if not isinstance(error, SystemExit) else ": not a mesh file meshio can parse"
            raise ProblemError(f"cannot read mesh {self.path}{detail}") from None

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
        """Uniform points in the mesh: pick elements by volume, then barycentric coordinates.

        The stream is ``seed``'s own, not ``default_rng(seed)``: the PINN sampler draws the points' times from
        that, and elements picked from the same uniforms tie each point's time to its element's number."""
        rng = np.random.default_rng(None if seed is None else (seed, _INTERIOR_STREAM))
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
