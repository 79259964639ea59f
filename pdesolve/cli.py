"""The ``pdesolve`` command: ``list``, ``solve``, ``compare``, ``show``.

Bad input ends with one line ``pdesolve: error: ...`` on stderr and exit code 2; Ctrl-C exits with 130 and
SIGTERM with 143, each after the running family saved its final checkpoint (named in the line).
Only internal errors (bugs) show a traceback.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

from pdesolve.cli_operators import add_dataset_parser, add_train_parser, run_dataset, run_train
from pdesolve.errors import PdesolveError
from pdesolve.io import checkpoint
from pdesolve.io.claim import claimed
from pdesolve.io.config import Config, check_device, resolve
from pdesolve.io.interrupts import Terminated, sigterm_raises
from pdesolve.io.run_folder import default_folder, read_metrics
from pdesolve.problem import Problem, load_problem
from pdesolve.problem.loading import catalogue_directory, catalogue_names
from pdesolve.report.compare import compare, cuda_out_of_memory, registered
from pdesolve.report.results import Comparison, solve_job, solve_problem
from pdesolve.report.run import run_context
from pdesolve.report.table import text_table
from pdesolve.solvers.available import load_all
from pdesolve.solvers.base import SOLVERS, Solver
from pdesolve.solvers.classical_alias import Alias

PREFIX = "pdesolve: error: "


class UsageError(Exception):
    """A command line argparse rejects."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block), handled in :func:`main`."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _common_options() -> ArgumentParser:
    common = ArgumentParser(add_help=False)
    group = common.add_argument_group("common options")
    group.add_argument("--device", help="cpu or cuda (default: cpu, or the config file's)")
    group.add_argument("--dtype", help="float32 or float64 (default: float64)")
    group.add_argument("--seed", type=int, help="random seed (default: 0)")
    group.add_argument("--out", type=Path, help="run folder (default: runs/<problem>-<solver>-<timestamp>)")
    group.add_argument("--config", metavar="FILE.toml", help="device, dtype, seed, [solver] and [solvers.NAME]")
    group.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a solver option (NAME.KEY=VALUE for one solver of compare); repeatable",
    )
    return common


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="pdesolve", description="Define a PDE once; solve it with any method; compare.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common_options()
    listing = commands.add_parser("list", help="problems, solvers, and which solver applies to which problem")
    listing.add_argument("solver", nargs="?", metavar="SOLVER", help="list this solver's options instead")
    solve = commands.add_parser("solve", parents=[common], help="solve a problem with one solver")
    solve.add_argument("problem", metavar="PROBLEM", help="catalogue name or path to a .py file")
    solve.add_argument("--solver", required=True, metavar="NAME")
    comp = commands.add_parser("compare", parents=[common], help="run several solvers, write a table and report")
    comp.add_argument("problem", metavar="PROBLEM", help="catalogue name or path to a .py file")
    comp.add_argument("--solvers", metavar="A,B,C", help="default: every applicable solver")
    show = commands.add_parser("show", help="print the metrics of a finished run")
    show.add_argument("run_dir", metavar="RUN_DIR", type=Path)
    add_dataset_parser(commands, common)
    add_train_parser(commands, common)
    return parser


# --- list -------------------------------------------------------------------------------------
def _kind(problem: Problem) -> str:
    kind = f"{'evolution' if problem.is_evolution else 'stationary'} {problem.dim}D"
    if problem.reference is not None:
        return f"{kind}, data {problem.reference.file}"
    return f"{kind}, exact" if problem.exact is not None else kind


