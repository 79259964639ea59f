"""Boundary conditions: Dirichlet, Neumann, Robin and periodic; for systems also outflow and gauges.

Values are constants or functions ``g(x, p)`` of the coordinates and the parameters. ``on`` restricts
a condition to part of the boundary: a function of the coordinates returning a boolean mask, or the
name(s) of boundary parts of the domain (``on="cylinder"``, ``on=("left", "top")``;
:mod:`pdesolve.problem.parts`). Without ``on`` a condition covers the whole boundary that no earlier
condition claimed. In a system of several unknowns a Dirichlet condition names the unknowns it
constrains, ``Dirichlet({"u": 1.0, "v": 0.0}, on=...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from pdesolve.problem.coords import Coords

Value = float | Callable[..., Any]


def evaluate_value(value: Value, x: Coords, params: Any) -> Any:
    """A constant broadcast to the points of ``x``, or ``value(x, params)``."""
    if callable(value):
        return value(x, params)
    like = x[0]
    return torch.full_like(like, float(value)) if torch.is_tensor(like) else np.full(np.shape(like), float(value))


@dataclass(frozen=True)
class Condition:
    """Base of the boundary conditions; ``on(x) -> bool mask`` selects where it holds."""

    on: Callable[[Coords], Any] | str | tuple[str, ...] | None = field(default=None, kw_only=True)

    def applies(self, x: Coords) -> np.ndarray:
        if self.on is None:
            return np.ones(np.shape(x[0]), dtype=bool)
        return np.asarray(self.on(x), dtype=bool)


@dataclass(frozen=True)
class Dirichlet(Condition):
    """``u = value`` on the boundary; in a system ``value`` maps unknown names to their values."""

    value: Value | Mapping[str, Value] = 0.0

    @property
    def names(self) -> tuple[str, ...] | None:
        """The unknowns a system's condition constrains (None: a scalar condition's single value)."""
        return tuple(self.value) if isinstance(self.value, Mapping) else None


@dataclass(frozen=True)
class Neumann(Condition):
    """``∂u/∂n = flux`` on the boundary (outward normal)."""

    flux: Value = 0.0


@dataclass(frozen=True)
class Robin(Condition):
    """``alpha u + beta ∂u/∂n = value`` on the boundary."""

    alpha: float = 1.0
    beta: float = 1.0
    value: Value = 0.0


@dataclass(frozen=True)
class Periodic(Condition):
    """Periodic in the named axes (all axes when None); the domain must be a box."""

    axes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Outflow(Condition):
    """Traction-free (do-nothing) outflow of a flow system, ``ν ∂w/∂n − p n = 0`` for the residual
    ``−ν Δw + ∇p + ...``: the natural condition of its weak form (Heywood, Rannacher & Turek 1996)."""


@dataclass(frozen=True)
class Gauge(Condition):
    """Fixes an unknown known only up to a constant (a pressure): its mean over the domain equals
    ``value``, or, with ``at`` a point, its value there."""

    unknown: str = "p"
    value: float = 0.0
    at: tuple[float, ...] | None = None
