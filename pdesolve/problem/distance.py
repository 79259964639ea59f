"""Smooth approximate distance functions (ADFs) to boundaries or parts of them, in torch.

Sukumar & Srinivasan (2022), "Exact imposition of boundary conditions with distance functions in
physics-informed deep neural networks", CMAME 389:114333:

- a boundary piece is a curve ``f = 0`` (``f`` normalised to first order: ``|∇f| = 1`` on it) trimmed
  to where ``t ≥ 0``: ``φ = sqrt(f² + ((sqrt(t² + f⁴) − t)/2)²)`` (their eqs. 5–8) vanishes exactly on the
  piece and is smooth off its two ends. A segment of length ``L``: ``f`` its signed line distance,
  ``t = ((L/2)² − |x − x_mid|²)/L``; an arc of radius ``r`` (kept under a quarter turn) with chord ``ℓ``:
  ``f = (r² − |x − c|²)/(2r)`` and ``t`` the same disk on its chord, which holds exactly that arc.
- pieces join by the R-equivalence of order 1, ``1/φ = Σ_i 1/φ_i``: zero exactly on every piece,
  positive elsewhere, normalised to first order.
- a convex polygonal hole (a closed chain of segments, such as a mesh's chords of a circle) instead takes its
  exterior Green's function ``R̄ (e^g − 1)`` (:mod:`pdesolve.problem.hole_potential`, a lightning fit exact to
  1e-12): any function built from the sides, the Euclidean distance included, has a Laplacian that alternates
  sector by sector around the hole, which a network multiplying it cannot undo. It joins the rest by the
  R-equivalence of order 2, ``φ^{−2} = φ_rest^{−2} + Σ_h d_h^{−2}`` (their m-th order R-equivalence, m = 2), whose
  Laplacian vanishes on the boundary away from the junctions; the order-1 join of many short chords saturates
  (``φ ≈ d − d² Σ_j 1/φ_j``, large beside every chord). Where the fit does not reach 1e-12 (sharp vertices), the
  hole keeps its Euclidean distance, blended near each vertex (a reflex corner of the domain) into the corner's
  harmonic singular function ``r^{π/ω} cos(πθ/ω)`` (:func:`corner_adapted`), which removes its ``1/r`` Laplacian.

Boxes use the products ``Π (x_k − a_k)(b_k − x_k)`` of their faces instead, disks ``r² − |x − c|²``.
Constructive domains and 2D meshes use the pieces of their exact boundary (a mesh's facets, collinear
runs merged), so the function vanishes on the parts where a condition holds and nowhere else inside;
balls and 3D constructive domains their faces and spheres (:mod:`pdesolve.problem.surface_distance`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from pdesolve.errors import ProblemError
from pdesolve.problem import pieces as bp
from pdesolve.problem.domains import Ball, Box, Disk, Domain, Polygon
from pdesolve.problem.hole_potential import hole_potential

Distance = Callable[[torch.Tensor], torch.Tensor]


def box_distance(lower: list[float], upper: list[float], faces: list[tuple[int, int]]) -> Distance:
    """Product over the faces (axis, 0 lower | 1 upper): ``4 (x_k − a_k)(b_k − x_k)/(b_k − a_k)²`` for an axis
    with both faces, ``(x_k − a_k)/(b_k − a_k)`` or ``(b_k − x_k)/(b_k − a_k)`` for one: 0 exactly on those faces."""
    sides = {k: {side for axis, side in faces if axis == k} for k, _ in faces}

    def phi(points: torch.Tensor) -> torch.Tensor:
        out = torch.ones_like(points[:, 0])
        for k, chosen in sides.items():
            a, b = lower[k], upper[k]
            if chosen == {0, 1}:
                out = out * 4 * (points[:, k] - a) * (b - points[:, k]) / (b - a) ** 2
            elif chosen == {0}:
                out = out * (points[:, k] - a) / (b - a)
            else:
                out = out * (b - points[:, k]) / (b - a)
        return out

    return phi


def disk_distance(center: tuple[float, float], radius: float) -> Distance:
    """``(r² − |x − c|²)/r²``."""

    def phi(points: torch.Tensor) -> torch.Tensor:
        squared = (points[:, 0] - center[0]) ** 2 + (points[:, 1] - center[1]) ** 2
        return (radius**2 - squared) / radius**2

    return phi


def ball_distance(center: tuple[float, float, float], radius: float) -> Distance:
    """``(r² − |x − c|²)/r²``."""

    def phi(points: torch.Tensor) -> torch.Tensor:
        squared = sum((points[:, k] - center[k]) ** 2 for k in range(3))
        return (radius**2 - squared) / radius**2

    return phi


def _trimmed(f: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``sqrt(f² + ((sqrt(t² + f⁴) − t)/2)²)``: 0 exactly where ``f = 0`` and ``t ≥ 0``."""
    varphi = torch.sqrt(t**2 + f**4)
    return torch.sqrt(f**2 + ((varphi - t) / 2) ** 2)


