"""PDE systems: several named unknowns, one equation per row.

A system's residual receives :class:`Unknowns` (``U.u``, ``U["p"]``, ``U.velocity``) and returns a
tuple, list or mapping of equations; an entry that is a vector (``convective(w) + grad(p)``) counts as
one equation per component. Exact solutions return one value per unknown, as a tuple in the order
of ``unknowns`` or a mapping keyed by their names.

>>> from pdesolve.problem import Problem, Rectangle, Dirichlet, Gauge, div, grad, laplacian
>>> stokes = Problem(                                                        # doctest: +SKIP
...     name="stokes", domain=Rectangle((0, 0), (1, 1)), unknowns=("u", "v", "p"),
...     residual=lambda U, x, p: (-laplacian(U.velocity) + grad(U.p), div(U.velocity)),
...     boundary=[Dirichlet({"u": 0.0, "v": 0.0}), Gauge("p")])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from pdesolve.errors import ProblemError
from pdesolve.problem.coords import SPACE_NAMES, Coords
from pdesolve.problem.field import VectorField
from pdesolve.problem.network_field import NetworkField

VELOCITY_NAMES = ("u", "v", "w")
PROBE_POINTS = 4


class Unknowns(Mapping):
    """The fields of a system's unknowns by name: ``U.u``, ``U["u"]``, ``U.velocity``."""

    def __init__(self, fields: Mapping[str, Any], dim: int) -> None:
        self._fields = dict(fields)
        self._dim = dim

    def __getitem__(self, name: str) -> Any:
        return self._fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __getattr__(self, name: str) -> Any:
        fields = self.__dict__.get("_fields", {})
        if name in fields:
            return fields[name]
        raise AttributeError(f"no unknown {name!r}; the system has {sorted(fields)}")

    def vector(self, *names: str) -> VectorField:
        """The named unknowns as one vector field."""
        return VectorField([self._fields[name] for name in names])

    @property
    def velocity(self) -> VectorField:
        """``(u, v)`` in 2D, ``(u, v, w)`` in 3D: the velocity (or displacement) vector."""
        names = vector_names(tuple(self._fields), self._dim)
        if names is None:
            raise AttributeError(f"U.velocity needs unknowns named {VELOCITY_NAMES[: self._dim]}; use U.vector(...)")
        return self.vector(*names)


def vector_names(unknowns: Sequence[str], dim: int) -> tuple[str, ...] | None:
    """The unknowns that form the velocity (or displacement) vector, or None."""
    names = VELOCITY_NAMES[:dim]
    return names if dim >= 2 and all(name in unknowns for name in names) else None


def equation_list(result: Any) -> list[Any]:
    """A residual's rows: a tuple, list or mapping of equations, vectors counted per component."""
    if isinstance(result, Mapping):
        result = list(result.values())
    elif isinstance(result, VectorField):
        result = result.components
    elif not isinstance(result, (tuple, list)):
        result = [result]
    rows: list[Any] = []
    for entry in result:
        rows += equation_list(entry) if isinstance(entry, (VectorField, tuple, list, Mapping)) else [entry]
    return rows


def per_unknown(values: Any, unknowns: Sequence[str], what: str) -> list[Any]:
    """One entry per unknown from a tuple (in the order of ``unknowns``) or a mapping keyed by name."""
    if isinstance(values, Mapping):
        missing, extra = set(unknowns) - set(values), set(values) - set(unknowns)
        if missing or extra:
            raise ProblemError(f"{what} names {sorted(values)}; the unknowns are {list(unknowns)}")
        return [values[name] for name in unknowns]
    if not isinstance(values, (tuple, list)) or len(values) != len(unknowns):
        count = len(values) if isinstance(values, (tuple, list)) else 1
        raise ProblemError(f"{what} gives {count} value(s) for the {len(unknowns)} unknowns {list(unknowns)}")
    return list(values)


def probe_fields(unknowns: Sequence[str], dim: int, points: np.ndarray) -> tuple[Unknowns, Coords]:
    """Smooth network fields of the unknowns at ``points`` (autograd through float64 coordinates)."""
    space = [torch.tensor(column, dtype=torch.float64, requires_grad=True) for column in points.T]
    coords = dict(zip(SPACE_NAMES, space))
    fields = {}
    for k, name in enumerate(unknowns):
        phase = sum((j + 1.0 + 0.3 * k) * c for j, c in enumerate(space))
        fields[name] = NetworkField(torch.sin(phase) + 0.1 * k, coords)
    return Unknowns(fields, dim), Coords(space)


def count_equations(residual: Any, unknowns: Sequence[str], dim: int, params: Any, points: np.ndarray) -> int:
    """How many equations ``residual`` returns, evaluated on probe fields; a one-line error when it fails."""
    fields, x = probe_fields(unknowns, dim, points)
    try:
        rows = equation_list(residual(fields, x, params))
    except Exception as error:
        raise ProblemError(
            f"residual(U, x, p) fails on fields of the unknowns {list(unknowns)}: {type(error).__name__}: {error}"
        ) from None
    return len(rows)
