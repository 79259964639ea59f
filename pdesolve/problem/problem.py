"""The :class:`Problem`: what every solver of pdesolve reads.

A stationary problem gives a ``residual(u, x, p)`` that vanishes at the solution; an evolution
problem gives ``rhs(u, x, p)`` with ``u_t = rhs`` on ``time = (t0, t1)`` and an ``initial(x, p)``.
Both are written with :mod:`pdesolve.problem.operators`, so the same definition serves network
solvers (autograd), grid solvers (stencils, FFT) and sparse assembly. A system names its
``unknowns`` and its residual ``residual(U, x, p)`` returns one equation per row
(:mod:`pdesolve.problem.systems`). An evolution system gives ``rhs(U, x, p)`` with one row per
evolving unknown (the first ones of ``unknowns``) and ``constraints(U, x, p)`` with one row per
remaining, algebraic unknown (incompressible flow: ``rhs`` for ``(u, v)``, ``constraints = div(w)``
for ``p``). ``quantities`` names derived quantities (drag, lift, pressure
differences, profiles against tables) that every solver's run reports (:mod:`pdesolve.problem.quantities`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from pdesolve.errors import ProblemError
from pdesolve.problem.conditions import Condition, Dirichlet, Gauge, Outflow, Periodic
from pdesolve.problem.coords import CoordinateError, Coords
from pdesolve.problem.domains import Box, Domain
from pdesolve.problem.families import Family
from pdesolve.problem.params import Params
from pdesolve.problem.parts import select_parts
from pdesolve.problem.quantities import Quantity
from pdesolve.problem.reference import ReferenceData
from pdesolve.problem.systems import count_equations, initial_per_unknown, per_unknown


@dataclass(frozen=True)
class Problem:
    """A PDE with its domain, conditions, parameters and (optionally) a reference."""

    name: str
    domain: Domain
    residual: Callable[..., Any] | None = None
    rhs: Callable[..., Any] | None = None
    time: tuple[float, float] | None = None
    initial: Callable[..., Any] | None = None
    boundary: Condition | Sequence[Condition] = ()
    params: dict[str, Any] = field(default_factory=dict)
    exact: Callable[..., Any] | None = None
    reference: ReferenceData | None = None
    family: Family | None = None
    description: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    unknowns: tuple[str, ...] = ("u",)
    quantities: dict[str, Quantity] = field(default_factory=dict)
    constraints: Callable[..., Any] | None = None

    def __post_init__(self) -> None:
        conditions = (self.boundary,) if isinstance(self.boundary, Condition) else tuple(self.boundary)
        object.__setattr__(self, "unknowns", tuple(self.unknowns))
        if not self.is_system:  # Dirichlet({"u": g}) of a scalar problem is Dirichlet(g)
            conditions = tuple(
                replace(c, value=c.value[self.unknowns[0]])
                if isinstance(c, Dirichlet) and c.names == self.unknowns
                else c
                for c in conditions
            )
        where = f"problem {self.name!r}"
        conditions = tuple(
            replace(c, on=select_parts(self.domain, c.on, where))
            if isinstance(c, Condition) and isinstance(c.on, (str, tuple, list, set, frozenset))
            else c
            for c in conditions
        )
        object.__setattr__(self, "boundary", conditions)
        quantities = {
            label: replace(q, on=select_parts(self.domain, q.on, f"{where}: quantity {label!r}"))
            if isinstance(getattr(q, "on", None), (str, tuple, list, set, frozenset))
            else q
            for label, q in self.quantities.items()
        }
        object.__setattr__(self, "quantities", quantities)
        self.validate()

    # --- structure ------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return self.domain.dim

    @property
    def is_system(self) -> bool:
        """Several unknowns (a residual ``(U, x, p)`` with one equation per row)."""
        return len(self.unknowns) > 1

    @property
    def is_evolution(self) -> bool:
        return self.rhs is not None

    @property
    def evolving(self) -> tuple[str, ...]:
        """The unknowns with a time derivative (all of a scalar problem's; an evolution system's first
        ones, one per row of ``rhs``); the others are algebraic, fixed by ``constraints``."""
        if not self.is_evolution:
            return ()
        return self.unknowns[: self.__dict__.get("_evolving", len(self.unknowns))]

    def initial_values(self, x: Coords) -> dict[str, Any]:
        """``initial(x, p)`` by unknown name: every evolving unknown, algebraic ones where given."""
        values = self.initial(x, self.p)
        if not self.is_system:
            return {self.unknowns[0]: values}
        what = f"problem {self.name!r}: initial(x, p)"
        return initial_per_unknown(values, self.unknowns, len(self.evolving), what)

    @property
    def p(self) -> Params:
        return Params(**self.params)

    @property
    def periodic_axes(self) -> tuple[bool, ...]:
        """Per spatial axis, whether a Periodic condition covers it."""
        names = ("x", "y", "z")[: self.dim]
        flags = [False] * self.dim
        for condition in self.boundary:
            if isinstance(condition, Periodic):
                for k, name in enumerate(names):
                    if condition.axes is None or name in condition.axes:
                        flags[k] = True
        return tuple(flags)

    @property
    def is_fully_periodic(self) -> bool:
        return all(self.periodic_axes)

    def conditions(self, kind: type) -> list[Condition]:
        return [c for c in self.boundary if isinstance(c, kind)]

    @property
    def only_dirichlet(self) -> bool:
        """Every non-periodic boundary carries a Dirichlet condition only."""
        return all(isinstance(c, (Dirichlet, Periodic)) for c in self.boundary)

    def validate(self) -> None:
        """Raise :class:`ProblemError` for an inconsistent definition."""
        where = f"problem {self.name!r}"
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ProblemError(f"{where}: the name must be letters, digits and underscores")
        if not isinstance(self.domain, Domain):
            raise ProblemError(
                f"{where}: domain must be an Interval, Rectangle, Box, Disk, Polygon, Mesh or their combination"
            )
        if (self.residual is None) == (self.rhs is None):
            raise ProblemError(f"{where}: give exactly one of residual= (stationary) or rhs= (evolution)")
        if self.is_evolution:
            if self.time is None or len(self.time) != 2 or not self.time[0] < self.time[1]:
                raise ProblemError(f"{where}: an evolution problem needs time=(t0, t1) with t0 < t1")
            if self.initial is None:
                raise ProblemError(f"{where}: an evolution problem needs initial=")
        elif self.time is not None or self.initial is not None:
            raise ProblemError(f"{where}: a stationary problem takes no time= or initial=")
        if self.constraints is not None and not (self.is_evolution and self.is_system):
            raise ProblemError(
                f"{where}: constraints= gives the algebraic rows of an evolution system (unknowns=..., rhs=...)"
            )
        for condition in self.boundary:
            if not isinstance(condition, Condition):
                raise ProblemError(f"{where}: boundary entries must be Dirichlet, Neumann, Robin or Periodic")
            if isinstance(condition, Periodic):
                if not isinstance(self.domain, Box):
                    raise ProblemError(f"{where}: periodic conditions need a box-shaped domain")
                unknown = set(condition.axes or ()) - set(("x", "y", "z")[: self.dim])
                if unknown:
                    raise ProblemError(f"{where}: periodic axes {sorted(unknown)} are not axes of a {self.dim}D domain")
        if not self.boundary and not self.is_evolution:
            raise ProblemError(f"{where}: a stationary problem needs boundary conditions")
        self._check_overlaps(where)
        self._check_unknowns(where)
        self._check_shapes(where)
        for label, quantity in self.quantities.items():
            if not isinstance(quantity, Quantity):
                raise ProblemError(
                    f"{where}: quantities[{label!r}] must be a Drag, Lift, PressureDifference or Profile, "
                    f"got {type(quantity).__name__}"
                )

    def _check_unknowns(self, where: str) -> None:
        """Names of the unknowns, conditions that name them, the equation count, a determined pressure."""
        names = self.unknowns
        if (
            not names
            or len(set(names)) != len(names)
            or not all(isinstance(n, str) and n.isidentifier() for n in names)
        ):
            raise ProblemError(f"{where}: unknowns must be distinct identifiers, got {names!r}")
        for condition in self.boundary:
            if isinstance(condition, Dirichlet) and self.is_system:
                if condition.names is None:
                    raise ProblemError(
                        f"{where}: a Dirichlet condition of a system names its unknowns, e.g. "
                        f"Dirichlet({{{names[0]!r}: 0.0}}); the unknowns are {list(names)}"
                    )
                named = condition.names
            elif isinstance(condition, Dirichlet):
                named = condition.names or ()
            elif isinstance(condition, Gauge):
                named = (condition.unknown,)
            else:
                named = ()
            unknown = [n for n in named if n not in names]
            if unknown:
                raise ProblemError(
                    f"{where}: a {type(condition).__name__} condition names {unknown}, which is not an unknown "
                    f"(the unknowns are {list(names)})"
                )
            if isinstance(condition, (Outflow, Gauge)) and not self.is_system:
                raise ProblemError(f"{where}: {type(condition).__name__} conditions belong to systems (unknowns=...)")
        if not self.is_system:
            return
        if self.is_evolution:
            self._check_evolving(where)
        else:
            count = count_equations(self.residual, names, self.dim, self.p, self._probe_points())
            if count != len(names):
                raise ProblemError(
                    f"{where}: the residual returns {count} equation(s) for the {len(names)} unknowns {list(names)}"
                )
        if all(isinstance(c, (Dirichlet, Gauge)) for c in self.boundary):
            named = {n for c in self.boundary for n in ((c.unknown,) if isinstance(c, Gauge) else c.names)}
            for name in names:
                if name not in named:
                    raise ProblemError(
                        f"{where}: {name!r} is left undetermined: no condition names it and every boundary "
                        f"condition is Dirichlet, so it is fixed only up to a constant; add Gauge({name!r}) "
                        f"(mean zero) or Gauge({name!r}, at=(...)), or an Outflow condition"
                    )

    def _check_evolving(self, where: str) -> None:
        """One rhs row per evolving unknown (the first ones), one constraint row per algebraic unknown."""
        names, t0 = self.unknowns, self.time[0]
        points = self._probe_points()
        evolving = count_equations(self.rhs, names, self.dim, self.p, points, "rhs", t0)
        algebraic = 0
        if self.constraints is not None:
            algebraic = count_equations(self.constraints, names, self.dim, self.p, points, "constraints", t0)
        if evolving == 0 or evolving + algebraic != len(names):
            raise ProblemError(
                f"{where}: rhs returns {evolving} row(s) and constraints {algebraic} for the {len(names)} unknowns "
                f"{list(names)}: give one rhs row per evolving unknown (the first ones) and one constraints= row "
                "per remaining (algebraic) unknown"
            )
        object.__setattr__(self, "_evolving", evolving)

    def _probe_points(self) -> np.ndarray:
        lower, upper = self.domain.bounds
        return lower + (upper - lower) * np.linspace(0.3, 0.7, 4)[:, None]

    def _check_overlaps(self, where: str) -> None:
        """Refuse conditions that contradict each other or never apply: a non-periodic condition where
        periodic ones cover every axis, or one after a condition without ``on=`` (which claims all the
        boundary left)."""
        others = [c for c in self.boundary if not isinstance(c, (Periodic, Gauge))]
        if others and all(self.periodic_axes):
            raise ProblemError(
                f"{where}: contradictory boundary conditions: Periodic covers every axis of the {self.dim}D domain, "
                f"so {type(others[0]).__name__} has no boundary left (drop it, or give Periodic(axes=...))"
            )
        for k, earlier in enumerate(others):
            later = next((c for c in others[k + 1 :] if self._governed(c) & self._governed(earlier)), None)
            if later is not None and earlier.on is None:
                raise ProblemError(
                    f"{where}: overlapping boundary conditions: {type(earlier).__name__} without on= claims all "
                    f"the boundary left, so the {type(later).__name__} after it never applies (give the first on=)"
                )

    def _governed(self, condition: Condition) -> set[str]:
        """The unknowns a condition acts on: those a Dirichlet condition names, else all."""
        names = getattr(condition, "names", None) if isinstance(condition, Dirichlet) else None
        return set(names or self.unknowns)

    def _check_shapes(self, where: str) -> None:
        """Evaluate the given functions at a few points: wrong dimensions show up here, not mid-solve."""
        points = self._probe_points()
        x = Coords(list(points.T), t=None if not self.is_evolution else np.full(4, self.time[0]))
        self._check_coordinates(where)
        checks = {"initial": self.initial, "exact": self.exact}
        for label, function in checks.items():
            if function is None:
                continue
            try:
                values = function(x, self.p)
                if self.is_system and label == "exact":
                    values = per_unknown(values, self.unknowns, f"{where}: exact(x, p)")
                    values = np.stack([np.broadcast_to(np.asarray(v, dtype=float), (4,)) for v in values], axis=1)
                elif self.is_system:  # initial data of the evolving unknowns (and algebraic ones where given)
                    given = self.initial_values(x).values()
                    values = np.stack([np.broadcast_to(np.asarray(v, dtype=float), (4,)) for v in given], axis=1)
                else:
                    values = np.asarray(values, dtype=float)
            except ProblemError as error:
                if not isinstance(error, CoordinateError):
                    raise
                raise ProblemError(f"{where}: {label}(x, p) fails on {self.dim}D points: {error}") from None
            except Exception as error:
                raise ProblemError(
                    f"{where}: {label}(x, p) fails on {self.dim}D points: {type(error).__name__}: {error}"
                ) from None
            if values.shape != ((4, values.shape[-1]) if self.is_system else (4,)):
                raise ProblemError(
                    f"{where}: {label}(x, p) returns shape {values.shape} for 4 points of a {self.dim}D domain"
                )

    def _check_coordinates(self, where: str) -> None:
        """Evaluate the residual (or rhs) on a tiny grid and the boundary values at a few points: a
        coordinate the domain lacks (``x.z`` in 2D) is refused here, naming the function."""
        from pdesolve.problem.conditions import evaluate_value
        from pdesolve.problem.grid import Grid
        from pdesolve.problem.grid_field import GridField

        lower, upper = self.domain.bounds
        grid = Grid(tuple(lower), tuple(upper), (5,) * self.dim, self.periodic_axes)
        t = None if not self.is_evolution else np.full(grid.shape, self.time[0])
        label = "rhs" if self.is_evolution else "residual"
        field, coordinates = GridField(np.ones(grid.shape), grid), Coords(grid.coordinates(), t=t)
        probes: list[tuple[str, Callable[[], Any]]] = []
        if not self.is_system:  # a system's residual takes its unknowns by name
            probes.append((label, lambda: (self.rhs or self.residual)(field, coordinates, self.p)))
        points = self._probe_points()
        x = Coords(list(points.T), t=None if not self.is_evolution else np.full(4, self.time[0]))
        for condition in self.boundary:
            for name in ("value", "flux", "on"):
                value = getattr(condition, name, None)
                if callable(value):
                    probes.append(
                        (
                            f"{type(condition).__name__}'s {name}",
                            lambda v=value, on=name == "on": v(x) if on else evaluate_value(v, x, self.p),
                        )
                    )
        for label, probe in probes:
            try:
                probe()
            except CoordinateError as error:
                raise ProblemError(f"{where}: {label}(...) uses {error}") from None
            except Exception:  # other failures are each solver's to report (e.g. operators it lacks)
                continue

    # --- members of a family and parameter changes ----------------------------------------
    def with_params(self, **changes: Any) -> Problem:
        unknown = set(changes) - set(self.params)
        if unknown:
            raise ProblemError(
                f"problem {self.name!r} has no parameter(s) {sorted(unknown)}; it has {sorted(self.params)}"
            )
        return replace(self, params={**self.params, **changes})

    def sample(self, seed: int) -> Problem:
        """One member of the problem's family (the problem itself when it has none)."""
        if self.family is None:
            return self
        return replace(self, params={**self.params, **self.family.draw(seed)})

    # --- what errors are measured against -------------------------------------------------
    @property
    def has_reference(self) -> bool:
        return self.exact is not None or (self.reference is not None and self.reference.available())

    def reference_values(self, points: np.ndarray) -> np.ndarray:
        """The exact solution at points (columns x, y, z[, t]): shape (N,), or (N, unknowns) for a system."""
        if self.exact is None:
            raise ProblemError(f"problem {self.name!r} has no exact solution")
        t = points[:, self.dim] if self.is_evolution else None
        x = Coords(list(points[:, : self.dim].T), t=t)
        if self.is_system:
            values = per_unknown(self.exact(x, self.p), self.unknowns, f"problem {self.name!r}: exact(x, p)")
            return np.stack([np.broadcast_to(np.asarray(v, dtype=float), (len(points),)) for v in values], axis=1)
        return np.broadcast_to(np.asarray(self.exact(x, self.p), dtype=float), (len(points),)).copy()

    def test_points(self, seed: int = 0) -> np.ndarray:
        """Points the error is measured on when no data file gives them (space, then time)."""
        lower, upper = self.domain.bounds
        if isinstance(self.domain, Box):
            per_axis = {1: 201, 2: 81, 3: 25}[self.dim]
            axes = [
                np.linspace(lo, hi, per_axis, endpoint=not periodic)
                for lo, hi, periodic in zip(lower, upper, self.periodic_axes)
            ]
            space = np.stack([c.ravel() for c in np.meshgrid(*axes, indexing="ij")], axis=1)
        else:
            space = self.domain.sample_interior(4096, seed=seed)
        if not self.is_evolution:
            return space
        times = np.linspace(self.time[0], self.time[1], 11)[1:]
        return np.concatenate([np.column_stack([space, np.full(len(space), t)]) for t in times])

    def reference_set(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(points, values) to measure errors on, or None when only a classical solve can tell."""
        if self.reference is not None and self.reference.available():
            return self.reference.load()
        if self.exact is not None:
            points = self.test_points()
            return points, self.reference_values(points)
        return None