def whole_circles(pieces: list[bp.Piece]) -> tuple[list[bp.Piece], list[tuple[tuple[float, float], float, float]]]:
    """The pieces less the arcs that close a whole circle, and those circles as (center, radius, ±1: domain
    inside | outside): a circle needs no trimming, and untrimmed it has no junctions where derivatives blow up."""
    turns: dict[tuple, float] = {}
    for piece in pieces:
        if isinstance(piece, bp.Arc):
            key = (piece.center, piece.radius)
            turns[key] = turns.get(key, 0.0) + piece.sweep
    closed = {key: turn for key, turn in turns.items() if abs(abs(turn) - 2 * math.pi) < 1e-9}
    rest = [p for p in pieces if not (isinstance(p, bp.Arc) and (p.center, p.radius) in closed)]
    return rest, [(center, radius, math.copysign(1.0, turn)) for (center, radius), turn in closed.items()]


def straight_runs(segments: list[bp.Segment]) -> list[bp.Segment]:
    """Segments that continue one another on one line joined into one (no junction inside a straight side)."""
    starts = {segment.a: k for k, segment in enumerate(segments)}
    following = {}
    for k, segment in enumerate(segments):
        nxt = starts.get(segment.b)
        if nxt is not None and nxt != k:
            d0 = np.subtract(segment.b, segment.a)
            d1 = np.subtract(segments[nxt].b, segments[nxt].a)
            if abs(d0[0] * d1[1] - d0[1] * d1[0]) <= 1e-12 * segment.length * segments[nxt].length and d0 @ d1 > 0:
                following[k] = nxt
    heads = set(range(len(segments))) - set(following.values())
    if not heads and following:  # a closed straight loop cannot happen; keep the pieces as they are
        return segments
    runs = []
    for head in sorted(heads):
        last = head
        while last in following:
            last = following[last]
        runs.append(bp.Segment(segments[head].a, segments[last].b))
    return runs


def convex_holes(segments: list[bp.Segment]) -> tuple[list[bp.Segment], list[np.ndarray]]:
    """The segments less the closed chains that turn clockwise at every vertex (the domain, on their left, lies
    outside a convex polygon: a polygonal hole), and those chains' vertices in order."""
    starts = {segment.a: k for k, segment in enumerate(segments)}
    used: set[int] = set()
    holes = []
    for first in range(len(segments)):
        if first in used:
            continue
        chain = [first]
        following = starts.get(segments[first].b)
        while following is not None and following not in chain:
            chain.append(following)
            following = starts.get(segments[following].b)
        if following != first or len(chain) < 3:
            continue
        vertices = np.array([segments[k].a for k in chain], dtype=float)
        edges = np.roll(vertices, -1, axis=0) - vertices
        turns = edges[:, 0] * np.roll(edges[:, 1], -1) - edges[:, 1] * np.roll(edges[:, 0], -1)
        if np.all(turns <= 1e-12 * np.sum(edges**2, axis=1)):
            holes.append(vertices)
            used.update(chain)
    return [s for k, s in enumerate(segments) if k not in used], holes


