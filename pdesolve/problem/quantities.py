"""Derived quantities a problem declares, evaluated the same way on every solver's solution.

``Problem(..., quantities={"C_D": Drag(on="cylinder", scale=2 / (0.2**2 * 0.1), reference=5.5795), ...})``.
Each quantity reads the solution only through ``solution(points)`` (values per unknown), except the
forces, which ask the solution first for its own most accurate form:

- :class:`Drag` and :class:`Lift`: the force of the fluid on a boundary part, times ``scale`` (for the
  coefficients ``C = 2 F / (ρ Ū² D)``: ``scale = 2 / (ρ Ū² D)``). Finite elements give the
  volume-integral (reaction) form: the weak momentum residual of the discrete solution tested with a
  function that is 1 on the part and 0 on the rest of the boundary (Giles, Larson, Levenstam & Süli
  1997; John 2004), which converges at twice the rate of the line integral. Other solutions give the
  line integral ``F = −∮ (ν ∂w/∂n − p n) ds`` of the traction of ``−ν Δw + ∇p`` (``n`` the fluid's
  outward normal), ``∂w/∂n`` by automatic differentiation where the solution is differentiable (a network:
  exact for the trained function, "line integral (autograd)"), else by one-sided second-order differences of
  ``solution(points)`` into the fluid (a solution need not be defined beyond the boundary; error ``O(s²)`` in
  the step ``s``, 1e-4 of the domain's extent).
- :class:`PressureDifference`: ``p(a) − p(b)``.
- :class:`Profile`: an unknown along a line against tabulated values (Ghia, Ghia & Shin 1982 for the
  cavity): the largest absolute deviation and the relative L2 deviation at the table's points.

Evolution problems (:func:`evaluate_in_time`): each quantity at the final time ``t₁`` (the solution's own force
there), with its time series at the solution's output times (or ``SERIES_TIMES`` equally spaced ones), each
evaluated on the solution at that time (:class:`TimeSlice`); a solver that records a force after every step
(the finite elements' ``stats["forces"]``) gives that series instead.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pdesolve.errors import ProblemError
from pdesolve.problem.reference import find_data_file

FORCE_AXES = {"drag": 0, "lift": 1}
INSET = 1e-8  # autograd normal derivatives of network solutions: this far inside the boundary (domain extents)
SERIES_TIMES = 51


class TimeSlice:
    """An evolution solution at a fixed time ``t``: ``slice(points)`` takes space points only. At the final
    time it keeps the solution's own ``boundary_force`` (the finite elements' reaction form at ``t₁``)."""

    def __init__(self, solution: Any, t: float) -> None:
        self.solution, self.t = solution, float(t)
        self.problem = solution.problem
        own = getattr(solution, "boundary_force", None)
        if own is not None and self.t == float(self.problem.time[1]):
            self.boundary_force = own

    def __call__(self, points: np.ndarray) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, dtype=float))
        return self.solution(np.column_stack([points, np.full(len(points), self.t)]))


def series_times(solution: Any) -> np.ndarray:
    """The solution's output times, else ``SERIES_TIMES`` equally spaced times over the problem's interval."""
    times = getattr(solution, "times", None)
    if times is None or len(times) < 2:
        return np.linspace(*solution.problem.time, SERIES_TIMES)
    return np.asarray(times, dtype=float)


def evaluate_in_time(quantity: Quantity, solution: Any, recorded: dict[str, Any] | None = None) -> dict[str, Any]:
    """``quantity`` of an evolution solution: its record at ``t₁`` and ``series`` over time (``recorded``: the
    solver's own series ``{"t": [...], "value": [...]}``, used as it is)."""
    record = quantity.evaluate(TimeSlice(solution, solution.problem.time[1]))
    record["t"] = float(solution.problem.time[1])
    if recorded is not None:
        series = {"t": list(map(float, recorded["t"])), "value": list(map(float, recorded["value"]))}
        series["method"] = "recorded by the solver after every step"
    else:
        series = quantity.series(solution, series_times(solution))
    record["series"] = series
    if "value" in series and series["value"]:
        values = np.asarray(series["value"], dtype=float)
        top, bottom = int(np.argmax(values)), int(np.argmin(values))
        record.update(
            max=float(values[top]), t_max=series["t"][top], min=float(values[bottom]), t_min=series["t"][bottom]
        )
        if quantity.reference_max is not None:
            error = abs(record["max"] - quantity.reference_max)
            record.update(max_reference=quantity.reference_max, max_rel_error=error / abs(quantity.reference_max))
    return record


@dataclass(frozen=True)
class Quantity:
    """A number (or a few) derived from a solution, with its reference value where one is known;
    ``reference_max``: for an evolution problem, the reference of the quantity's largest value over time
    (DFG 2D-3's C_D max), scored against the maximum of its series."""

    reference: float | None = field(default=None, kw_only=True)
    reference_max: float | None = field(default=None, kw_only=True)

    def evaluate(self, solution: Any) -> dict[str, Any]:
        """``{"value": ..., "method": ...}`` plus the error against ``reference`` (see :func:`with_error`)."""
        raise NotImplementedError

    def series(self, solution: Any, times: np.ndarray) -> dict[str, Any]:
        """``{"t": times, "value": [...]}``: the quantity of an evolution solution at each of ``times``."""
        values = [self.evaluate(TimeSlice(solution, t))["value"] for t in times]
        return {"t": [float(t) for t in times], "value": values}

    def with_error(self, value: float, method: str) -> dict[str, Any]:
        record: dict[str, Any] = {"value": float(value), "method": method, "reference": self.reference}
        if self.reference is not None:
            error = float(value) - self.reference
            record["abs_error"] = abs(error)
            record["rel_error"] = abs(error) / abs(self.reference) if self.reference else None
        return record


def _column(solution: Any, points: np.ndarray, unknown: str) -> np.ndarray:
    """The values of ``unknown`` at ``points`` from any solution."""
    values = np.asarray(solution(np.asarray(points, dtype=float)), dtype=float)
    names = solution.problem.unknowns
    if unknown not in names:
        raise ProblemError(f"a quantity names {unknown!r}, which is not an unknown (the unknowns are {list(names)})")
    return values.reshape(len(points), -1)[:, names.index(unknown)] if len(names) > 1 else values.ravel()


@dataclass(frozen=True)
class PressureDifference(Quantity):
    """``p(a) − p(b)`` between two points (any unknown with ``unknown=``)."""

    a: tuple[float, ...] = (0.0, 0.0)
    b: tuple[float, ...] = (0.0, 0.0)
    unknown: str = "p"

    def evaluate(self, solution: Any) -> dict[str, Any]:
        values = _column(solution, np.array([self.a, self.b], dtype=float), self.unknown)
        return self.with_error(values[0] - values[1], "point values")


@dataclass(frozen=True)
class Force(Quantity):
    """Component ``axis`` of the force of the fluid on the boundary part ``on``, times ``scale``.

    ``on``: a part name (``"cylinder"``) or a mask function of the coordinates, as for conditions;
    ``nu``: the viscosity of the line-integral form (the finite-element form reads it off the residual).
    """

    on: str | tuple[str, ...] | Callable[..., Any] = ""
    axis: int = 0
    scale: float = 1.0
    nu: float | str = "nu"

    def evaluate(self, solution: Any) -> dict[str, Any]:
        own = getattr(solution, "boundary_force", None)
        if own is not None:
            force, method = own(self.on)
        else:
            force = line_integral_force(solution, self.on, self.viscosity(solution))
            method = "line integral (autograd)" if getattr(solution, "differentiable", False) else "line integral"
        return self.with_error(self.scale * force[self.axis], method)

    def series(self, solution: Any, times: np.ndarray) -> dict[str, Any]:
        """The line integral at each of ``times`` (one call of the solution)."""
        forces = line_integral_force(solution, self.on, self.viscosity(solution), times=times)
        values = (self.scale * forces[:, self.axis]).tolist()
        return {"t": [float(t) for t in times], "value": values, "method": "line integral"}

    def viscosity(self, solution: Any) -> float:
        if isinstance(self.nu, str):
            params = solution.problem.params
            if self.nu not in params:
                raise ProblemError(f"a force needs the viscosity: the problem has no parameter {self.nu!r}")
            return float(params[self.nu])
        return float(self.nu)


def Drag(on: Any, scale: float = 1.0, nu: float | str = "nu", **references: float | None) -> Force:  # noqa: N802
    """The x-component of the force on ``on`` (see :class:`Force`); ``references``:
    ``reference`` and ``reference_max`` (see :class:`Quantity`)."""
    return Force(on=on, axis=FORCE_AXES["drag"], scale=scale, nu=nu, **references)


def Lift(on: Any, scale: float = 1.0, nu: float | str = "nu", **references: float | None) -> Force:  # noqa: N802
    """The y-component of the force on ``on`` (see :class:`Force`); ``references``:
    ``reference`` and ``reference_max`` (see :class:`Quantity`)."""
    return Force(on=on, axis=FORCE_AXES["lift"], scale=scale, nu=nu, **references)


def line_integral_force(
    solution: Any, on: Any, nu: float, step: float = 1e-4, times: np.ndarray | None = None
) -> np.ndarray:
    """``−∮_on (ν ∂w/∂n − p n) ds`` by Gauss quadrature on the part's segments and arcs, ``∂w/∂n`` by autograd
    for a differentiable solution at one time, else from ``(3 w(x) − 4 w(x − s n) + w(x − 2 s n)) / (2 s)``,
    ``s`` = ``step`` times the domain's extent. With ``times`` (an evolution solution): one row per time, from a
    single call of the solution."""
    from pdesolve.problem.boundary_quadrature import part_quadrature

    points, normals, weights = part_quadrature(solution.problem, on)
    names = solution.problem.unknowns
    velocity = [k for k, name in enumerate(names) if name in ("u", "v", "w")]
    if times is None and getattr(solution, "differentiable", False):
        here = np.asarray(solution(points), dtype=float)
        normal_derivative = _autograd_normal_derivative(solution, points, normals, [names[k] for k in velocity])
        traction = nu * normal_derivative - here[:, [names.index("p")]] * normals
        return -(weights[:, None] * traction).sum(axis=0)
    lower, upper = solution.problem.domain.bounds
    step = step * float(np.max(upper - lower))  # relative to the domain: round-off of float32 networks stays small
    shifted = np.concatenate([points - k * step * normals for k in range(3)])  # into the fluid
    if times is None:
        values = np.asarray(solution(shifted), dtype=float)[None]
    else:
        at = np.concatenate([np.column_stack([shifted, np.full(len(shifted), t)]) for t in times])
        values = np.asarray(solution(at), dtype=float).reshape(len(times), len(shifted), -1)
    here, one, two = np.split(values, 3, axis=1)  # (times, points, unknowns) each
    normal_derivative = (3 * here - 4 * one + two)[..., velocity] / (2 * step)  # one-sided
    traction = nu * normal_derivative - here[..., [names.index("p")]] * normals
    forces = -(weights[:, None] * traction).sum(axis=1)
    return forces[0] if times is None else forces


def _autograd_normal_derivative(solution: Any, points: np.ndarray, normals: np.ndarray, names: list[str]) -> np.ndarray:
    """``∂w_k/∂n`` of the velocity components ``names`` at the points, from the solution's differentiable field,
    taken ``INSET`` of the domain's extent inside: on the boundary itself a hard constraint's distance function
    ``1/φ = Σ 1/φ_i`` differentiates to inf/inf (the shift changes ``∂w/∂n`` by ``O(INSET)`` relative)."""
    lower, upper = solution.problem.domain.bounds
    fields, _ = solution.field(points - INSET * float(np.max(upper - lower)) * normals)
    columns = []
    for name in names:
        component = fields[name]
        gradient = [component.derivative(axis).values.detach().double().cpu().numpy() for axis in component.space_names]
        columns.append(sum(g * normals[:, j] for j, g in enumerate(gradient)))
    return np.stack(columns, axis=1)


@dataclass(frozen=True)
class Profile(Quantity):
    """``unknown`` along a line through the domain against a table's values at its points.

    The table is a CSV file with columns ``profile, coordinate, value`` (found like every data file:
    :func:`pdesolve.problem.reference.find_data_file`); rows whose ``profile`` equals ``key`` are used.
    ``axis`` is the coordinate the table varies (0: x, 1: y); the others are held at ``fixed``.
    """

    unknown: str = "u"
    table: str = ""
    key: str = ""
    axis: int = 1
    fixed: tuple[float, ...] = (0.5,)

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        path = find_data_file(self.table)
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
        try:
            chosen = [(float(r["coordinate"]), float(r["value"])) for r in rows if r["profile"] == self.key]
        except (KeyError, TypeError, ValueError) as error:
            raise ProblemError(f"{path}: expected columns profile, coordinate, value with numbers ({error})") from None
        if not chosen:
            raise ProblemError(f"{path} has no rows of profile {self.key!r}")
        coordinate, values = np.array(chosen).T
        others = iter(self.fixed)
        columns = [
            coordinate if k == self.axis else np.full_like(coordinate, next(others)) for k in range(1 + len(self.fixed))
        ]
        return np.stack(columns, axis=1), values

    def evaluate(self, solution: Any) -> dict[str, Any]:
        points, table = self.points()
        deviation = _column(solution, points, self.unknown) - table
        return {
            "max_abs_deviation": float(np.max(np.abs(deviation))),
            "rel_l2_deviation": float(np.linalg.norm(deviation) / np.linalg.norm(table)),
            "points": len(table),
            "method": f"table {self.table} ({self.key})",
            "reference": self.reference,
        }

    def series(self, solution: Any, times: np.ndarray) -> dict[str, Any]:
        """The profile at each of ``times``: ``values[k]`` at the table's coordinates, and its deviations."""
        points, table = self.points()
        values = [_column(TimeSlice(solution, t), points, self.unknown) for t in times]
        return {
            "t": [float(t) for t in times],
            "coordinate": points[:, self.axis].tolist(),
            "values": [v.tolist() for v in values],
            "max_abs_deviation": [float(np.max(np.abs(v - table))) for v in values],
        }