def command_list(args: argparse.Namespace) -> int:
    load_all()
    if args.solver is not None:
        print(solver_options(registered(args.solver)))
        return 0
    problems: dict[str, Problem] = {}
    lines = [f"Problems ({catalogue_directory()}):"]
    names = catalogue_names()
    width = max((len(n) for n in names), default=0)
    for name in names:
        try:
            problems[name] = load_problem(name)
        except PdesolveError as error:
            lines.append(f"  {name:<{width}}  does not load: {error}")
            continue
        description = problems[name].description.strip().splitlines()
        lines.append(f"  {name:<{width}}  {_kind(problems[name])}" + (f": {description[0]}" if description else ""))
    if not names:
        lines.append("  (none)")
    solvers = sorted(SOLVERS.values(), key=lambda s: issubclass(s, Alias))  # aliases last
    width = max((len(s.name) for s in solvers), default=0)
    lines += ["", "Solvers:"]
    lines += [f"  {s.name:<{width}}  {s.family:<10}  {s.summary}" for s in solvers]
    if problems and solvers:
        lines += ["", "Which solver applies (x) to which problem (.):"]
        width = max(len(n) for n in problems)
        lines.append(" " * (width + 2) + "  ".join(s.name for s in solvers))
        for name, problem in problems.items():
            marks = ["x" if s.not_applicable(problem) is None else "." for s in solvers]
            row = f"  {name:<{width}}" + "".join(f"  {m:^{len(s.name)}}" for m, s in zip(marks, solvers))
            lines.append(row.rstrip())
        for alias in (s for s in solvers if issubclass(s, Alias)):
            lines += ["", f"What {alias.name} stands for:"]
            lines += [f"  {name:<{width}}  {alias.explain(problem)}" for name, problem in problems.items()]
    print("\n".join(lines))
    return 0


def solver_options(solver: type[Solver]) -> str:
    """A solver's summary, the catalogue problems it applies to, and its ``--set`` options with their defaults."""
    applies = [name for name in catalogue_names() if _applies(solver, name)]
    lines = [f"{solver.name} ({solver.family}): {solver.summary}", f"applies to: {', '.join(applies) or 'none'}"]
    if issubclass(solver, Alias):
        targets = ", ".join(solver.targets)
        return "\n".join([*lines, f"options: those of the first of {targets} that applies"])
    if not solver.options:
        return "\n".join([*lines, "options: none"])
    key_width = max(len(key) for key in solver.options)
    value_width = max(len(repr(value)) for value in solver.options.values())
    lines.append("options (--set KEY=VALUE), default, meaning:")
    for key, value in solver.options.items():
        lines.append(f"  {key:<{key_width}}  {value!r:<{value_width}}  {solver.option_help.get(key, '')}".rstrip())
    return "\n".join(lines)


def _applies(solver: type[Solver], name: str) -> bool:
    try:
        return solver.not_applicable(load_problem(name)) is None
    except PdesolveError:
        return False


# --- solve and compare ------------------------------------------------------------------------
def _prepare(args: argparse.Namespace) -> tuple[Config, Problem]:
    config = resolve(args.config, args.device, args.dtype, args.seed, args.sets)
    check_device(config.device)
    problem = load_problem(args.problem)
    load_all()
    return config, problem


def command_solve(args: argparse.Namespace, argv: Sequence[str]) -> int:
    config, problem = _prepare(args)
    job = solve_job(problem, args.solver, config)
    context = run_context(problem, args.problem, config, shlex.join(["pdesolve", *argv]))
    with claimed(args.out or default_folder(problem.name, args.solver), "solve") as folder:
        settings = replace(config.settings(progress=True), folder=str(folder))
        result = solve_problem(problem, job, settings, context)
        result.write(folder)
    print(result)
    print(f"run folder: {folder}")
    return 0


def command_compare(args: argparse.Namespace, argv: Sequence[str]) -> int:
    config, problem = _prepare(args)
    names = None
    if args.solvers is not None:
        names = [n.strip() for n in args.solvers.split(",") if n.strip()]
        if not names:
            raise PdesolveError("--solvers: give solver names separated by commas")
    folder = args.out or default_folder(problem.name, "compare")
    context = run_context(problem, args.problem, config, shlex.join(["pdesolve", *argv]))

    def echo(line: str) -> None:
        print(line, file=sys.stderr)

    outcomes, reference = compare(problem, names, config, config.settings(progress=True), folder, context, echo)
    print(Comparison(problem, outcomes, reference, folder))
    print(f"report: {folder / 'report.md'}")
    return 1 if any(o.internal for o in outcomes) or all(o.failed for o in outcomes) else 0


