"""Conditions that name boundary parts: ``Dirichlet(0.0, on="cylinder")`` or ``on=("left", "top")``.

A problem turns such names into a :class:`PartSelector` of its domain, which answers the usual ``on(x)``
mask (each boundary point belongs to its nearest named parts) and keeps the names for what needs the
geometry itself: the networks' distance functions, drag and lift on a part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pdesolve.errors import ProblemError
from pdesolve.problem.coords import Coords
from pdesolve.problem.domains import Domain


@dataclass(frozen=True)
class PartSelector:
    """``on(x)``: True at the boundary points of ``domain`` that lie on one of the parts ``names``."""

    domain: Domain
    names: frozenset[str]

    def __call__(self, x: Coords) -> np.ndarray:
        coordinates = [np.asarray(c.detach().cpu() if hasattr(c, "detach") else c, dtype=float) for c in x]
        shape = np.broadcast_shapes(*(np.shape(c) for c in coordinates))
        points = np.stack([np.broadcast_to(c, shape).ravel() for c in coordinates], axis=1)
        return self.domain.part_mask(points, self.names).reshape(shape)


def select_parts(domain: Domain, on: Any, where: str) -> PartSelector:
    """The selector of the parts named by ``on`` (a name or a sequence of names), checked against the domain."""
    names = frozenset({on} if isinstance(on, str) else on)
    if not names or not all(isinstance(name, str) for name in names):
        raise ProblemError(f"{where}: on= takes a function of x, a part name or a sequence of names, got {on!r}")
    try:
        known = domain.part_names
    except ProblemError:
        known = frozenset()
    unknown = names - known
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise ProblemError(f"{where}: the domain has no boundary part {sorted(unknown)} (its parts: {listed})")
    return PartSelector(domain, names)