def hole_distance(vertices: np.ndarray) -> Distance:
    """The Euclidean distance to a convex polygon, ``min_i`` of the distance to each side: ``|f_i|`` (the line
    distance) beside the side, the distance to its nearer end beyond it. Outside a convex set the distance has
    no medial axis, so it is C¹ with a bounded second derivative off the vertices: Δφ = 0 beside a side, ``1/r``
    in the wedge ahead of a vertex (r the distance to it). The R-equivalence of the sides instead saturates at
    distances of the order of a side's length (``φ ≈ d − d² Σ_j 1/φ_j``)."""
    a = torch.as_tensor(vertices, dtype=torch.float64)
    b = torch.roll(a, -1, dims=0)
    edge = b - a
    squared = torch.sum(edge**2, dim=1)

    def phi(points: torch.Tensor) -> torch.Tensor:
        start, end, along, size = (v.to(points) for v in (a, b, edge, squared))
        x = points[:, None, :2] - start  # (N, sides, 2)
        s = torch.sum(x * along, dim=-1) / size
        line = torch.abs(x[..., 0] * along[:, 1] - x[..., 1] * along[:, 0]) / torch.sqrt(size)
        beyond = torch.where((s < 0)[..., None], x, points[:, None, :2] - end)
        tiny = torch.finfo(points.dtype).tiny  # keeps the square root differentiable at a vertex
        corner = torch.sqrt(torch.sum(beyond**2, dim=-1).clamp_min(tiny))
        return torch.where((s >= 0) & (s <= 1), line, corner).min(dim=1).values

    return phi


CORNER_REACH = 0.5  # the blend around a hole's vertex ends at this fraction of its shorter side


def _smoothstep(s: torch.Tensor) -> torch.Tensor:
    """``1`` at ``s = 0``, ``0`` for ``s ≥ 1``, the quintic ``1 − (10s³ − 15s⁴ + 6s⁵)`` between: C²."""
    s = s.clamp(0.0, 1.0)
    return 1 - s**3 * (10 - 15 * s + 6 * s**2)


def corner_adapted(distance: Distance, vertices: np.ndarray) -> Distance:
    """``distance`` to a convex polygonal hole with each vertex's 1/r Laplacian removed.

    At a vertex the domain is a wedge of angle ``ω = 2π − β`` (β the polygon's interior angle, so ω > π: a
    reflex corner). Any function vanishing on both sides with a non-zero normal derivative, the distance
    included, has ``Δφ ~ 1/r`` there; ``ψ = c r^α cos(αθ)`` with ``α = π/ω`` and θ the angle from the
    wedge's bisector is harmonic, vanishes on both sides, and is the leading singular function of the heat
    or Laplace equation at that corner (Grisvard 1985, §4; Hu, Jin & Zhou 2024 enrich networks with it).
    ``φ = χψ + (1 − χ) d`` with ``χ(r/ρ)`` a C² cut-off (1 at the vertex, 0 from ``ρ = CORNER_REACH ·`` the
    shorter side on, so the vertices' blends do not overlap): zero on the sides, positive inside, its Laplacian
    bounded; ``c = ρ^{1−α}/α`` matches ψ's normal derivative on the sides to the distance's at ``r = ρ``."""
    v = torch.as_tensor(vertices, dtype=torch.float64)
    ahead, behind = torch.roll(v, -1, dims=0) - v, torch.roll(v, 1, dims=0) - v
    sides = torch.minimum(ahead.norm(dim=1), behind.norm(dim=1))
    unit_ahead, unit_behind = ahead / ahead.norm(dim=1, keepdim=True), behind / behind.norm(dim=1, keepdim=True)
    beta = torch.arccos((unit_ahead * unit_behind).sum(dim=1).clamp(-1.0, 1.0))
    alpha = math.pi / (2 * math.pi - beta)
    bisector = -(unit_ahead + unit_behind)
    bisector = bisector / bisector.norm(dim=1, keepdim=True)
    reach = CORNER_REACH * sides
    scale = reach ** (1 - alpha) / alpha

    def phi(points: torch.Tensor) -> torch.Tensor:
        d = distance(points)
        corner, axis, a, rho, c = (w.to(points) for w in (v, bisector, alpha, reach, scale))
        x = points[:, None, :2] - corner  # (N, vertices, 2)
        tiny = torch.finfo(points.dtype).tiny
        r = torch.sqrt(torch.sum(x**2, dim=-1).clamp_min(tiny))
        theta = torch.atan2(axis[:, 0] * x[..., 1] - axis[:, 1] * x[..., 0], torch.sum(axis * x, dim=-1))
        psi = c * r**a * torch.cos(a * theta)
        chi = _smoothstep(r / rho)
        return d * (1 - chi.sum(dim=1)) + torch.sum(chi * psi, dim=1)

    return phi


