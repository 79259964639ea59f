"""Collocation points graded toward a named boundary part (a cylinder in a channel, a 2D domain's hole).

A boundary layer is thin where the flow meets an obstacle: uniform points leave a handful in it. Points near the
part ``on`` are drawn as ``x = b(σ) − d n(σ)``: ``b(σ)`` uniform in arc length on the part's exact pieces
(segments and arcs, :mod:`pdesolve.problem.pieces`), ``n`` the domain's outward normal there (so ``−n`` points into
the domain), and the distance ``d = d₀ ((1 + D/d₀)^s − 1)`` for ``s`` uniform on [0, 1): the density in ``d`` is
``∝ 1/(d + d₀)``, as many points in each band ``[d₀(eᵏ − 1), d₀(eᵏ⁺¹ − 1)]``, graded like the geometric boundary-layer
meshes of finite elements. ``(σ, s)`` are a scrambled Sobol sequence; points that leave the domain are dropped and
more drawn. The scales follow the part's size ``L = length / π`` (its diameter for a circle): ``d₀ = L/20``,
``D = 3 L``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import qmc

from pdesolve.errors import ProblemError
from pdesolve.problem.boundary_quadrature import part_selector
from pdesolve.problem.coords import Coords

INNER, OUTER = 1 / 20, 3.0  # d₀ and D in units of the part's size


def part_pieces(problem: Any, on: Any) -> list[Any]:
    """The exact boundary pieces of ``problem``'s 2D domain that lie on the part ``on`` (a name or a mask)."""
    pieces = getattr(problem.domain, "pieces", None)
    if pieces is None or problem.dim != 2:
        raise ProblemError(f"problem {problem.name!r}: points near a part need a 2D domain with exact boundary pieces")
    select = part_selector(problem, on)
    found = [p for p in pieces() if np.asarray(select(Coords(list(p.at(np.array([0.5])).T))), dtype=bool).all()]
    if not found:
        raise ProblemError(f"problem {problem.name!r}: no boundary piece lies on {on!r}")
    return found


def near_part(problem: Any, on: Any, n: int, seed: int) -> np.ndarray:
    """``n`` points of the domain graded toward the boundary part ``on`` (module docstring), shape (n, 2)."""
    pieces = part_pieces(problem, on)
    lengths = np.array([p.length for p in pieces])
    size = lengths.sum() / math.pi
    inner, outer = INNER * size, OUTER * size
    edges = np.concatenate([[0.0], np.cumsum(lengths) / lengths.sum()])
    sobol = qmc.Sobol(2, scramble=True, seed=seed)
    found: list[np.ndarray] = []
    count, power = 0, max(4, math.ceil(math.log2(2 * n)))
    while count < n:
        sigma, s = sobol.random_base2(power).T  # powers of two keep the sequence balanced: each redraw doubles it
        power = int(math.log2(sobol.num_generated))
        which = np.clip(np.searchsorted(edges, sigma, side="right") - 1, 0, len(pieces) - 1)
        local = (sigma - edges[which]) / (edges[which + 1] - edges[which])
        distance = inner * ((1 + outer / inner) ** s - 1)
        points = np.empty((len(sigma), 2))
        for k, piece in enumerate(pieces):
            mine = which == k
            if mine.any():
                points[mine] = piece.at(local[mine]) - distance[mine, None] * piece.normal(local[mine])
        keep = points[np.asarray(problem.domain.inside(points), dtype=bool) & (distance > 0)]
        found.append(keep)
        count += len(keep)
    return np.concatenate(found)[:n]
