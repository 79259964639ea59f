"""The Python API: ``pdesolve.solve`` and ``pdesolve.compare``, the two commands as functions.

>>> import pdesolve as ps
>>> result = ps.solve("poisson2d", "fd", n=33)          # options as keywords, like --set n=33
>>> result.metrics["rel_l2"] < 1e-3                       # what metrics.json holds
True
>>> table = ps.compare("poisson2d", solvers=["fd", "fem"], fd={"n": 33})   # NAME={...}: one solver's options

Both run through the same functions as the command line (:mod:`pdesolve.report.results`,
:mod:`pdesolve.report.compare`, :mod:`pdesolve.io.config`); nothing is written unless asked
(``result.save(folder)``, ``compare(..., out=folder)``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from pdesolve.errors import PdesolveError
from pdesolve.io.config import check_device, from_options
from pdesolve.problem import Problem, load_problem
from pdesolve.report.compare import compare as compare_into
from pdesolve.report.results import Comparison, SolveResult, solve_job, solve_problem
from pdesolve.report.run import run_context
from pdesolve.solvers.available import load_all


def _problem(problem: Problem | str | Path) -> tuple[Problem, str]:
    """A :class:`Problem` as given, or loaded from a catalogue name or a ``.py`` file; and its source."""
    load_all()
    if isinstance(problem, Problem):
        return problem, problem.name
    return load_problem(str(problem)), str(problem)


def _call(function: str, *arguments: Any, **options: Any) -> str:
    shown = [repr(a) for a in arguments] + [f"{k}={v!r}" for k, v in options.items()]
    return f"pdesolve.{function}({', '.join(shown)})"


def solve(
    problem: Problem | str | Path,
    solver: str = "classical",
    *,
    device: str = "cpu",
    dtype: str = "float64",
    seed: int = 0,
    progress: bool = True,
    **options: Any,
) -> SolveResult:
    """Solve ``problem`` (a Problem, a catalogue name or a ``.py`` file) with ``solver`` and its
    ``options`` (``pdesolve list SOLVER`` names them); errors are measured against the problem's
    reference. Returns a :class:`SolveResult` (``.metrics``, ``.plot()``, ``.save(folder)``)."""
    loaded, source = _problem(problem)
    config = from_options(device, dtype, seed, options)
    check_device(device)
    context = run_context(loaded, source, config, _call("solve", source, solver, **options))
    return solve_problem(loaded, solve_job(loaded, solver, config), config.settings(progress), context)


def compare(
    problem: Problem | str | Path,
    solvers: list[str] | None = None,
    *,
    device: str = "cpu",
    dtype: str = "float64",
    seed: int = 0,
    progress: bool = True,
    out: str | Path | None = None,
    **options: Any,
) -> Comparison:
    """Run ``solvers`` (default: every applicable one at its compare settings) on ``problem``.

    ``key=value`` options go to every solver that has the key, ``NAME={key: value}`` to solver NAME only.
    ``out`` keeps the run folder (report.md, plots, one subfolder per run) as ``pdesolve compare`` writes
    it. Returns a :class:`Comparison` table (printable, rendered by Jupyter; ``.rows`` holds the data)."""
    loaded, source = _problem(problem)
    if solvers is not None and (isinstance(solvers, str) or not solvers):
        raise PdesolveError("solvers: give a list of solver names, e.g. solvers=['fd', 'fem']")
    config = from_options(device, dtype, seed, options)
    check_device(device)
    context = run_context(loaded, source, config, _call("compare", source, solvers, **options))

    def echo(line: str) -> None:
        print(line, file=sys.stderr)

    settings = config.settings(progress)
    if out is not None:
        outcomes, reference = compare_into(loaded, solvers, config, settings, Path(out), context, echo)
        return Comparison(loaded, outcomes, reference, Path(out))
    with tempfile.TemporaryDirectory(prefix="pdesolve-compare-") as folder:
        outcomes, reference = compare_into(loaded, solvers, config, settings, Path(folder) / "run", context, echo)
    return Comparison(loaded, outcomes, reference, None)
