"""One solver run measured: errors against the reference, wall time, peak memory, solver statistics.

Errors are the relative L2 error ``||u - u_ref||_2 / ||u_ref||_2`` and the maximum absolute error
over the reference points (points whose reference value is NaN are dropped). A system's errors are
measured per unknown; its headline figures are those of the velocity (or displacement) vector
``(u, v[, w])``, ``sqrt(Σ_i ||u_i - u_i,ref||²) / sqrt(Σ_i ||u_i,ref||²)``, when it has one, else the largest
of its unknowns'.
"""

from __future__ import annotations

import importlib.metadata
import platform
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pdesolve.errors import DivergenceError, ProblemError
from pdesolve.problem import Problem
from pdesolve.problem.systems import vector_names
from pdesolve.report.memory import PeakMemory
from pdesolve.solvers.base import Settings, Solver
from pdesolve.solvers.solution import Solution


@dataclass(frozen=True)
class Reference:
    """Points (space, then time) and values errors are measured on, and where they come from."""

    points: np.ndarray
    values: np.ndarray  # (N,), or (N, unknowns) for a system
    source: str
    names: tuple[str, ...] = ("u",)

    @classmethod
    def of(cls, problem: Problem) -> Reference | None:
        """The problem's data file or exact solution; None when neither exists."""
        found = problem.reference_set()
        if found is None:
            return None
        if problem.reference is not None and problem.reference.available():
            source = f"data file {problem.reference.file}"
        else:
            source = "exact solution"
        return cls.clean(*found, source=source, names=problem.unknowns)

    @classmethod
    def clean(cls, points: np.ndarray, values: np.ndarray, source: str, names: tuple[str, ...] = ("u",)) -> Reference:
        """Drop points whose reference value is NaN (any unknown's, for a system)."""
        points = np.asarray(points, dtype=float).reshape(len(points), -1)
        values = np.asarray(values, dtype=float)
        values = values.ravel() if len(names) == 1 else values.reshape(len(values), -1)
        if len(points) != len(values):
            raise ProblemError(f"reference ({source}): {len(points)} points but {len(values)} values")
        keep = ~np.isnan(values) if values.ndim == 1 else ~np.isnan(values).any(axis=1)
        if not keep.any():
            raise ProblemError(f"reference ({source}) has no finite values")
        return cls(points[keep], values[keep], source, tuple(names))


