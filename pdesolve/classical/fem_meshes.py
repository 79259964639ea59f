"""scikit-fem meshes for the domains of the problem layer.

Boxes are tensor meshes with ``n`` nodes per axis (intervals, triangles, tetrahedra); disks refine
scikit-fem's circle mesh until its edges are about ``diameter / (n - 1)`` long, projecting new
boundary nodes onto the circle; polygons and constructive domains are triangulated below
(:func:`triangulate`); :class:`Mesh` domains are read with meshio. ``refine`` halves the mesh size that
many more times (constructive domains are meshed anew at that size, so new boundary nodes lie on
their circles). :func:`curved` makes the quadratic (isoparametric) mesh whose edge midpoints on arcs
lie on the circle, which P2 elements need to keep their order on curved boundaries. Balls and 3D
constructive domains (boxes and balls) are tetrahedralized by :mod:`pdesolve.classical.tet_mesher`, whose
nodes lie on the boundary's faces and spheres (P2: sphere edges' midpoints on the sphere too).

Why a mesher of our own: scikit-fem has none for constructive geometry; gmsh (GPL, a ~50 MB native
library) and Triangle (not free for commercial use) would make the MIT package depend on licences
and binaries it does not need for 2D rectangles, disks, polygons and their combinations, whose exact
boundary (segments and arcs, :mod:`pdesolve.problem.pieces`) is known here: boundary nodes are placed
on it exactly, interior nodes on an ``h``-grid away from it, and Delaunay's triangulation is kept
inside (checked against the exact chordal area and boundary length). :func:`write_msh` writes gmsh
``.msh`` files with the boundary parts as named physical groups, which :class:`Mesh` reads back.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import skfem
from scipy.spatial import Delaunay

from pdesolve.classical.tet_mesher import curved as curved_tets
from pdesolve.classical.tet_mesher import tetrahedralize
from pdesolve.errors import NotApplicableError, ProblemError
from pdesolve.problem import Ball, Box, Disk, Domain, Mesh, Polygon
from pdesolve.problem import pieces as bp
from pdesolve.problem.csg import Combination
from pdesolve.solvers.base import option

# the mean edge of MeshTri.init_circle(k) on the unit disk is about CIRCLE_EDGE / 2**k
CIRCLE_EDGE = 1.38


def build_mesh(
    domain: Domain, n: int, refine: int = 0, order: int = 1, near: tuple[str, int] | None = None
) -> skfem.Mesh:
    """A mesh of ``domain`` with about ``n`` nodes across it, refined ``refine`` more times; for ``order`` 2 on a
    constructive domain with arcs, the curved quadratic mesh (:func:`curved`); ``near = (part, levels)``
    grades a constructive domain's mesh toward a boundary part (:func:`refined_near`)."""
    if n < 2:
        raise ProblemError(f"a mesh needs n >= 2 nodes per axis, got {n}")
    if domain.dim == 3 and isinstance(domain, (Ball, Combination)):  # tetrahedra with nodes on the spheres
        lower, upper = domain.bounds
        mesh = tetrahedralize(domain, float(np.max(upper - lower)) / (n - 1) / 2**refine)
        return curved_tets(mesh, domain.surfaces()) if order == 2 else mesh
    if isinstance(domain, Disk):
        refinements = max(1, round(math.log2(CIRCLE_EDGE * (n - 1) / 2))) + refine
        circle = skfem.MeshTri.init_circle(refinements)
        points = np.asarray(domain.center, dtype=float)[:, None] + domain.radius * circle.p
        return skfem.MeshTri(points, circle.t)
    if isinstance(domain, Box):
        axes = [np.linspace(lo, hi, n) for lo, hi in zip(domain.lower, domain.upper)]
        kind = {1: skfem.MeshLine, 2: skfem.MeshTri, 3: skfem.MeshTet}[domain.dim]
        mesh = kind.init_tensor(*axes)
    elif isinstance(domain, Polygon):
        mesh = triangulate_polygon(domain, n)
    elif isinstance(domain, Mesh):
        mesh = domain._skfem()
    elif isinstance(domain, Combination):
        lower, upper = domain.bounds
        h = float(np.max(upper - lower)) / (n - 1) / 2**refine
        mesh = mesh_domain(domain, h)
        if near is not None:
            mesh = refined_near(mesh, domain, *near, h)
        arcs = any(isinstance(piece, bp.Arc) for piece in domain.pieces())
        return curved(mesh, domain) if order == 2 and arcs else mesh
    else:
        raise NotApplicableError(f"fem has no mesh for a {type(domain).__name__} domain")
    return mesh.refined(refine) if refine else mesh


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of each point to the segment ``[a, b]``."""
    edge = b - a
    t = np.clip((points - a) @ edge / (edge @ edge), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[:, None] * edge), axis=1)


def triangulate_polygon(polygon: Polygon, n: int) -> skfem.MeshTri:
    """:func:`triangulate` with ``h = max extent / (n - 1)``, the sides in the order of the vertices.

    Grid-aligned polygons whose corners are grid nodes (the L-shape with odd ``n``) get the regular
    right-triangle mesh.
    """
    vertices = polygon.vertices
    sides = [bp.Segment(a, b) for a, b in zip(vertices, vertices[1:] + vertices[:1])]
    lower, upper = polygon.bounds
    return triangulate(polygon, sides, float(np.max(upper - lower)) / (n - 1))


def triangulate(domain: Domain, sides: list[bp.Piece], h: float) -> skfem.MeshTri:
    """Conforming triangles of a 2D domain bounded by ``sides`` (segments and arcs) with edges about ``h``.

    Points: every side split evenly into pieces of at most ``h`` (on the arc for arcs), plus the nodes
    of an ``h``-grid farther than ``h / 2`` from the boundary. Their Delaunay triangulation contains the
    boundary pieces (no other point lies in a piece's diametral circle), so dropping the triangles whose
    centroid lies outside leaves a conforming mesh; its area and boundary length are checked against
    those of the boundary's chords.
    """
    boundary, chord_area, chord_length = [], 0.0, 0.0
    for side in sides:
        count = max(1, math.ceil(side.length / h - 1e-9))
        nodes = side.at(np.linspace(0.0, 1.0, count + 1))
        boundary.append(nodes[:-1])
        chord_area += 0.5 * np.sum(nodes[:-1, 0] * nodes[1:, 1] - nodes[1:, 0] * nodes[:-1, 1])
        chord_length += np.linalg.norm(np.diff(nodes, axis=0), axis=1).sum()
    lower, upper = domain.bounds
    counts = np.floor((upper - lower) / h + 1e-9).astype(int) + 1
    axes = [lo + h * np.arange(c) for lo, c in zip(lower, counts)]
    grid = np.stack([c.ravel() for c in np.meshgrid(*axes, indexing="ij")], axis=1)
    distance = np.min([side.distance(grid) for side in sides], axis=0)
    interior = grid[(distance > 0.5 * h) & domain.inside(grid)]
    points = np.vstack([*boundary, interior])
    triangles = Delaunay(points).simplices
    corners = points[triangles]
    areas = 0.5 * np.abs(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]))
    keep = (areas > 1e-12 * h * h) & domain.inside(corners.mean(axis=1))
    mesh = skfem.MeshTri(points.T.copy(), triangles[keep].T.copy())
    ends = mesh.p[:, mesh.facets[:, mesh.boundary_facets()]]
    length = np.linalg.norm(ends[:, 0] - ends[:, 1], axis=0).sum()
    area = areas[keep].sum()
    if not (np.isclose(area, abs(chord_area), rtol=1e-9) and np.isclose(length, chord_length, rtol=1e-9)):
        raise ProblemError(
            f"could not triangulate {domain!r} (area {area:.6g} vs {abs(chord_area):.6g}, boundary {length:.6g} vs "
            f"{chord_length:.6g}); try another n (a smaller h) or give a Mesh domain"
        )
    return mesh


def mesh_domain(domain: Domain, h: float) -> skfem.MeshTri:
    """Triangles of a 2D polygon or constructive domain with edges about ``h``, boundary nodes on its arcs."""
    if isinstance(domain, Polygon):
        lower, upper = domain.bounds
        return triangulate_polygon(domain, max(2, round(float(np.max(upper - lower)) / h) + 1))
    return triangulate(domain, domain.pieces(), h)


def refined_near(mesh: skfem.MeshTri, domain: Domain, part: str, levels: int, h: float) -> skfem.MeshTri:
    """Refine the triangles near the boundary part ``part`` ``levels`` times (red-green refinement), level
    ``k`` those within ``8 h / 2^k`` of it, so that the mesh size halves every few cells toward the part;
    new boundary nodes are moved onto the arcs they belong to."""
    pieces = domain.pieces()
    chosen = [piece for piece in pieces if part in piece.labels]
    if not chosen:
        raise ProblemError(f"no boundary part {part!r} to refine the mesh near (parts: {sorted(domain.part_names)})")
    for level in range(levels):
        centroids = mesh.p[:, mesh.t].mean(axis=1).T
        distance = np.min([piece.distance(centroids) for piece in chosen], axis=0)
        mesh = mesh.refined(np.flatnonzero(distance < 8 * h / 2**level))
        mesh = skfem.MeshTri(onto_arcs(mesh.p, mesh.boundary_nodes(), pieces), mesh.t)
    return mesh


def curved(mesh: skfem.MeshTri, domain: Domain) -> skfem.MeshTri2:
    """The quadratic mesh of ``mesh`` whose boundary edge midpoints on an arc of ``domain`` lie on that arc."""
    quadratic = skfem.MeshTri2.from_mesh(mesh)
    pieces = domain.pieces()
    dofs = quadratic.dofs.get_facet_dofs(quadratic.boundary_facets()).flatten()
    return replace(quadratic, doflocs=onto_arcs(quadratic.doflocs, dofs, pieces))


def onto_arcs(points: np.ndarray, boundary: np.ndarray, pieces: list[bp.Piece]) -> np.ndarray:
    """A copy of ``points`` (dim, N) whose columns ``boundary`` are moved radially onto the arc among ``pieces``
    nearest to each (those nearest a straight piece stay)."""
    points = points.copy()
    owner = np.argmax(bp.nearest(pieces, points[:, boundary].T, 0.0), axis=1)
    for k, piece in enumerate(pieces):
        mine = boundary[owner == k]
        if isinstance(piece, bp.Arc) and len(mine):
            offset = points[:, mine] - np.asarray(piece.center)[:, None]
            points[:, mine] = np.asarray(piece.center)[:, None] + piece.radius * offset / np.linalg.norm(offset, axis=0)
    return points


def write_msh(domain: Domain, h: float, path: str | Path) -> Path:
    """Mesh ``domain`` (:func:`mesh_domain`) and write it as a gmsh 2.2 ``.msh`` file: triangles, and the
    boundary edges as line elements in one physical group per part name (:class:`pdesolve.problem.Mesh`
    reads them back as named parts)."""
    import meshio

    mesh = mesh_domain(domain, h)
    pieces = domain.pieces()
    facets = mesh.facets[:, mesh.boundary_facets()]
    middles = mesh.p[:, facets].mean(axis=1).T
    owner = np.argmax(bp.nearest(pieces, middles, 0.0), axis=1)
    names = [_part_name(piece.labels) for piece in pieces]
    groups = {name: tag for tag, name in enumerate(sorted(set(names)), start=1)}
    edge_tags = np.array([groups[names[k]] for k in owner])
    group = len(groups) + 1
    output = meshio.Mesh(
        np.column_stack([mesh.p.T, np.zeros(mesh.p.shape[1])]),
        [("line", facets.T), ("triangle", mesh.t.T)],
        cell_data={
            "gmsh:physical": [edge_tags, np.full(mesh.t.shape[1], group)],
            "gmsh:geometrical": [edge_tags, np.full(mesh.t.shape[1], group)],
        },
        field_data={**{name: np.array([tag, 1]) for name, tag in groups.items()}, "domain": np.array([group, 2])},
    )
    path = Path(path)
    meshio.write(path, output, file_format="gmsh22", binary=False)
    return path


def _part_name(labels: frozenset[str]) -> str:
    """One name per boundary part for the file: the qualified ``name.side`` when the primitive has a name."""
    return sorted(labels, key=lambda label: ("." not in label, label))[0] if labels else "boundary"


def default_nodes(dim: int) -> int:
    """Nodes per axis of fem's and fem_newton's default mesh: 65 in 1D and 2D, 17 in 3D (P2 on 17³ nodes is
    already ~35,000 unknowns)."""
    return 17 if dim == 3 else 65


def nodes_option() -> Any:
    """The ``n`` option of the solvers that mesh a domain (fem, fem_newton, fem_mol)."""
    return option(
        None, "nodes across the initial mesh, per axis on boxes (None: the problem's default; mesh files ignore it)"
    )
