"""``pdesolve compare``: every chosen solver on one problem, one table, one report, one JSON file.

Errors are measured against the problem's data file or exact solution; when it has neither, the
finest classical run (most degrees of freedom) is the reference, and the report says so.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pdesolve.errors import NotApplicableError, PdesolveError
from pdesolve.io.claim import claimed
from pdesolve.io.config import Config
from pdesolve.io.run_folder import atomic_write_text, run_folder_name, write_metrics
from pdesolve.problem import Problem
from pdesolve.report.metrics import Reference, Run
from pdesolve.report.plots import plot_error_vs_time, plot_solution
from pdesolve.report.progress import progress_bar
from pdesolve.report.quantities import quantities_markdown, reference_note
from pdesolve.report.run import Job, finish, perform, seed_everything, write_solution
from pdesolve.report.table import failures, format_seconds, markdown_table
from pdesolve.solvers.base import SOLVERS, Settings, Solver, option_fields
from pdesolve.solvers.classical_alias import Alias, resolve


@dataclass
class Outcome:
    """A planned run, its folder, and what came of it."""

    job: Job
    folder: Path
    run: Run | None = None
    config: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    failed: str | None = None
    internal: bool = False
    record: dict[str, Any] = field(default_factory=dict)


def registered(name: str) -> type[Solver]:
    """The registered solver ``name``; a one-line error when there is none."""
    if name not in SOLVERS:
        raise PdesolveError(f"unknown solver {name!r} (known: {', '.join(sorted(SOLVERS))})")
    return SOLVERS[name]


def lookup(name: str, problem: Problem) -> type[Solver]:
    """The registered solver ``name``; one-line errors when it is unknown or does not apply."""
    reason = registered(name).not_applicable(problem)
    if reason:
        raise NotApplicableError(f"solver {name!r} does not apply to {problem.name!r}: {reason}")
    return SOLVERS[name]


def addressed(name: str, applicable: list[str], config: Config | None) -> bool:
    """The user gave options for solver ``name``: its own (``--set NAME.key=...``) or a key only it has."""
    if config is None:
        return False
    others = {key for n in applicable if n != name for key in option_fields(SOLVERS[n].Options)}
    return bool(config.per_solver.get(name)) or any(
        key in option_fields(SOLVERS[name].Options) and key not in others for key in config.common
    )


def choose_solvers(
    problem: Problem, names: list[str] | None, config: Config | None = None
) -> tuple[list[tuple[type[Solver], str | None]], list[str]]:
    """(solver, alias) pairs to run, and notes on skipped solvers.

    Default: every applicable solver with something to run: ``compare_variants``, or options the user
    addressed to it (``fno`` has no variants without a model; ``--set model=PATH`` brings it in).
    """
    notes: list[str] = []
    if names is None:
        applicable = [n for n, s in SOLVERS.items() if s.not_applicable(problem) is None]
        names = [n for n in applicable if SOLVERS[n].compare_variants(problem) or addressed(n, applicable, config)]
        names.sort(key=lambda n: issubclass(SOLVERS[n], Alias))  # aliases last
        notes += [
            f"{n} is left out: it runs once given its options (--set {n}.KEY=VALUE)"
            for n in applicable
            if n not in names
        ]
    chosen = [resolve(lookup(name, problem), problem) for name in names]
    concrete = {solver for solver, alias in chosen if alias is None}
    kept = []
    for solver, alias in chosen:
        if alias is not None and solver in concrete:
            notes.append(f"{alias} stands for {solver.name} here, which runs already")
            continue
        if (solver, alias) not in kept:
            kept.append((solver, alias))
    return kept, notes


def plan(problem: Problem, chosen: list[tuple[type[Solver], str | None]], config: Config) -> list[Job]:
    """Each solver's ``compare_variants``, overridden by the user's options, without duplicates."""
    jobs: list[Job] = []
    for solver, alias in chosen:
        user = config.options_for(solver, *([alias] if alias else []))
        for variant in solver.compare_variants(problem) or [{}]:
            job = Job(solver, {**variant, **user}, alias)
            if job not in jobs:
                jobs.append(job)
    return jobs


def cuda_out_of_memory(error: BaseException) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(error, torch.cuda.OutOfMemoryError)


def _attempt(outcome: Outcome, problem: Problem, settings: Settings) -> None:
    try:
        outcome.run, outcome.config = perform(outcome.job, problem, replace(settings, folder=str(outcome.folder)))
        outcome.files = write_solution(outcome.run, outcome.folder)
    except PdesolveError as error:
        outcome.failed = str(error)
    except Exception as error:  # a bug in one solver: report it, keep the others
        if cuda_out_of_memory(error):
            sys.modules["torch"].cuda.empty_cache()
            outcome.failed = "out of CUDA memory"
        else:
            traceback.print_exc()
            outcome.failed, outcome.internal = f"internal error: {type(error).__name__}: {error}", True


def choose_reference(problem: Problem, outcomes: list[Outcome]) -> tuple[Reference | None, Outcome | None]:
    """The problem's own reference, else the finished classical run with the most degrees of freedom."""
    reference = Reference.of(problem)
    if reference is not None:
        return reference, None
    classical = [o for o in outcomes if o.run is not None and o.job.solver.family == "classical"]
    if not classical:
        return None, None
    finest = max(classical, key=lambda o: o.run.dofs)
    return finest_reference(problem, finest.job, finest.run), finest


