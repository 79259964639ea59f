"""Volumes of 3D constructive domains (Boolean combinations of boxes and balls).

Exact by inclusion–exclusion: the domain's indicator is a Boolean function ``F`` of its primitives'
indicators ``χ_i``, and its Möbius expansion ``F = Σ_S c_S Π_{i∈S} χ_i`` (``c_S = Σ_{T⊆S} (−1)^{|S∖T|} F(T)``)
gives ``|Ω| = Σ_S c_S |∩_{i∈S} P_i|``. Each intersection is a box (boxes meet in a box) cut by balls; its
volume is known in closed form when the balls are nested or disjoint and the smallest one's sphere crosses
the box's faces of one axis at most (a ball inside the box, cut by one or two parallel faces — ball minus its
caps, ``π ∫ r² − (x − c)² dx`` between the planes — the box inside the ball, or apart). Otherwise the volume is a
Monte Carlo estimate over the bounding box with :data:`SAMPLES` points, returned with its standard error
``|B| sqrt(p (1 − p)/N)``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from pdesolve.problem.domains import Ball, Box

MAX_PRIMITIVES = 12  # 2^m subsets
SAMPLES = 2**18


def volume(domain) -> tuple[float, float]:
    """(volume, standard error): exact (error 0) where :func:`exact_volume` applies, else Monte Carlo."""
    exact = exact_volume(domain)
    if exact is not None:
        return exact, 0.0
    lower, upper = domain.bounds
    points = lower + (upper - lower) * np.random.default_rng(0).uniform(size=(SAMPLES, 3))
    share = float(np.mean(domain.level(points) > 0))
    box = float(np.prod(upper - lower))
    return box * share, box * math.sqrt(share * (1 - share) / SAMPLES)


def exact_volume(domain) -> float | None:
    """The volume by inclusion–exclusion, or None where an intersection has no closed form here."""
    primitives = domain.primitives
    m = len(primitives)
    if m > MAX_PRIMITIVES:
        return None
    truth = np.array(
        [
            domain.formula([bool(mask >> i & 1) for i in range(m)], _boolean)
            for mask in range(2**m)  # bit i: inside primitive i
        ],
        dtype=float,
    )
    coefficients = truth.copy()
    for i in range(m):  # Möbius transform over the subset lattice
        with_i = (np.arange(2**m) >> i & 1).astype(bool)
        coefficients[with_i] -= coefficients[~with_i]
    total = 0.0
    for mask in np.flatnonzero(np.abs(coefficients) > 0.5):
        part = _intersection_volume([primitives[i] for i in range(m) if mask >> i & 1])
        if part is None:
            return None
        total += coefficients[mask] * part
    return float(total)


def _boolean(symbol: str, a: bool, b: bool) -> bool:
    return {"|": a or b, "&": a and b, "-": a and not b}[symbol]


def _intersection_volume(primitives: list) -> float | None:
    boxes = [p for p in primitives if isinstance(p, Box)]
    balls = [p for p in primitives if isinstance(p, Ball)]
    lower = np.max([b.lower for b in boxes], axis=0) if boxes else None
    upper = np.min([b.upper for b in boxes], axis=0) if boxes else None
    if boxes and np.any(upper <= lower):
        return 0.0
    if not balls:
        return float(np.prod(upper - lower))
    centers = [np.asarray(b.center) for b in balls]
    for (c0, b0), (c1, b1) in itertools.combinations(zip(centers, balls), 2):
        if np.linalg.norm(c1 - c0) >= b0.radius + b1.radius:
            return 0.0
    smallest = min(range(len(balls)), key=lambda k: balls[k].radius)
    c, r = centers[smallest], balls[smallest].radius
    if any(np.linalg.norm(c - ck) + r > b.radius for ck, b in zip(centers, balls)):
        return None  # crossing spheres
    if not boxes:
        return 4 / 3 * math.pi * r**3
    corners = np.array(list(itertools.product(*zip(lower, upper))))
    if np.all(np.linalg.norm(corners - c, axis=1) <= r):
        return float(np.prod(upper - lower))
    if np.linalg.norm(np.clip(c, lower, upper) - c) >= r:
        return 0.0
    cut = np.flatnonzero((c - r < lower) | (c + r > upper))  # axes whose faces the sphere crosses
    if len(cut) > 1:
        return None  # the sphere crosses faces of two axes (an edge's neighbourhood)
    k = int(cut[0]) if len(cut) else 0
    a, b = max(lower[k], c[k] - r), min(upper[k], c[k] + r)
    # the ball between the planes x_k = a and x_k = b: π ∫ r² − (x − c)² dx
    return math.pi * (r * r * (b - a) - ((b - c[k]) ** 3 - (a - c[k]) ** 3) / 3)
