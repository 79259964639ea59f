"""PNG plots of a run: the solution, its error against the reference, and error against wall time.

Fields are drawn on a plane: ``x`` (1D stationary, a line), ``x``–``t`` (1D evolution), ``x``–``y``
(2D, at the final time for evolution problems), or the middle ``z`` slice (3D). A system gets one panel
per unknown.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib.tri as mtri
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from pdesolve.io.run_folder import atomic_write
from pdesolve.problem import Problem
from pdesolve.report.metrics import Reference
from pdesolve.solvers.solution import Solution

MAX_POINTS = 60_000  # scattered points triangulated for a plot
MAX_GRID = 250_000  # grid points drawn (larger grids are strided)
TIME_FRAMES = 101


def _figure() -> tuple[Figure, Axes]:
    """A figure outside pyplot: no global state, no GUI backend."""
    figure = Figure(figsize=(6, 4.5))
    return figure, figure.subplots()


def _panels(count: int) -> tuple[Figure, list[Axes]]:
    """One figure with ``count`` panels side by side."""
    if count == 1:
        figure, axes = _figure()
        return figure, [axes]
    figure = Figure(figsize=(5.5 * count, 4.5))
    return figure, list(np.atleast_1d(figure.subplots(1, count)))


def _columns(values: np.ndarray, count: int) -> list[np.ndarray]:
    """One array of values per unknown."""
    return [np.asarray(values, dtype=float).ravel()] if count == 1 else list(np.reshape(values, (-1, count)).T)


def _save(figure: Figure, target: Path) -> Path:
    return atomic_write(target, lambda path: figure.savefig(path, format="png", dpi=120, bbox_inches="tight"))


def _coordinate_names(problem: Problem) -> list[str]:
    return ["x", "y", "z"][: problem.dim] + (["t"] if problem.is_evolution else [])


def _plane(problem: Problem, points: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """Reduce (space[, time]) points to at most two plotted coordinates: final time, then middle z slice."""
    names, note = _coordinate_names(problem), []
    if problem.is_evolution and problem.dim >= 2:
        t = points[:, -1].max()
        keep = np.isclose(points[:, -1], t, rtol=0, atol=1e-9 * max(1.0, abs(t)))
        points, values, names = points[keep, :-1], values[keep], names[:-1]
        note.append(f"t = {t:.4g}")
    if points.shape[1] == 3:
        z = points[:, 2]
        middle = z[np.argmin(np.abs(z - 0.5 * (z.min() + z.max())))]
        on_level = np.isclose(z, middle, rtol=0, atol=1e-9 * max(1.0, abs(middle)))
        keep = on_level if on_level.sum() >= 100 else np.abs(z - middle) <= (z.max() - z.min()) / 20
        points, values, names = points[keep, :2], values[keep], names[:2]
        note.append(f"z = {middle:.4g}")
    return points, values, names, ", ".join(note)


def _tensor_grid(points: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(xs, ys, V[y, x]) when the 2D points lie on a tensor grid (holes become NaN), else None."""
    xs, ix = np.unique(points[:, 0], return_inverse=True)
    ys, iy = np.unique(points[:, 1], return_inverse=True)
    if min(len(xs), len(ys)) < 2 or len(xs) * len(ys) > 4 * len(points):
        return None
    grid = np.full((len(ys), len(xs)), np.nan)
    grid[iy, ix] = values
    stride = int(np.ceil(np.sqrt(grid.size / MAX_GRID)))
    return xs[::stride], ys[::stride], grid[::stride, ::stride]


def _draw(axes: Axes, problem: Problem, points: np.ndarray, values: np.ndarray, label: str, cmap: str) -> str:
    """Draw on ``axes``; returns where the plane lies (e.g. ``z = 0.5``) for the title."""
    points, values, names, note = _plane(problem, points, values)
    if points.shape[1] == 1:
        order = np.argsort(points[:, 0])
        axes.plot(points[order, 0], values[order])
        axes.set_xlabel(names[0])
        axes.set_ylabel(label)
    else:
        grid = _tensor_grid(points, values)
        if grid is not None:  # NaN marks points outside the domain: drawn blank
            xs, ys, image_values = grid
            shading = "gouraud" if np.isfinite(image_values).all() else "nearest"
            image = axes.pcolormesh(xs, ys, np.ma.masked_invalid(image_values), shading=shading, cmap=cmap)
        else:
            image = _draw_scattered(axes, problem, points, values, names, cmap)
        axes.figure.colorbar(image, ax=axes, label=label)
        axes.set_xlabel(names[0])
        axes.set_ylabel(names[1])
        if names == ["x", "y"]:
            axes.set_aspect("equal")
    return f" ({note})" if note else ""


