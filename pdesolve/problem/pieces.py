"""Boundary pieces of 2D domains: straight segments and circular arcs, each with the names of its part.

A piece is oriented with the domain on its left, so its outward normal is the direction of travel
turned clockwise. The boundary of a constructive domain is the set of its primitives' pieces split at
their mutual intersections and kept where the domain lies on exactly one side
(:func:`boundary_of`). From the pieces follow exact areas (Green's theorem, ``|Ω| = ½∮ x dy − y dx``),
uniform boundary points with exact normals, the part a boundary point belongs to, the finite-element
mesher's boundary nodes and the approximate distance functions of :mod:`pdesolve.problem.distance`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

# arcs are kept below a quarter turn: the disk on a chord then trims exactly that arc (distance functions)
MAX_SWEEP = math.pi / 2


@dataclass(frozen=True)
class Segment:
    """The segment from ``a`` to ``b``."""

    a: tuple[float, float]
    b: tuple[float, float]
    labels: frozenset[str] = frozenset()

    @property
    def length(self) -> float:
        return math.dist(self.a, self.b)

    def at(self, s: np.ndarray) -> np.ndarray:
        a, b = np.asarray(self.a), np.asarray(self.b)
        return a + np.asarray(s, dtype=float)[:, None] * (b - a)

    def normal(self, s: np.ndarray) -> np.ndarray:
        d = (np.asarray(self.b) - np.asarray(self.a)) / self.length
        return np.tile([d[1], -d[0]], (len(np.atleast_1d(s)), 1))

    def reversed(self) -> Segment:
        return replace(self, a=self.b, b=self.a)

    def parameter(self, point: np.ndarray) -> float:
        a, b = np.asarray(self.a), np.asarray(self.b)
        return float((point - a) @ (b - a) / ((b - a) @ (b - a)))

    def sub(self, s0: float, s1: float) -> Segment:
        a, b = self.at(np.array([s0, s1]))
        return replace(self, a=tuple(a), b=tuple(b))

    def distance(self, points: np.ndarray) -> np.ndarray:
        a, b = np.asarray(self.a), np.asarray(self.b)
        t = np.clip((points - a) @ (b - a) / ((b - a) @ (b - a)), 0.0, 1.0)
        return np.linalg.norm(points - (a + t[:, None] * (b - a)), axis=1)

    def green(self) -> float:
        """``½∫ x dy − y dx`` along the piece."""
        return 0.5 * (self.a[0] * self.b[1] - self.b[0] * self.a[1])


@dataclass(frozen=True)
class Arc:
    """``center + radius (cos θ, sin θ)`` for θ from ``start`` over ``sweep`` (> 0 counter-clockwise)."""

    center: tuple[float, float]
    radius: float
    start: float
    sweep: float
    labels: frozenset[str] = frozenset()

    @property
    def length(self) -> float:
        return self.radius * abs(self.sweep)

    @property
    def a(self) -> tuple[float, float]:
        return tuple(self.at(np.array([0.0]))[0])

    @property
    def b(self) -> tuple[float, float]:
        return tuple(self.at(np.array([1.0]))[0])

    def at(self, s: np.ndarray) -> np.ndarray:
        angle = self.start + np.asarray(s, dtype=float) * self.sweep
        return np.asarray(self.center) + self.radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)

    def normal(self, s: np.ndarray) -> np.ndarray:
        """Radial outward when the arc turns counter-clockwise (domain inside the circle), inward otherwise."""
        return math.copysign(1.0, self.sweep) * (self.at(s) - np.asarray(self.center)) / self.radius

    def reversed(self) -> Arc:
        return replace(self, start=self.start + self.sweep, sweep=-self.sweep)

    def parameter(self, point: np.ndarray) -> float:
        angle = math.atan2(point[1] - self.center[1], point[0] - self.center[0])
        turn = ((angle - self.start) * math.copysign(1.0, self.sweep)) % (2 * math.pi)
        return turn / abs(self.sweep)

    def sub(self, s0: float, s1: float) -> Arc:
        return replace(self, start=self.start + s0 * self.sweep, sweep=(s1 - s0) * self.sweep)

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Distance to the arc: to the circle where the point's angle lies on the arc, else to an end."""
        c = np.asarray(self.center)
        angle = np.arctan2(points[:, 1] - c[1], points[:, 0] - c[0])
        turn = ((angle - self.start) * math.copysign(1.0, self.sweep)) % (2 * math.pi)
        radial = np.abs(np.linalg.norm(points - c, axis=1) - self.radius)
        ends = np.minimum(np.linalg.norm(points - self.a, axis=1), np.linalg.norm(points - self.b, axis=1))
        return np.where(turn <= abs(self.sweep), radial, ends)

    def green(self) -> float:
        """``½∫ x dy − y dx`` along the arc, in closed form."""
        (cx, cy), r, t0 = self.center, self.radius, self.start
        t1 = t0 + self.sweep
        return 0.5 * (
            r * r * self.sweep + r * (cx * (math.sin(t1) - math.sin(t0)) - cy * (math.cos(t1) - math.cos(t0)))
        )