def finest_reference(problem: Problem, job: Job, run: Run) -> Reference:
    """A classical run's solution at the problem's test points, as the reference of the other runs."""
    points = problem.test_points()
    source = f"finest classical run: {job.label} ({run.dofs} dofs)"
    return Reference.clean(points, run.solution(points), source, problem.unknowns)


def solve_reference(problem: Problem, job: Job, settings: Settings) -> Reference | None:
    """``solve``'s reference, as ``compare`` would choose it: the problem's data or exact solution, else, for a
    solver that is not classical, the finest run of the classical solver that applies (its compare variants)."""
    reference = Reference.of(problem)
    if reference is not None or job.solver.family == "classical" or "classical" not in SOLVERS:
        return reference
    try:
        solver, alias = resolve(SOLVERS["classical"], problem)
        jobs = [Job(solver, variant, alias) for variant in solver.compare_variants(problem) or [{}]]
        runs = [(candidate, perform(candidate, problem, settings)[0]) for candidate in jobs]
    except PdesolveError:  # no classical solver applies, or it failed: errors are not measured
        return None
    finest, run = max(runs, key=lambda pair: pair[1].dofs)
    return finest_reference(problem, finest, run)


def run_all(
    problem: Problem, jobs: list[Job], settings: Settings, folder: Path, context: dict[str, Any]
) -> tuple[list[Outcome], Reference | None]:
    """Run every job into its own subfolder, then measure all against the reference."""
    outcomes = [
        Outcome(job, folder / run_folder_name(k + 1, job.solver.name, job.options)) for k, job in enumerate(jobs)
    ]
    bar = progress_bar(settings.progress, iterable=outcomes, desc=f"compare {problem.name}", unit="run")
    for outcome in bar:
        bar.set_postfix_str(outcome.job.label, refresh=False)
        outcome.folder.mkdir(parents=True, exist_ok=True)
        _attempt(outcome, problem, settings)
    reference, reference_outcome = choose_reference(problem, outcomes)
    for outcome in outcomes:
        details = {"config": outcome.config, "files": outcome.files}
        if outcome.failed:
            outcome.record = {
                "solver": outcome.job.solver.name,
                "alias": outcome.job.alias,
                "options": outcome.job.options,
                "failed": outcome.failed,
            }
            write_metrics(outcome.folder, {**context, **outcome.record, **details})
        else:
            is_reference = outcome is reference_outcome
            own = None if is_reference else reference
            outcome.record = finish(
                outcome.run, own, outcome.folder, settings, {**details, "is_reference": is_reference}, context
            )
        outcome.record["folder"] = outcome.folder.name
    return outcomes, reference


def best(outcomes: list[Outcome]) -> Outcome | None:
    """The run with the smallest relative L2 error (or the reference run when nothing was measured)."""
    measured = [o for o in outcomes if o.record.get("rel_l2") is not None]
    if measured:
        return min(measured, key=lambda o: o.record["rel_l2"])
    return next((o for o in outcomes if o.record.get("is_reference")), None)