# --- show -------------------------------------------------------------------------------------
def command_show(args: argparse.Namespace) -> int:
    model = Path(args.run_dir) / "model.pt"
    if model.is_file() and not (Path(args.run_dir) / "metrics.json").is_file():  # a `pdesolve train` folder
        from pdesolve.operators.model_file import load_model

        return _show_training(load_model(model)[1], model)
    metrics = read_metrics(args.run_dir)
    if "test_error" in metrics and "runs" not in metrics and "solver" not in metrics:  # train --constraint
        return _show_training(metrics, Path(args.run_dir) / "metrics.json")
    problem = metrics.get("problem", {}).get("name", "?")
    records = metrics["runs"] if "runs" in metrics else [metrics]
    print(f"problem {problem}: {metrics.get('command', '')}")
    print(text_table(records))
    reference = metrics.get("reference")
    print(f"reference: {reference}" if reference else "reference: none (errors not measured)")
    versions = metrics.get("versions", {})
    if versions:
        print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    return 0


def _show_training(card: dict[str, Any], source: Path) -> int:
    """The record of a `pdesolve train` run: what was trained, on what, and its test error."""
    losses = card.get("train_loss")
    last = losses[-1] if isinstance(losses, list) and losses else losses
    seconds = card.get("training_seconds", card.get("seconds"))
    print(f"problem {card.get('problem', '?')}: trained model ({source})")
    print(f"test relative L2: {card.get('test_error')}; final training loss: {last}")
    if seconds is not None:
        print(f"training time: {float(seconds):.1f} s")
    versions = card.get("versions", {})
    if versions:
        print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    return 0


# --- entry point ------------------------------------------------------------------------------
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _one_line(message: object) -> str:
    """A message on one line: terminal colour codes removed, line breaks and runs of spaces collapsed."""
    return " ".join(ANSI_ESCAPE.sub("", str(message)).split())


def _show_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    """Warnings as one line ``pdesolve: warning: ...`` (no source line, no colour codes)."""
    print(f"pdesolve: warning: {_one_line(message)}", file=sys.stderr)


def _dispatch(args: argparse.Namespace, argv: Sequence[str]) -> int:
    if args.command == "list":
        return command_list(args)
    if args.command == "show":
        return command_show(args)
    if args.command == "solve":
        return command_solve(args, argv)
    if args.command == "dataset":
        return run_dataset(args)
    if args.command == "train":
        return run_train(args)
    return command_compare(args, argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    checkpoint.last_saved.clear()
    with sigterm_raises():
        return _run(argv)


def _run(argv: list[str]) -> int:
    shown = warnings.showwarning  # only the display changes: the filters stay as the modules set them
    warnings.showwarning = _show_warning
    try:
        return _dispatch(build_parser().parse_args(argv), argv)
    except (UsageError, PdesolveError) as error:
        print(PREFIX + _one_line(error), file=sys.stderr)
        return 2
    except MemoryError as error:  # numpy's _ArrayMemoryError included
        detail = f" ({_one_line(error)})" if str(error) else ""
        print(
            PREFIX + f"out of memory{detail}; try a smaller problem or resolution (e.g. a smaller --set n)",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt as error:
        saved = checkpoint.last_saved.get("path")
        kept = f"; last checkpoint: {saved}" if saved else ""
        if isinstance(error, Terminated):
            print(PREFIX + f"terminated (SIGTERM){kept}", file=sys.stderr)
            return 143
        print(PREFIX + f"interrupted{kept}", file=sys.stderr)
        return 130
    except Exception as error:
        if not cuda_out_of_memory(error):
            raise
        tried = re.search(r"Tried to allocate [\d.]+ \w+", str(error))
        detail = f" ({tried.group(0)})" if tried else ""
        print(
            PREFIX + f"out of CUDA memory{detail}; try a smaller problem or resolution, or --device cpu",
            file=sys.stderr,
        )
        return 2
    finally:
        warnings.showwarning = shown