def pieces_distance(pieces: list[bp.Piece], scale: float, join: bool = True) -> Distance:
    """``1/φ = Σ_i scale/φ_i`` over trimmed segments and arcs and untrimmed whole circles
    ``±(r² − |x − c|²)/(2r)``, joined to the distances of convex polygonal holes (:func:`hole_distance`) by
    ``φ^{−2} = φ^{−2} + Σ_h (d_h/scale)^{−2}`` (points (N, ≥2), the first two columns used); ``join`` first joins
    straight runs (:func:`straight_runs`)."""
    pieces, circles = whole_circles(pieces)
    segments, holes = convex_holes([p for p in pieces if isinstance(p, bp.Segment)])
    hole_distances = [
        hole_potential(vertices) or corner_adapted(hole_distance(vertices), vertices) for vertices in holes
    ]
    segments = straight_runs(segments) if join else segments
    arcs = [p for p in bp.shorter_arcs(pieces) if isinstance(p, bp.Arc)]
    p1 = torch.tensor([s.a for s in segments], dtype=torch.float64).reshape(-1, 2)
    p2 = torch.tensor([s.b for s in segments], dtype=torch.float64).reshape(-1, 2)
    length = torch.linalg.vector_norm(p2 - p1, dim=1)
    centre = (p1 + p2) / 2
    arc_centre = torch.tensor([a.center for a in arcs], dtype=torch.float64).reshape(-1, 2)
    radius = torch.tensor([a.radius for a in arcs], dtype=torch.float64)
    chord_a = torch.tensor([a.a for a in arcs], dtype=torch.float64).reshape(-1, 2)
    chord_b = torch.tensor([a.b for a in arcs], dtype=torch.float64).reshape(-1, 2)
    chord = torch.linalg.vector_norm(chord_b - chord_a, dim=1)
    chord_mid = (chord_a + chord_b) / 2

    def phi(points: torch.Tensor) -> torch.Tensor:
        x, y = points[:, :1], points[:, 1:2]  # (N, 1) against (pieces,)
        inverse = torch.zeros_like(points[:, 0])
        if segments:
            a, b, c, n = (v.to(points) for v in (p1, p2, centre, length))
            dx, dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
            f = ((x - a[:, 0]) * dy - (y - a[:, 1]) * dx) / n
            t = ((n / 2) ** 2 - (x - c[:, 0]) ** 2 - (y - c[:, 1]) ** 2) / n
            inverse = inverse + torch.sum(1 / (_trimmed(f, t) / scale), dim=1)
        if arcs:
            c, r, m, ell = (v.to(points) for v in (arc_centre, radius, chord_mid, chord))
            f = (r**2 - (x - c[:, 0]) ** 2 - (y - c[:, 1]) ** 2) / (2 * r)
            t = ((ell / 2) ** 2 - (x - m[:, 0]) ** 2 - (y - m[:, 1]) ** 2) / ell
            inverse = inverse + torch.sum(1 / (_trimmed(f, t) / scale), dim=1)
        for (cx, cy), r, side in circles:
            f = side * (r**2 - (points[:, 0] - cx) ** 2 - (points[:, 1] - cy) ** 2) / (2 * r)
            inverse = inverse + 1 / (f / scale)
        if not hole_distances:
            return 1 / inverse
        squared = inverse**2
        for hole in hole_distances:
            squared = squared + 1 / (hole(points) / scale) ** 2
        return 1 / torch.sqrt(squared)

    return phi