def write_report(
    problem: Problem, outcomes: list[Outcome], reference: Reference | None, folder: Path, summary: dict[str, Any]
) -> str:
    """Plots, ``report.md`` and, last, the top-level ``metrics.json``; returns the Markdown."""
    records = [o.record for o in outcomes]
    top = best(outcomes)
    if top is not None:
        plot_solution(top.run.solution, folder / "best_solution.png", f"{problem.name}: {top.job.label}")
    plot_error_vs_time(records, folder / "error_vs_time.png", f"{problem.name}: error against wall time")
    text = _markdown(problem, outcomes, reference, top, summary)
    atomic_write_text(folder / "report.md", text)
    write_metrics(folder, {**summary, "reference": None if reference is None else reference.source, "runs": records})
    return text


def time_split_lines(records: list[dict[str, Any]]) -> list[str]:
    """A time-split line (seconds by phase, e.g. TENG's initial fit, steps, evaluation) per run that has phases
    beyond the error evaluation."""
    lines = []
    for record in records:
        split = record.get("time_split_s") or {}
        if set(split) - {"evaluation"}:
            label = record["solver"] if not record.get("alias") else f"{record['alias']} ({record['solver']})"
            parts = ", ".join(
                f"{phase.replace('_', ' ')} {format_seconds(seconds)}" for phase, seconds in split.items()
            )
            lines.append(f"- time split of {label}: {parts} (wall time {format_seconds(record.get('wall_time_s'))})")
    return lines


def reference_line(reference: Reference | None) -> str:
    if reference is None:
        return (
            "No reference: the problem has no exact solution or data file and no classical solver ran; "
            "errors are not measured: only the a-posteriori indicators (residual, BC/IC max) check the runs."
        )
    where = f"at {len(reference.points)} points"
    if reference.source.startswith("finest classical run"):
        return f"No exact solution or data file: errors are measured against the {reference.source} {where}."
    return f"Errors are measured against the {reference.source} {where}."


def _markdown(
    problem: Problem, outcomes: list[Outcome], reference: Reference | None, top: Outcome | None, summary: dict
) -> str:
    settings, versions = summary["settings"], summary["versions"]
    lines = [f"# pdesolve compare: {problem.name}", ""]
    if problem.description:
        lines += [problem.description, ""]
    lines += [
        f"Device {settings['device']}, {settings['dtype']}, seed {settings['seed']}; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + ".",
        "",
        reference_line(reference),  # right above the table: what its errors are against
        "",
        markdown_table([o.record for o in outcomes]),
        "",
    ]
    quantities = quantities_markdown([o.record for o in outcomes])
    if quantities:
        lines += ["## Derived quantities", "", reference_note(problem), "", quantities, ""]
    lines += [f"- failed: {line}" for line in failures([o.record for o in outcomes])]
    lines += [f"- note: {note}" for note in summary.get("notes", [])]
    lines += time_split_lines([o.record for o in outcomes])
    lines += ["", "## Plots", "", "![relative L2 error against wall time](error_vs_time.png)", ""]
    if top is not None:
        lines += [
            f"Solution of the best run, {top.job.label}:",
            "",
            "![solution of the best run](best_solution.png)",
            "",
        ]
    maps = [o for o in outcomes if o.record.get("files", {}).get("error.png") == "ok"]
    if maps:
        lines += ["### Error maps", ""]
        lines += [f"{o.job.label}:\n\n![error map]({o.folder.name}/error.png)\n" for o in maps]
    lines += ["", f"Reproduce: `{summary['command']}`", ""]
    return "\n".join(lines)


def compare(
    problem: Problem,
    names: list[str] | None,
    config: Config,
    settings: Settings,
    folder: Path,
    summary: dict[str, Any],
    echo: Callable[[str], None],
) -> tuple[list[Outcome], Reference | None]:
    """The whole comparison into ``folder`` (created once the plan stands); ``echo`` gets notes for the user."""
    chosen, notes = choose_solvers(problem, names, config)
    if not chosen:
        raise PdesolveError(f"no solver applies to {problem.name!r}")
    config.check_used([solver for solver, _ in chosen], set(SOLVERS), [alias for _, alias in chosen if alias])
    jobs = plan(problem, chosen, config)
    with claimed(folder, "compare"):
        for note in notes:
            echo(f"note: {note}")
        summary = {**summary, "notes": notes, "jobs": [job.label for job in jobs]}
        seed_everything(settings.seed)
        context = {key: summary[key] for key in ("problem", "versions", "platform", "command")}
        outcomes, reference = run_all(problem, jobs, settings, folder, context)
        write_report(problem, outcomes, reference, folder, summary)
    return outcomes, reference
