"""Gauss quadrature on a named part of a 2D domain's boundary: points, outward normals, weights.

The part is a name (``"cylinder"``) or a mask function of the coordinates (as for conditions); the
exact boundary pieces of the domain (segments and arcs, :mod:`pdesolve.problem.pieces`) carry it, so
the rule integrates smooth functions on circles to round-off (Gauss–Legendre per piece).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pdesolve.errors import ProblemError
from pdesolve.problem.coords import Coords

GAUSS_POINTS = 64


def part_selector(problem: Any, on: Any) -> Callable[[Coords], Any]:
    """``on`` as a mask function: itself when callable, else the selector of the named parts."""
    if callable(on):
        return on
    from pdesolve.problem.parts import select_parts

    return select_parts(problem.domain, on, f"problem {problem.name!r}: a quantity's on={on!r}")


def part_quadrature(problem: Any, on: Any, points_per_piece: int = GAUSS_POINTS) -> tuple[np.ndarray, ...]:
    """(points (N, 2), outward normals (N, 2), weights (N,)) on the boundary part ``on``."""
    pieces = getattr(problem.domain, "pieces", None)
    if pieces is None or problem.dim != 2:
        raise ProblemError(f"problem {problem.name!r}: line integrals need a 2D domain with exact boundary pieces")
    select = part_selector(problem, on)
    nodes, weights = np.polynomial.legendre.leggauss(points_per_piece)
    s, w = (nodes + 1) / 2, weights / 2
    found = []
    for piece in pieces():
        middle = piece.at(np.array([0.5]))
        if not np.asarray(select(Coords(list(middle.T))), dtype=bool).all():
            continue
        found.append((piece.at(s), piece.normal(s), piece.length * w))
    if not found:
        raise ProblemError(f"problem {problem.name!r}: no boundary piece lies on {on!r}")
    points, normals, lengths = (np.concatenate(parts) for parts in zip(*found))
    return points, normals, lengths
