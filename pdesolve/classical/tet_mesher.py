"""Tetrahedral meshes of balls and 3D constructive domains (boxes and balls combined).

The 3D counterpart of :func:`pdesolve.classical.fem_meshes.triangulate`: nodes are placed on the exact
boundary and a Delaunay tetrahedralization of them is kept inside.

- boundary nodes: on each face that bounds the domain a grid of spacing ≤ ``h`` (aligned with the box's edges,
  so faces sharing an edge share its nodes), on each sphere a Fibonacci lattice of spacing about ``h``, both
  kept where they bound the domain (:func:`pdesolve.problem.surfaces.on_boundary`) and away (0.4 ``h``) from
  the other surfaces, and nodes every ``h`` along the curves where two surfaces meet (circles, lines);
- interior nodes: a body-centred cubic lattice of spacing ``h`` (its Delaunay cells are congruent
  tetrahedra of quality 0.93 in :func:`quality`'s measure, with no cospherical degeneracy) at signed distance
  > 0.45 ``h`` from the boundary, moved by ±2 % of ``h`` at random off the cospherical sets a cut lattice
  still forms near the boundary (their flat tetrahedra would leave holes);
- Delaunay's tetrahedra (scipy/Qhull) with a lattice node, or else with their centroid inside, are kept
  (a coarse sphere's chords put the centroid of a tetrahedron standing on one inside the ball); flat ones
  (four coplanar nodes of a face) are dropped, all are oriented positively. Lattice nodes of slivers
  (quality < 0.1, Delaunay's known defect in 3D) are removed and the nodes triangulated again, a few times.
- every boundary facet must have its three nodes on one surface. For a convex hole (a subtracted ball) and
  the box's own faces this holds: the sphere through a hull triangle of the sphere nodes, pushed outward, is
  empty. Where a facet cuts across instead (Delaunay does not recover every non-convex boundary: a concave
  crease, where a ball bulges out of a box), the crease's nodes are placed closer and the mesh made again;
  after the last try it is refused with a one-line error.

:func:`curved` moves the midpoints of boundary edges on a sphere onto it (the isoparametric P2 mesh).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import skfem
from scipy.spatial import Delaunay

from pdesolve.errors import ProblemError
from pdesolve.problem import surfaces as sf
from pdesolve.problem.domains import Domain

GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))
CREASES = (1.0, 0.7, 0.5)  # node spacings along the curves where surfaces meet, in h, tried in turn
JITTER = 0.02  # of h: the lattice nodes moved off the cospherical sets a cut lattice forms near the boundary
SLIVER, SLIVER_ROUNDS = 0.1, 4  # lattice nodes of tetrahedra below this quality are removed, this many times at most


def tetrahedralize(domain: Domain, h: float) -> skfem.MeshTet:
    """Conforming tetrahedra of a 3D domain with boundary surfaces, edges about ``h``, boundary nodes on them;
    where a boundary facet cuts across (a concave crease), again with the crease's nodes closer (:data:`CREASES`)."""
    for crease in CREASES:
        mesh, missed = _tetrahedra(domain, h, crease)
        if not missed:
            return mesh
    raise ProblemError(
        f"could not tetrahedralize {domain!r}: {missed} boundary facets cut across the domain; "
        "try another n or give a Mesh domain"
    )


def _tetrahedra(domain: Domain, h: float, crease: float) -> tuple[skfem.MeshTet, int]:
    """The mesh with crease nodes every ``crease · h`` and how many of its boundary facets miss the surfaces."""
    surfaces, scale = domain.surfaces(), domain.scale
    tol = 1e-9 * scale
    boundary = [_kept(domain, surfaces, k, _surface_nodes(surface, h), h) for k, surface in enumerate(surfaces)]
    boundary += [_junction_nodes(a, b, crease * h) for i, a in enumerate(surfaces) for b in surfaces[i + 1 :]]
    boundary = np.concatenate(boundary)
    boundary = boundary[np.abs(domain.level(boundary)) <= tol]
    lower, upper = domain.bounds
    counts = np.maximum(np.ceil((upper - lower) / h - 1e-9), 1).astype(int)
    step = (upper - lower) / counts
    corners = _lattice([lo + dx * np.arange(c + 1) for lo, dx, c in zip(lower, step, counts)])
    centres = _lattice([lo + dx * (np.arange(c) + 0.5) for lo, dx, c in zip(lower, step, counts)])
    lattice = np.concatenate([corners, centres])
    interior = lattice[domain.level(lattice) > 0.45 * h]
    interior = interior + JITTER * h * np.random.default_rng(0).uniform(-1, 1, size=interior.shape)
    boundary = np.unique(np.round(boundary / tol) * tol, axis=0)
    for _ in range(SLIVER_ROUNDS):
        points, cells = _delaunay_inside(domain, boundary, interior, h)
        used, cells = np.unique(cells, return_inverse=True)
        mesh = skfem.MeshTet(points[used].T.copy(), cells.reshape(-1, 4).T.copy())
        missed = _missed(mesh, surfaces, tol)
        if missed:  # a crease Delaunay does not follow: no use in removing slivers
            return mesh, missed
        slivers = used[mesh.t[:, quality(mesh) < SLIVER]]
        doomed = np.unique(slivers[slivers >= len(boundary)]) - len(boundary)
        if not len(doomed):
            break
        interior = np.delete(interior, doomed, axis=0)
    return mesh, 0