def _errors(values: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Relative L2 (absolute where the reference vanishes) and max abs error; columns count jointly."""
    difference = values - reference
    norm = np.linalg.norm(reference)
    return {
        "rel_l2": float(np.linalg.norm(difference) / norm) if norm > 0 else float(np.linalg.norm(difference)),
        "max_abs": float(np.max(np.abs(difference))),
    }


def solution_errors(solution: Solution, reference: Reference) -> dict[str, Any]:
    """Relative L2 and max abs error at the reference points (where the solution is defined);
    for a system also per unknown (``per_unknown``) and of the velocity vector (``vector``)."""
    values = np.asarray(solution(reference.points), dtype=np.float64)
    values = values.ravel() if reference.values.ndim == 1 else values.reshape(len(values), -1)
    if values.shape != reference.values.shape:
        raise ValueError(f"solution gave {values.shape} values at {len(reference.points)} reference points")
    defined = np.isfinite(values) if values.ndim == 1 else np.isfinite(values).all(axis=1)
    if not defined.any():
        raise DivergenceError("the solution is NaN or infinite at every reference point")
    counts = {"points": int(defined.sum()), "points_undefined": int((~defined).sum())}
    values, expected = values[defined], reference.values[defined]
    if values.ndim == 1:
        return {**_errors(values, expected), **counts}
    per_unknown = {name: _errors(values[:, k], expected[:, k]) for k, name in enumerate(reference.names)}
    vector = vector_names(reference.names, solution.problem.dim)  # points may carry a time column
    headline = None
    if vector is not None:
        columns = [reference.names.index(name) for name in vector]
        headline = _errors(values[:, columns], expected[:, columns])
    else:
        headline = {key: max(e[key] for e in per_unknown.values()) for key in ("rel_l2", "max_abs")}
    return {**headline, **counts, "per_unknown": per_unknown, "vector": list(vector) if vector else None}


def check_finite(solution: Solution, solver: str) -> None:
    """Raise :class:`DivergenceError` when the final snapshot holds NaN or infinite values."""
    try:
        _, values, _ = solution.final_snapshot()
    except NotImplementedError:
        return
    bad = ~np.isfinite(np.asarray(values, dtype=float))
    if bad.any():
        raise DivergenceError(f"solver {solver!r} diverged: {bad.sum()} of {bad.size} values are NaN or infinite")


@dataclass
class Run:
    """A finished solver run with its measurements."""

    solver: str
    options: dict[str, Any]
    solution: Solution
    wall_time: float
    memory: PeakMemory
    alias: str | None = None
    errors: dict[str, Any] = field(default_factory=dict)
    evaluation_time: float | None = None
    indicators: dict[str, Any] = field(default_factory=dict)

    @property
    def time_split(self) -> dict[str, float]:
        """Seconds by phase: the solver's own (``stats["phase_seconds"]``, e.g. TENG's initial fit and
        steps, parts of the wall time) and the error evaluation against the reference (after it)."""
        split = dict(self.stats.get("phase_seconds", {}))
        if self.evaluation_time is not None:
            split["evaluation"] = self.evaluation_time
        return split

    @property
    def label(self) -> str:
        return self.solver if self.alias is None else f"{self.alias} ({self.solver})"

    @property
    def stats(self) -> dict[str, Any]:
        return self.solution.stats

    @property
    def dofs(self) -> int:
        """Size of the discrete solution: the solver's ``dofs`` statistic or the final snapshot's nodes."""
        if "dofs" in self.stats:
            return int(self.stats["dofs"])
        try:
            return len(self.solution.final_snapshot()[1])
        except NotImplementedError:
            return 0


def execute(solver: Solver, problem: Problem) -> tuple[Solution, float, PeakMemory]:
    """Solve and measure wall time and peak memory (CUDA work is synchronised before the clock stops)."""
    solver.check(problem)
    device = solver.settings.device
    with PeakMemory(device) as memory:
        start = time.perf_counter()
        solution = solver.solve(problem)
        if device.startswith("cuda"):
            import torch

            torch.cuda.synchronize(device)
        wall_time = time.perf_counter() - start
    check_finite(solution, solver.name)
    return solution, wall_time, memory


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("pdesolve", "torch", "numpy", "scipy"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def run_record(run: Run, settings: Settings) -> dict[str, Any]:
    """The per-run part of ``metrics.json`` (a system's adds ``errors_per_unknown`` and ``headline``)."""
    system = {}
    if "per_unknown" in run.errors:
        vector = run.errors["vector"]
        system = {
            "errors_per_unknown": run.errors["per_unknown"],
            "headline": f"vector ({', '.join(vector)})" if vector else "largest error of the unknowns",
        }
    return {
        "solver": run.solver,
        "alias": run.alias,
        "options": run.options,
        "rel_l2": run.errors.get("rel_l2"),
        "max_abs": run.errors.get("max_abs"),
        "residual_rms": run.indicators.get("residual_rms"),
        "boundary_max": run.indicators.get("boundary_max"),
        "initial_max": run.indicators.get("initial_max"),
        **{
            key: run.indicators[key]
            for key in ("residual_rms_per_equation", "indicators_derivatives", "indicators_failed")
            if key in run.indicators
        },
        "error_points": run.errors.get("points"),
        "error_points_undefined": run.errors.get("points_undefined"),
        **system,
        "wall_time_s": run.wall_time,
        "time_split_s": run.time_split,
        "iterations": run.stats.get("iterations"),
        "peak_memory_bytes": run.memory.peak_bytes,
        "peak_rss_increase_bytes": run.memory.cpu_bytes,
        "peak_cuda_allocated_bytes": run.memory.cuda_bytes,
        "memory_measure": "cuda max_memory_allocated" if run.memory.cuda_bytes is not None else "cpu peak rss increase",
        "stats": run.stats,
        "device": settings.device,
        "dtype": settings.dtype,
        "seed": settings.seed,
    }


def environment() -> dict[str, Any]:
    return {"versions": versions(), "platform": platform.platform()}
