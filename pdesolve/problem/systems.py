"""PDE systems: several named unknowns, one equation per row.

A system's residual receives :class:`Unknowns` (``U.u``, ``U["p"]``, ``U.velocity``) and returns a
tuple, list or mapping of equations; an entry that is a vector (``convective(w) + grad(p)``) counts as
one equation per component. Exact solutions return one value per unknown, as a tuple in the order
of ``unknowns`` or a mapping keyed by their names.

An evolution system (``rhs=``) is a differential-algebraic system: ``rhs(U, x, p)`` returns one row
per *evolving* unknown, ``∂U_j/∂t = rhs_j``, and the evolving unknowns are the first ones of
``unknowns``; the remaining (algebraic) unknowns are fixed by as many rows of ``constraints(U, x, p)
= 0``. Incompressible Navier–Stokes in (u, v, p) is ``rhs = −(w·∇)w − ∇p + ν Δw`` for ``(u, v)`` and
``constraints = ∇·w`` for ``p`` (a pressure determined by the constraint alone: a DAE of index 2 in
the ODE sense, index 1 once discretised and solved for the pressure at each step). ``initial(x, p)``
gives the evolving unknowns (a tuple in their order, or a mapping that may also give the algebraic
ones as a starting guess).

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

from pdesolve.errors import ProblemError
from pdesolve.problem.coords import Coords
from pdesolve.problem.field import VectorField

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


def probe_fields(
    unknowns: Sequence[str], dim: int, points: np.ndarray, t: float | None = None
) -> tuple[Unknowns, Coords]:
    """Smooth grid fields of the unknowns on 5 nodes per axis over the box of ``points`` (numpy: a problem file
    loads without torch), at time ``t`` when given."""
    from pdesolve.problem.grid import Grid
    from pdesolve.problem.grid_field import GridField

    grid = Grid(tuple(points.min(axis=0)), tuple(points.max(axis=0)), (5,) * dim)
    space = grid.coordinates()
    fields = {}
    for k, name in enumerate(unknowns):
        phase = sum((j + 1.0 + 0.3 * k) * c for j, c in enumerate(space))
        fields[name] = GridField(np.sin(phase) + 0.1 * k, grid)
    times = None if t is None else np.full(np.shape(space[0]), float(t))
    return Unknowns(fields, dim), Coords(space, t=times)


def count_equations(
    residual: Any,
    unknowns: Sequence[str],
    dim: int,
    params: Any,
    points: np.ndarray,
    label: str = "residual",
    t: float | None = None,
) -> int:
    """How many equations ``residual`` (named ``label`` in errors) returns, evaluated on probe fields at time
    ``t``; a one-line error when it fails."""
    fields, x = probe_fields(unknowns, dim, points, t)
    try:
        rows = equation_list(residual(fields, x, params))
    except Exception as error:
        raise ProblemError(
            f"{label}(U, x, p) fails on fields of the unknowns {list(unknowns)}: {type(error).__name__}: {error}"
        ) from None
    return len(rows)


def evolution_residual(rhs: Any, constraints: Any) -> Any:
    """The rows ``−rhs`` then ``constraints`` of an evolution system: its stationary residual once
    ``∂U/∂t`` is moved to the other side (``M U' + R(U) = 0`` with ``M`` zero on the algebraic rows)."""

    def residual(U: Unknowns, x: Coords, p: Any) -> list[Any]:
        rows = [-row for row in equation_list(rhs(U, x, p))]
        return rows + ([] if constraints is None else equation_list(constraints(U, x, p)))

    return residual


def time_residual(problem: Any, U: Unknowns, x: Coords) -> list[Any]:
    """An evolution system's rows on fields with a time derivative (network fields): ``∂U_j/∂t − rhs_j`` for the
    evolving unknowns, then the ``constraints`` rows."""
    rows = evolution_residual(problem.rhs, problem.constraints)(U, x, problem.p)
    evolving = problem.evolving
    return [U[name].derivative("t") + row for name, row in zip(evolving, rows)] + rows[len(evolving) :]


def initial_per_unknown(values: Any, unknowns: Sequence[str], evolving: int, what: str) -> dict[str, Any]:
    """Initial data by name: a tuple for the first ``evolving`` unknowns, or a mapping that gives them all
    (and may give algebraic ones too, as a starting guess)."""
    names = list(unknowns)
    if isinstance(values, Mapping):
        missing, extra = set(names[:evolving]) - set(values), set(values) - set(names)
        if missing or extra:
            raise ProblemError(
                f"{what} names {sorted(values)}; it must give the evolving unknowns {names[:evolving]} "
                f"(and may give {names[evolving:]})"
            )
        return dict(values)
    count = len(values) if isinstance(values, (tuple, list)) else 1
    if count != evolving:
        raise ProblemError(f"{what} gives {count} value(s) for the {evolving} evolving unknowns {names[:evolving]}")
    return dict(zip(names, values if isinstance(values, (tuple, list)) else [values]))