def _delaunay_inside(
    domain: Domain, boundary: np.ndarray, interior: np.ndarray, h: float
) -> tuple[np.ndarray, np.ndarray]:
    """The nodes and the positively oriented Delaunay tetrahedra kept inside (see the module's docstring)."""
    points = np.concatenate([boundary, interior])
    simplices = Delaunay(points).simplices
    corners = points[simplices]
    volumes = np.linalg.det(corners[:, 1:] - corners[:, :1]) / 6
    inner = np.any(simplices >= len(boundary), axis=1)  # a lattice node: inside
    keep = (np.abs(volumes) > 1e-10 * h**3) & (inner | (domain.level(corners.mean(axis=1)) > 0))
    cells = simplices[keep]
    flip = volumes[keep] < 0
    cells[flip, 0], cells[flip, 1] = cells[flip, 1], cells[flip, 0].copy()
    return points, cells


def _lattice(axes: list[np.ndarray]) -> np.ndarray:
    return np.stack([c.ravel() for c in np.meshgrid(*axes, indexing="ij")], axis=1)


def _surface_nodes(surface: sf.Surface, h: float) -> np.ndarray:
    """A grid of spacing ≤ h on a face (its edges included), a Fibonacci lattice of spacing ≈ h on a sphere."""
    if isinstance(surface, sf.Face):
        counts = [max(1, math.ceil((hi - lo) / h - 1e-9)) for lo, hi in zip(surface.lower, surface.upper)]
        return surface.at(_lattice([np.linspace(0.0, 1.0, c + 1) for c in counts]))
    count = max(8, math.ceil(surface.area / (math.sqrt(3) / 2 * h * h)))
    k = np.arange(count)
    uv = np.stack([(k + 0.5) / count, (k * GOLDEN_ANGLE / (2 * math.pi)) % 1.0], axis=1)
    return surface.at(uv)


def _kept(domain: Domain, surfaces: list[sf.Surface], k: int, points: np.ndarray, h: float) -> np.ndarray:
    """The nodes of surface ``k`` that bound the domain, farther than 0.4 h from any surface they do not lie on."""
    tol = 1e-9 * domain.scale
    kept, _ = sf.on_boundary(points, surfaces[k].normal(points), domain.inside, 1e-7 * domain.scale)
    edge = np.abs(domain.level(points)) <= tol  # on the domain's edges the ±ε test may miss
    points = points[kept | edge]
    for j, other in enumerate(surfaces):
        if j != k:
            gap = other.distance(points)
            points = points[(gap <= tol) | (gap > 0.4 * h)]
    return points