def polygon_distance(vertices: tuple[tuple[float, float], ...]) -> Distance:
    """The polygon's sides joined as above, scaled by its largest coordinate (at least 1)."""
    following = vertices[1:] + vertices[:1]
    scale = max(max(abs(c) for v in vertices for c in v), 1.0)
    return pieces_distance([bp.Segment(a, b) for a, b in zip(vertices, following)], scale, join=False)


def atoms(domain: Domain, names: frozenset[str] | None) -> frozenset:
    """The smallest boundary pieces a condition can claim: a box's faces (axis, side), else piece indices."""
    if isinstance(domain, Box):
        return frozenset(domain.face_names(domain.part_names if names is None else names))
    return frozenset(i for i, piece in enumerate(domain.boundary()) if names is None or piece.labels & names)


def distance_to(domain: Domain, chosen: frozenset, peak_one: bool = True) -> Distance:
    """An ADF of ``domain`` vanishing exactly on the atoms ``chosen`` (:func:`atoms`); constructive domains and
    meshes: divided by its largest value inside when ``peak_one``, else normalised to first order (≈ the
    distance near the chosen pieces, as the transfinite weights need to blend data over comparable lengths)."""
    if isinstance(domain, Box):
        return box_distance(list(domain.lower), list(domain.upper), sorted(chosen))
    everything = len(chosen) == len(domain.boundary())
    if everything and isinstance(domain, Ball):
        return ball_distance(domain.center, domain.radius)
    if everything and isinstance(domain, Disk):
        return disk_distance(domain.center, domain.radius)
    if everything and isinstance(domain, Polygon):
        return polygon_distance(domain.vertices)
    if domain.dim == 3:  # 3D constructive domains: trimmed faces and spheres
        from pdesolve.problem.surface_distance import surfaces_distance

        raw = surfaces_distance(domain, chosen)
    else:
        pieces = [piece for i, piece in enumerate(domain.pieces()) if i in chosen]
        raw = pieces_distance(pieces, 1.0)
    if not peak_one:
        return raw
    probe = torch.as_tensor(domain.sample_interior(256, seed=0, method="Hammersley"), dtype=torch.float64)
    peak = float(raw(probe).max())

    def phi(points: torch.Tensor) -> torch.Tensor:
        return raw(points) / peak

    return phi


def has_distance(domain: Domain) -> bool:
    """Whether :func:`distance_to` knows the domain: boxes, 2D domains with boundary pieces, 3D ones with surfaces."""
    if isinstance(domain, Box):
        return True
    try:
        return domain.dim in (2, 3) and bool(domain.boundary())
    except ProblemError:
        return False


def transfinite_weights(distances: list[torch.Tensor]) -> list[torch.Tensor]:
    """``w_i = Π_{j≠i} φ_j / Σ_k Π_{j≠k} φ_j`` (Sukumar & Srinivasan 2022, eq. 12 with μ = 1): 1 on part i, 0 on
    the others, so ``Σ w_i g_i`` equals each ``g_i`` on its own part exactly (0 where two parts meet)."""
    if len(distances) == 1:
        return [torch.ones_like(distances[0])]
    products = []
    for i in range(len(distances)):
        out = torch.ones_like(distances[0])
        for j, phi in enumerate(distances):
            if j != i:
                out = out * phi
        products.append(out)
    total = torch.stack(products).sum(dim=0).clamp_min(torch.finfo(distances[0].dtype).tiny)
    return [p / total for p in products]