def _draw_scattered(axes: Axes, problem: Problem, points: np.ndarray, values: np.ndarray, names: list[str], cmap: str):
    """Delaunay triangles over scattered points, without those outside the domain."""
    if len(points) > MAX_POINTS:
        pick = np.random.default_rng(0).choice(len(points), MAX_POINTS, replace=False)
        points, values = points[pick], values[pick]
    triangulation = mtri.Triangulation(points[:, 0], points[:, 1])
    if names == ["x", "y"] and problem.dim == 2:  # hide triangles across holes and re-entrant corners
        centroids = points[triangulation.triangles].mean(axis=1)
        triangulation.set_mask(~problem.domain.inside(centroids))
    return axes.tripcolor(triangulation, values, shading="gouraud", cmap=cmap)


def solution_points(solution: Solution) -> tuple[np.ndarray, np.ndarray]:
    """The final snapshot; for 1D evolution problems the whole x–t plane."""
    problem = solution.problem
    points, values, _ = solution.final_snapshot()
    points, values = np.asarray(points, dtype=float), np.asarray(values, dtype=float)
    if not problem.is_evolution:
        return points, values if problem.is_system else values.ravel()
    values = values.ravel()
    if problem.dim > 1:
        return np.column_stack([points, np.full(len(points), problem.time[1])]), values
    times = np.linspace(*problem.time, TIME_FRAMES)
    grid = np.column_stack([np.tile(points[:, 0], len(times)), np.repeat(times, len(points))])
    return grid, np.asarray(solution(grid), dtype=float).ravel()


def plot_solution(solution: Solution, target: Path, title: str) -> Path:
    problem = solution.problem
    points, values = solution_points(solution)
    figure, panels = _panels(len(problem.unknowns))
    for axes, name, column in zip(panels, problem.unknowns, _columns(values, len(problem.unknowns))):
        where = _draw(axes, problem, points, column, name, "viridis")
    figure.suptitle(title + where)
    return _save(figure, target)


def plot_error(solution: Solution, reference: Reference, target: Path, title: str) -> Path:
    """|u - u_ref| at the reference points (per unknown for a system)."""
    problem, count = solution.problem, len(reference.names)
    values = np.asarray(solution(reference.points), dtype=float)
    figure, panels = _panels(count)
    columns = zip(panels, reference.names, _columns(values, count), _columns(reference.values, count))
    for axes, name, column, expected in columns:
        where = _draw(axes, problem, reference.points, np.abs(column - expected), f"|{name} - {name}_ref|", "magma")
    figure.suptitle(f"{title}{where}\nerror against {reference.source}")
    return _save(figure, target)


class ShownFigure(Figure):
    """A figure outside pyplot that Jupyter still shows (as PNG) when it ends a cell."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        return buffer.getvalue()


def solution_and_error_figure(solution: Solution, reference: Reference | None, title: str) -> ShownFigure:
    """The solution beside its error against ``reference`` (the solution alone without one), not saved."""
    panels = 1 if reference is None else 2
    figure = ShownFigure(figsize=(6 * panels, 4.5))
    axes = figure.subplots(1, panels, squeeze=False)[0]
    where = _draw(axes[0], solution.problem, *solution_points(solution), "u", "viridis")
    axes[0].set_title("solution" + where)
    if reference is not None:
        error = np.abs(np.asarray(solution(reference.points), dtype=float).ravel() - reference.values)
        where = _draw(axes[1], solution.problem, reference.points, error, "|u - u_ref|", "magma")
        axes[1].set_title(f"error against the {reference.source}" + where, fontsize=9)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_error_vs_time(records: list[dict[str, Any]], target: Path, title: str) -> Path:
    """Relative L2 error against wall time, one marker per run (log-log)."""
    figure, axes = _figure()
    for record in records:
        if record.get("failed") or record.get("rel_l2") is None:
            continue
        label = record["solver"] if not record.get("alias") else f"{record['alias']} ({record['solver']})"
        options = ", ".join(f"{k}={v}" for k, v in record.get("options", {}).items())
        axes.loglog(record["wall_time_s"], max(record["rel_l2"], 1e-300), "o", label=f"{label} {options}".strip())
    axes.set_xlabel("wall time [s]")
    axes.set_ylabel("relative L2 error")
    axes.grid(True, which="both", alpha=0.3)
    if axes.get_legend_handles_labels()[0]:  # outside the axes: it never hides a point
        axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    figure.suptitle(title)
    return _save(figure, target)