def _junction_nodes(a: sf.Surface, b: sf.Surface, h: float) -> np.ndarray:
    """Nodes every ≈ h along the curve where two surfaces meet (within both)."""
    if isinstance(a, sf.Sphere) and isinstance(b, sf.Face):
        a, b = b, a
    if isinstance(a, sf.Face) and isinstance(b, sf.Face):
        if a.axis == b.axis or (b.value in _span(a, b.axis) and a.value in _span(b, a.axis)):
            return np.empty((0, 3))  # parallel, or a box's edge (its faces' grids have its nodes)
        axis = 3 - a.axis - b.axis
        lo, hi = max(_span(a, axis)[0], _span(b, axis)[0]), min(_span(a, axis)[1], _span(b, axis)[1])
        if hi <= lo:
            return np.empty((0, 3))
        points = np.zeros((max(1, math.ceil((hi - lo) / h)) + 1, 3))
        points[:, axis] = np.linspace(lo, hi, len(points))
        points[:, a.axis], points[:, b.axis] = a.value, b.value
    elif isinstance(a, sf.Face):
        offset = a.value - b.center[a.axis]
        if abs(offset) >= b.radius:
            return np.empty((0, 3))
        centre = np.array(b.center, dtype=float)
        centre[a.axis] = a.value
        u, v = np.eye(3)[list(a.others)]
        points = _circle(centre, math.sqrt(b.radius**2 - offset**2), u, v, h)
    else:
        c0, c1 = np.asarray(a.center), np.asarray(b.center)
        gap = float(np.linalg.norm(c1 - c0))
        if gap == 0 or gap >= a.radius + b.radius or gap <= abs(a.radius - b.radius):
            return np.empty((0, 3))
        axis = (c1 - c0) / gap
        along = (a.radius**2 - b.radius**2 + gap**2) / (2 * gap)
        u = np.cross(axis, np.eye(3)[np.argmin(np.abs(axis))])
        u /= np.linalg.norm(u)
        points = _circle(c0 + along * axis, math.sqrt(a.radius**2 - along**2), u, np.cross(axis, u), h)
    tol = 1e-9 * max(1.0, float(np.max(np.abs(points))))
    return points[(a.distance(points) <= tol) & (b.distance(points) <= tol)]


def _span(face: sf.Face, axis: int) -> tuple[float, float]:
    k = face.others.index(axis)
    return face.lower[k], face.upper[k]


def _circle(centre: np.ndarray, radius: float, u: np.ndarray, v: np.ndarray, h: float) -> np.ndarray:
    angles = np.linspace(0.0, 2 * math.pi, max(6, math.ceil(2 * math.pi * radius / h)), endpoint=False)
    return centre + radius * (np.cos(angles)[:, None] * u + np.sin(angles)[:, None] * v)


def _missed(mesh: skfem.MeshTet, surfaces: list[sf.Surface], tol: float) -> int:
    """How many boundary facets do not have their three nodes on one surface of the domain."""
    nodes = mesh.p[:, mesh.facets[:, mesh.boundary_facets()]]  # (3, 3 nodes, facets)
    on_one = np.zeros(nodes.shape[2], dtype=bool)
    for surface in surfaces:
        near = [surface.distance(nodes[:, k].T) <= tol for k in range(3)]
        on_one |= near[0] & near[1] & near[2]
    return int((~on_one).sum())


def quality(mesh: skfem.MeshTet) -> np.ndarray:
    """``6√2 V / ℓ³`` with ℓ the root mean square edge: 1 for a regular tetrahedron, 0 for a flat one, < 0 inverted."""
    corners = mesh.p[:, mesh.t].transpose(2, 1, 0)  # (cells, 4, 3)
    edges = [corners[:, j] - corners[:, i] for i in range(4) for j in range(i + 1, 4)]
    rms = np.sqrt(sum((e**2).sum(axis=1) for e in edges) / 6)
    volume = np.einsum("ij,ij->i", edges[0], np.cross(edges[1], edges[2])) / 6
    return 6 * math.sqrt(2) * volume / rms**3


def curved(mesh: skfem.MeshTet, surfaces: list[sf.Surface]) -> skfem.MeshTet2:
    """The quadratic mesh of ``mesh`` whose boundary edge midpoints on a sphere lie on that sphere."""
    quadratic = skfem.MeshTet2.from_mesh(mesh)
    edges = np.unique(mesh.f2e[:, mesh.boundary_facets()])
    ends = mesh.p[:, mesh.edges[:, edges]]  # (3, 2, edges)
    doflocs = quadratic.doflocs.copy()
    tol = 1e-9 * float(np.max(np.abs(mesh.p)) + 1)
    for sphere in (s for s in surfaces if isinstance(s, sf.Sphere)):
        on = (sphere.distance(ends[:, 0].T) <= tol) & (sphere.distance(ends[:, 1].T) <= tol)
        dofs = mesh.p.shape[1] + edges[on]
        offset = doflocs[:, dofs] - np.asarray(sphere.center)[:, None]
        doflocs[:, dofs] = np.asarray(sphere.center)[:, None] + sphere.radius * offset / np.linalg.norm(offset, axis=0)
    return replace(quadratic, doflocs=doflocs)
