"""What ``solve`` and ``compare`` hand back, for the command line and the Python API alike.

:func:`solve_problem` runs one solver and measures it without writing anything; the
:class:`SolveResult` saves its run folder when asked. :class:`Comparison` wraps the outcome of
:func:`pdesolve.report.compare.compare`: its rows are the per-run records of ``metrics.json``, and it
renders as text (terminal), Markdown and HTML (Jupyter) with the reference named above the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from pdesolve.io.claim import claimed
from pdesolve.io.config import Config
from pdesolve.problem import Problem
from pdesolve.report.compare import Outcome, best, lookup, reference_line, solve_reference, time_split_lines
from pdesolve.report.metrics import Reference, Run
from pdesolve.report.plots import solution_and_error_figure
from pdesolve.report.quantities import quantities_markdown
from pdesolve.report.run import Job, measure, perform, seed_everything, write_record, write_solution
from pdesolve.report.table import html_table, markdown_table, text_table
from pdesolve.solvers.base import SOLVERS, Settings
from pdesolve.solvers.classical_alias import resolve as resolve_alias
from pdesolve.solvers.solution import Solution


class SolveResult:
    """One finished run: ``solution`` (callable at points), ``metrics`` (what ``metrics.json`` holds),
    ``plot()`` and ``save(folder)``."""

    def __init__(self, run: Run, reference: Reference | None, record: dict[str, Any], context: dict[str, Any]):
        self.run, self.reference, self.context = run, reference, context
        self.record = record
        self.folder: Path | None = None

    @property
    def solution(self) -> Solution:
        return self.run.solution

    @property
    def metrics(self) -> dict[str, Any]:
        return {**self.context, **self.record}

    @property
    def rel_l2(self) -> float | None:
        return self.record.get("rel_l2")

    def __call__(self, points: Any) -> Any:
        return self.solution(points)

    def plot(self) -> Figure:
        """The solution and its error against the reference (a matplotlib figure)."""
        title = f"{self.solution.problem.name}: {self.run.label}"
        return solution_and_error_figure(self.solution, self.reference, title)

    def save(self, folder: str | Path) -> Path:
        """Claim ``folder`` (:mod:`pdesolve.io.claim`: refused when it is in use, holds another run or files
        pdesolve did not write) and write the run folder as ``pdesolve solve`` does."""
        with claimed(folder, "solve") as claimed_folder:
            return self.write(claimed_folder)

    def write(self, folder: Path) -> Path:
        """Write the run folder this process has claimed (atomically, ``metrics.json`` last)."""
        files = write_solution(self.run, folder)
        self.record = write_record(self.run, self.reference, folder, {**self.record, "files": files}, self.context)
        self.folder = folder
        return folder

    def __str__(self) -> str:
        return "\n".join([reference_line(self.reference), text_table([self.record]), *time_split_lines([self.record])])

    def __repr__(self) -> str:
        return f"<SolveResult {self.run.label} on {self.solution.problem.name}: rel L2 {self.rel_l2}>"

    def _repr_markdown_(self) -> str:
        return f"{reference_line(self.reference)}\n\n{_with_quantities([self.record])}"


def _with_quantities(records: list[dict[str, Any]]) -> str:
    """The Markdown table, then the derived quantities of the runs that measured some."""
    quantities = quantities_markdown(records)
    return markdown_table(records) + (f"\n\nDerived quantities:\n\n{quantities}" if quantities else "")


def solve_job(problem: Problem, solver_name: str, config: Config) -> Job:
    """``solver_name`` (an alias resolves to its solver) with the options ``config`` gives it; one-line
    errors for an unknown or inapplicable solver and for options it does not have."""
    solver, alias = resolve_alias(lookup(solver_name, problem), problem)
    config.check_used([solver], set(SOLVERS), [alias] if alias else [])
    return Job(solver, config.options_for(solver, *([alias] if alias else [])), alias)


def solve_problem(problem: Problem, job: Job, settings: Settings, context: dict[str, Any]) -> SolveResult:
    """Run ``job`` and measure it against the reference ``compare`` would choose (nothing is written)."""
    seed_everything(settings.seed)
    run, full_config = perform(job, problem, settings)
    reference = solve_reference(problem, job, settings)
    record = measure(run, reference, settings, {"config": full_config, "files": {}})
    return SolveResult(run, reference, record, context)


class Comparison:
    """The table of a comparison: ``rows`` (one record per run, as in ``metrics.json``), the reference,
    the run folder (None when nothing was kept) and the results of the runs that finished."""

    def __init__(self, problem: Problem, outcomes: list[Outcome], reference: Reference | None, folder: Path | None):
        self.problem, self.outcomes, self.reference, self.folder = problem, outcomes, reference, folder

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [o.record for o in self.outcomes]

    @property
    def caption(self) -> str:
        return reference_line(self.reference)

    def results(self) -> list[SolveResult]:
        """A :class:`SolveResult` for every run that finished (the reference run measured against nothing)."""
        return [
            SolveResult(o.run, None if o.record.get("is_reference") else self.reference, o.record, {})
            for o in self.outcomes
            if o.run is not None
        ]

    @property
    def best(self) -> SolveResult | None:
        """The run with the smallest relative L2 error."""
        top = best(self.outcomes)
        return None if top is None else next(r for r in self.results() if r.run is top.run)

    def __len__(self) -> int:
        return len(self.outcomes)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.rows[index]

    def __str__(self) -> str:
        return "\n".join([f"{self.problem.name}: {self.caption}", text_table(self.rows), *time_split_lines(self.rows)])

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return f"**{self.problem.name}**: {self.caption}\n\n{_with_quantities(self.rows)}"

    def _repr_html_(self) -> str:
        return html_table(self.rows, f"{self.problem.name}: {self.caption}")
