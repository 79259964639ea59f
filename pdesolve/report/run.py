"""One run from start to folder: build the solver, solve, measure, write files, then ``metrics.json``.

The folder is filled in two steps so that ``compare`` can pick its reference after all runs:
``write_solution`` right after the solve (npz, vtu, xdmf, solution plot), ``finish`` once the
reference is known (errors, error plot, derived quantities, and ``metrics.json`` last). ``measure``
alone gives the record without writing anything (the Python API saves a run only when asked).
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pdesolve.errors import PdesolveError
from pdesolve.io.config import Config
from pdesolve.io.export import export_solution
from pdesolve.io.run_folder import write_metrics
from pdesolve.problem import Problem
from pdesolve.report.indicators import NETWORK_FAMILIES, indicators
from pdesolve.report.metrics import Reference, Run, environment, execute, run_record, solution_errors
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
    return run, asdict(solver.config)


def write_solution(run: Run, folder: Path) -> dict[str, str]:
    """Solution files and the solution plot; returns what was written."""
    files = export_solution(run.solution, folder)
    try:
        plot_solution(run.solution, folder / "solution.png", f"{run.solution.problem.name}: {run.label}")
        files["solution.png"] = "ok"
    except NotImplementedError:
        files["solution.png"] = "skipped: the solution has no final snapshot"
    return files


def measure(run: Run, reference: Reference | None, settings: Settings, details: dict[str, Any]) -> dict[str, Any]:
    """Errors against ``reference`` (when there is one), a network's a-posteriori indicators, the problem's
    derived quantities and the run's record; writes nothing.

    ``details`` belong to this run (its full config, files written)."""
    start = time.perf_counter()
    if reference is not None:
        run.errors = solution_errors(run.solution, reference)
        run.evaluation_time = time.perf_counter() - start
    if getattr(SOLVERS.get(run.solver), "family", None) in NETWORK_FAMILIES:
        try:
            run.indicators = indicators(run.solution, run.solution.problem)
        except Exception as error:  # an operator only grid fields have; a residual failing on autograd tensors
            message = str(error) if isinstance(error, PdesolveError) else f"{type(error).__name__}: {error}"
            run.indicators = {"indicators_failed": message}
        run.evaluation_time = time.perf_counter() - start  # errors + indicators
    record = {**run_record(run, settings), "reference": None if reference is None else reference.source, **details}
    if run.solution.problem.quantities:
        record["quantities"] = measure_quantities(run.solution.problem, run.solution)
    return record


def write_record(
    run: Run, reference: Reference | None, folder: Path, record: dict[str, Any], context: dict[str, Any]
) -> dict[str, Any]:
    """The error plot (when there is a reference), then ``metrics.json`` (context and record) last.

    ``context`` is shared by the runs of a comparison (problem, versions, command). Returns the record
    with the files it names."""
    files = dict(record.get("files", {}))
    if reference is not None:
        plot_error(run.solution, reference, folder / "error.png", f"{run.solution.problem.name}: {run.label}")
        files["error.png"] = "ok"
    record = {**record, "files": files}
    write_metrics(folder, {**context, **record})
    return record


def finish(
    run: Run,
    reference: Reference | None,
    folder: Path,
    settings: Settings,
    details: dict[str, Any],
    context: dict[str, Any],
) -> dict[str, Any]:
    """:func:`measure`, then :func:`write_record`; returns the run's record without the context."""
    return write_record(run, reference, folder, measure(run, reference, settings, details), context)


def seed_everything(seed: int) -> None:
    """Seed the global generators too (solvers seed their own from ``settings.seed``)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def run_context(problem: Problem, source: str, config: Config, command: str) -> dict[str, Any]:
    """What ``metrics.json`` says besides the runs: problem, settings, resolved configuration, versions, command."""
    return {
        "problem": {
            "name": problem.name,
            "source": source,
            "dim": problem.dim,
            "evolution": problem.is_evolution,
            "params": problem.params,
        },
        "settings": {"device": config.device, "dtype": config.dtype, "seed": config.seed},
        "resolved_config": {
            "device": config.device,
            "dtype": config.dtype,
            "seed": config.seed,
            "config_file": config.file,
            "solver": config.common,
            "solvers": config.per_solver,
        },
        **environment(),
        "command": command,
    }
