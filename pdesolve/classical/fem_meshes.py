"""scikit-fem meshes for the domains of the problem layer.

Boxes are tensor meshes with ``n`` nodes per axis (intervals, triangles, tetrahedra); disks refine
scikit-fem's circle mesh until its edges are about ``diameter / (n - 1)`` long, projecting new
boundary nodes onto the circle; polygons are triangulated below; :class:`Mesh` domains are read with
meshio. ``refine`` halves the mesh size that many more times.
"""

from __future__ import annotations

import math

import numpy as np
import skfem
from scipy.spatial import Delaunay

from pdesolve.errors import NotApplicableError, ProblemError
from pdesolve.problem import Box, Disk, Domain, Mesh, Polygon

# the mean edge of MeshTri.init_circle(k) on the unit disk is about CIRCLE_EDGE / 2**k
CIRCLE_EDGE = 1.38


def build_mesh(domain: Domain, n: int, refine: int = 0) -> skfem.Mesh:
    """A mesh of ``domain`` with about ``n`` nodes across it, refined ``refine`` more times."""
    if n < 2:
        raise ProblemError(f"a mesh needs n >= 2 nodes per axis, got {n}")
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
    else:
        raise NotApplicableError(f"fem has no mesh for a {type(domain).__name__} domain")
    return mesh.refined(refine) if refine else mesh


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of each point to the segment ``[a, b]``."""
    edge = b - a
    t = np.clip((points - a) @ edge / (edge @ edge), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[:, None] * edge), axis=1)


def triangulate_polygon(polygon: Polygon, n: int) -> skfem.MeshTri:
    """Conforming triangles of a simple polygon with edges about ``h = max extent / (n - 1)`` long.

    Points: every edge split evenly into pieces of at most ``h``, plus the nodes of an ``h``-grid
    farther than ``h / 2`` from the boundary. Their Delaunay triangulation contains the boundary
    pieces (no other point lies in a piece's diametral circle), so dropping the triangles whose
    centroid lies outside leaves a conforming mesh of the polygon; its area and boundary length are
    checked against the polygon's. Grid-aligned polygons whose corners are grid nodes (the L-shape
    with odd ``n``) get the regular right-triangle mesh.
    """
    vertices = np.array(polygon.vertices, dtype=float)
    following = np.roll(vertices, -1, axis=0)
    lower, upper = polygon.bounds
    h = float(np.max(upper - lower)) / (n - 1)
    boundary = []
    for a, b in zip(vertices, following):
        pieces = max(1, math.ceil(np.linalg.norm(b - a) / h - 1e-9))
        boundary.append(a + np.linspace(0.0, 1.0, pieces + 1)[:-1, None] * (b - a))
    counts = np.floor((upper - lower) / h + 1e-9).astype(int) + 1
    axes = [lo + h * np.arange(c) for lo, c in zip(lower, counts)]
    grid = np.stack([c.ravel() for c in np.meshgrid(*axes, indexing="ij")], axis=1)
    distance = np.min([_segment_distance(grid, a, b) for a, b in zip(vertices, following)], axis=0)
    interior = grid[(distance > 0.5 * h) & polygon.inside(grid)]
    points = np.vstack([*boundary, interior])
    triangles = Delaunay(points).simplices
    corners = points[triangles]
    areas = 0.5 * np.abs(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]))
    keep = (areas > 1e-12 * h * h) & polygon.inside(corners.mean(axis=1))
    mesh = skfem.MeshTri(points.T.copy(), triangles[keep].T.copy())
    _check_covers(mesh, vertices, following, areas[keep].sum())
    return mesh


def _check_covers(mesh: skfem.MeshTri, vertices: np.ndarray, following: np.ndarray, area: float) -> None:
    """The mesh has the polygon's area and perimeter, i.e. it covers it without crossing its edges."""
    exact_area = 0.5 * abs(np.sum(vertices[:, 0] * following[:, 1] - following[:, 0] * vertices[:, 1]))
    perimeter = np.linalg.norm(following - vertices, axis=1).sum()
    ends = mesh.p[:, mesh.facets[:, mesh.boundary_facets()]]
    length = np.linalg.norm(ends[:, 0] - ends[:, 1], axis=0).sum()
    if not (np.isclose(area, exact_area, rtol=1e-9) and np.isclose(length, perimeter, rtol=1e-9)):
        raise ProblemError(
            f"could not triangulate the polygon (area {area:.6g} vs {exact_area:.6g}, boundary {length:.6g} vs "
            f"{perimeter:.6g}); try another n or give a Mesh domain"
        )
