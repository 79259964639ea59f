"""One run from start to folder: build the solver, solve, measure, write files, then ``metrics.json``.

The folder is filled in two steps so that ``compare`` can pick its reference after all runs:
``write_solution`` right after the solve (npz, vtu, xdmf, solution plot), ``finish`` once the
reference is known (errors, error plot, derived quantities, and ``metrics.json`` last).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pdesolve.errors import PdesolveError
from pdesolve.io.export import export_solution
from pdesolve.io.run_folder import write_metrics
from pdesolve.problem import Problem
from pdesolve.report.indicators import NETWORK_FAMILIES, indicators
from pdesolve.report.metrics import Reference, Run, execute, run_record, solution_errors
from pdesolve.report.plots import plot_error, plot_solution
from pdesolve.report.quantities import measure_quantities
from pdesolve.report.table import format_options
from pdesolve.solvers.base import SOLVERS, Settings, Solver


@dataclass(frozen=True)
class Job:
    """A solver with the options chosen for it (``alias``: the name it was asked for by, if any)."""

    solver: type[Solver]
    options: dict[str, Any]
    alias: str | None = None

    @property
    def label(self) -> str:
        name = self.solver.name if self.alias is None else f"{self.alias} ({self.solver.name})"
        return f"{name} [{format_options(self.options)}]"


def perform(job: Job, problem: Problem, settings: Settings) -> tuple[Run, dict[str, Any]]:
    """Solve; returns the run and the solver's full configuration (defaults included)."""
    solver = job.solver(settings, **job.options)
    solution, wall_time, memory = execute(solver, problem)
    run = Run(job.solver.name, dict(job.options), solution, wall_time, memory, alias=job.alias)
    return run, dict(solver.config)


def write_solution(run: Run, folder: Path) -> dict[str, str]:
    """Solution files and the solution plot; returns what was written."""
    files = export_solution(run.solution, folder)
    try:
        plot_solution(run.solution, folder / "solution.png", f"{run.solution.problem.name}: {run.label}")
        files["solution.png"] = "ok"
    except NotImplementedError:
        files["solution.png"] = "skipped: the solution has no final snapshot"
    return files


def finish(
    run: Run,
    reference: Reference | None,
    folder: Path,
    settings: Settings,
    details: dict[str, Any],
    context: dict[str, Any],
) -> dict[str, Any]:
    """Errors and error plot (when there is a reference), a network's a-posteriori indicators, then ``metrics.json``.

    ``details`` belong to this run (its full config, files written); ``context`` is shared by the runs
    of a comparison (problem, versions, command). Returns the run's record without the context.
    """
    files = dict(details.get("files", {}))
    if reference is not None:
        start = time.perf_counter()
        run.errors = solution_errors(run.solution, reference)
        run.evaluation_time = time.perf_counter() - start
        plot_error(run.solution, reference, folder / "error.png", f"{run.solution.problem.name}: {run.label}")
        files["error.png"] = "ok"
    if getattr(SOLVERS.get(run.solver), "family", None) in NETWORK_FAMILIES:
        start = time.perf_counter()
        try:
            run.indicators = indicators(run.solution, run.solution.problem)
        except Exception as error:  # an operator only grid fields have; a residual failing on autograd tensors
            message = str(error) if isinstance(error, PdesolveError) else f"{type(error).__name__}: {error}"
            run.indicators = {"indicators_failed": message}
        run.evaluation_time = (run.evaluation_time or 0.0) + time.perf_counter() - start  # errors + indicators
    record = {
        **run_record(run, settings),
        "reference": None if reference is None else reference.source,
        **details,
        "files": files,
    }
    if run.solution.problem.quantities:
        record["quantities"] = measure_quantities(run.solution.problem, run.solution)
    write_metrics(folder, {**context, **record})
    return record