Piece = Segment | Arc


def circle(center: tuple[float, float], radius: float, labels: frozenset[str]) -> list[Arc]:
    """A full counter-clockwise circle as four quarter arcs."""
    return [Arc(center, radius, k * math.pi / 2, math.pi / 2, labels) for k in range(4)]


def polyline(vertices: np.ndarray, labels: list[frozenset[str]]) -> list[Segment]:
    """The closed polygon's sides, turned counter-clockwise when the vertices go clockwise."""
    following = np.roll(vertices, -1, axis=0)
    sides = [Segment(tuple(a), tuple(b), name) for a, b, name in zip(vertices, following, labels)]
    if np.sum(vertices[:, 0] * following[:, 1] - following[:, 0] * vertices[:, 1]) < 0:
        sides = [side.reversed() for side in sides]
    return sides


def _crossings(p: Piece, q: Piece) -> list[np.ndarray]:
    """Points where the curves carrying ``p`` and ``q`` meet (lines, circles), plus collinear overlaps' ends."""
    if isinstance(p, Arc) and isinstance(q, Segment):
        p, q = q, p
    if isinstance(p, Segment) and isinstance(q, Segment):
        a, d = np.asarray(p.a), np.asarray(p.b) - np.asarray(p.a)
        c, e = np.asarray(q.a), np.asarray(q.b) - np.asarray(q.a)
        cross = d[0] * e[1] - d[1] * e[0]
        if abs(cross) > 1e-14 * np.linalg.norm(d) * np.linalg.norm(e):
            s = ((c[0] - a[0]) * e[1] - (c[1] - a[1]) * e[0]) / cross
            return [a + s * d]
        return [a, a + d, c, c + e]  # parallel: the ends split collinear overlaps
    if isinstance(p, Segment):
        a, d, c = np.asarray(p.a), np.asarray(p.b) - np.asarray(p.a), np.asarray(q.center)
        qa, qb, qc = d @ d, 2 * d @ (a - c), (a - c) @ (a - c) - q.radius**2
        disc = qb * qb - 4 * qa * qc
        if disc < 0:
            return []
        return [a + s * d for s in ((-qb - math.sqrt(disc)) / (2 * qa), (-qb + math.sqrt(disc)) / (2 * qa))]
    c0, c1 = np.asarray(p.center), np.asarray(q.center)
    gap = float(np.linalg.norm(c1 - c0))
    if gap == 0 or gap > p.radius + q.radius or gap < abs(p.radius - q.radius):
        return []
    along = (p.radius**2 - q.radius**2 + gap**2) / (2 * gap)
    across = math.sqrt(max(p.radius**2 - along**2, 0.0))
    unit = (c1 - c0) / gap
    base = c0 + along * unit
    return [base + across * np.array([-unit[1], unit[0]]), base - across * np.array([-unit[1], unit[0]])]


def _split(piece: Piece, points: list[np.ndarray], tol: float) -> list[Piece]:
    """``piece`` cut at those of ``points`` that lie on it (away from its ends)."""
    cuts = sorted(piece.parameter(point) for point in points if piece.distance(point[None])[0] < tol)
    cuts = [s for s in cuts if s * piece.length > tol and (1 - s) * piece.length > tol]
    ends = [0.0, *cuts, 1.0]
    return [piece.sub(s0, s1) for s0, s1 in zip(ends[:-1], ends[1:]) if (s1 - s0) * piece.length > tol]


def boundary_of(primitives: list[list[Piece]], inside: Callable[[np.ndarray], np.ndarray], scale: float) -> list[Piece]:
    """The pieces of the primitives' boundaries that bound the domain ``inside``, oriented with it on the left.

    Each piece is cut where another primitive's curve crosses it; a cut piece is kept when points at
    ``±ε n`` off its midpoint fall on different sides of the domain, turned around when the domain is
    on its outer side; coincident kept pieces are merged, their names joined.
    """
    tol, eps = 1e-10 * scale, 1e-7 * scale
    kept: list[Piece] = []
    for k, own in enumerate(primitives):
        others = [q for j, pieces in enumerate(primitives) if j != k for q in pieces]
        for piece in own:
            points = [x for q in others for x in _crossings(piece, q) if q.distance(x[None])[0] < tol]
            for part in _split(piece, points, tol):
                middle, normal = part.at(np.array([0.5])), part.normal(np.array([0.5]))
                before, after = inside(middle - eps * normal)[0], inside(middle + eps * normal)[0]
                if before != after:
                    kept.append(part if before else part.reversed())
    return _merge_coincident(kept, tol)


def _merge_coincident(pieces: list[Piece], tol: float) -> list[Piece]:
    out: list[Piece] = []
    for piece in pieces:
        middle = piece.at(np.array([0.5]))
        same = next(
            (
                k
                for k, other in enumerate(out)
                if type(other) is type(piece)
                and other.distance(middle)[0] < tol
                and min(
                    math.dist(other.a, piece.a) + math.dist(other.b, piece.b),
                    math.dist(other.a, piece.b) + math.dist(other.b, piece.a),
                )
                < tol
            ),
            None,
        )
        if same is None:
            out.append(piece)
        else:
            out[same] = replace(out[same], labels=out[same].labels | piece.labels)
    return out


def shorter_arcs(pieces: list[Piece]) -> list[Piece]:
    """Arcs longer than :data:`MAX_SWEEP` cut into equal shorter ones."""
    out: list[Piece] = []
    for piece in pieces:
        count = math.ceil(abs(piece.sweep) / MAX_SWEEP - 1e-12) if isinstance(piece, Arc) else 1
        out += [piece.sub(k / count, (k + 1) / count) for k in range(count)] if count > 1 else [piece]
    return out


def area(pieces: list[Piece]) -> float:
    """The area enclosed by oriented pieces (Green's theorem)."""
    return float(sum(piece.green() for piece in pieces))


def sample(pieces: list[Piece], n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` points uniform in arc length on the pieces, their outward normals and the piece of each."""
    lengths = np.array([piece.length for piece in pieces])
    which = rng.choice(len(pieces), size=n, p=lengths / lengths.sum())
    s = rng.uniform(size=n)
    points, normals = np.empty((n, 2)), np.empty((n, 2))
    for k, piece in enumerate(pieces):
        mine = which == k
        points[mine], normals[mine] = piece.at(s[mine]), piece.normal(s[mine])
    return points, normals, which


def nearest(pieces: list[Piece], points: np.ndarray, tol: float) -> np.ndarray:
    """(points, pieces) bool: the pieces nearest each point (every piece within ``tol`` of the nearest)."""
    distances = np.stack([piece.distance(points) for piece in pieces], axis=1)
    return distances <= distances.min(axis=1, keepdims=True) + tol
