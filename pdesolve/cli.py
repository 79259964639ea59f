"""The ``pdesolve`` command: ``list``, ``solve``, ``compare``, ``show``, ``dataset`` and ``train``.

Bad input ends with one line ``pdesolve: error: ...`` on stderr and exit code 2; Ctrl-C exits with 130 and
SIGTERM with 143, each after the running family saved its final checkpoint (named in the line).
Only internal errors (bugs) show a traceback. ``--help``, ``--version`` and ``list`` run without importing
torch or any solver family: each command imports what it uses.
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from collections.abc import Sequence
from dataclasses import replace
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from pdesolve import __version__
from pdesolve.cli_operators import DATASET_HELP
from pdesolve.cli_train import TRAIN_HELP, check_family
from pdesolve.errors import PdesolveError
from pdesolve.io.claim import claimed
from pdesolve.io.interrupts import Terminated, last_saved, sigterm_raises
from pdesolve.problem import Problem, load_problem
from pdesolve.problem.loading import catalogue_names
from pdesolve.shipped import catalogue_directory
from pdesolve.solvers.available import SOLVER_TABLE, load_all
from pdesolve.solvers.base import SOLVERS, Solver, option_fields

if TYPE_CHECKING:
    from pdesolve.io.config import Config

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


LAZY_COMMANDS = {"dataset": "pdesolve.cli_operators", "train": "pdesolve.cli_train"}  # their parsers import torch


def build_parser(command: str | None = None) -> ArgumentParser:
    """The parser; ``dataset`` and ``train`` get their options (which import torch) only when ``command`` is one."""
    parser = ArgumentParser(prog="pdesolve", description="Define a PDE once; solve it with any method; compare.")
    parser.add_argument("--version", action="version", version=f"pdesolve {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common_options()
    listing = commands.add_parser("list", help="problems and solvers; which solvers apply to a problem or file")
    listing.add_argument(
        "target",
        nargs="?",
        metavar="SOLVER|PROBLEM|FILE.py",
        help="a solver: its options and the problems it applies to; a problem: the solvers that apply and why not",
    )
    solve = commands.add_parser("solve", parents=[common], help="solve a problem with one solver")
    solve.add_argument("problem", metavar="PROBLEM", help="catalogue name or path to a .py file")
    solve.add_argument("--solver", required=True, metavar="NAME")
    comp = commands.add_parser("compare", parents=[common], help="run several solvers, write a table and report")
    comp.add_argument("problem", metavar="PROBLEM", help="catalogue name or path to a .py file")
    comp.add_argument("--solvers", metavar="A,B,C", help="default: every applicable solver")
    show = commands.add_parser("show", help="print the metrics of a finished run")
    show.add_argument("run_dir", metavar="RUN_DIR", type=Path)
    for name, text in (("dataset", DATASET_HELP), ("train", TRAIN_HELP)):
        if name == command:
            getattr(import_module(LAZY_COMMANDS[name]), f"add_{name}_parser")(commands, common)
        else:
            commands.add_parser(name, help=text, add_help=False)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


# --- list -------------------------------------------------------------------------------------
def _kind(problem: Problem) -> str:
    kind = f"{'evolution' if problem.is_evolution else 'stationary'} {problem.dim}D"
    if problem.reference is not None:
        return f"{kind}, data {problem.reference.file}"
    return f"{kind}, exact" if problem.exact is not None else kind


def _solver_lines() -> list[str]:
    """Every solver with its family and summary; the registry's classes where loaded, else the table's lines."""
    rows = {name: (entry.family, entry.summary) for name, entry in SOLVER_TABLE.items()}
    rows.update({name: (cls.family, cls.summary) for name, cls in SOLVERS.items()})
    names = sorted(rows, key=lambda n: rows[n][0] == "alias")  # aliases last
    width = max((len(n) for n in names), default=0)
    family_width = max((len(rows[n][0]) for n in names), default=0)
    return [f"  {n:<{width}}  {rows[n][0]:<{family_width}}  {rows[n][1]}" for n in names]


def overview() -> str:
    """The catalogue and the solvers; no solver family is imported (``list PROBLEM`` runs the probes)."""
    lines = [f"Problems ({catalogue_directory()}):"]
    names = catalogue_names()
    width = max((len(n) for n in names), default=0)
    for name in names:
        try:
            problem = load_problem(name)
        except PdesolveError as error:
            lines.append(f"  {name:<{width}}  does not load: {error}")
            continue
        description = problem.description.strip().splitlines()
        lines.append(f"  {name:<{width}}  {_kind(problem)}" + (f": {description[0]}" if description else ""))
    if not names:
        lines.append("  (none)")
    lines += ["", "Solvers:", *_solver_lines(), ""]
    lines.append("`pdesolve list PROBLEM` (or FILE.py): the solvers that apply to it, and why the others do not.")
    lines.append("`pdesolve list SOLVER`: its --set options and the problems it applies to.")
    return "\n".join(lines)


def applicability(spec: str) -> str:
    """Each registered solver on the problem ``spec`` (name or file): applies, or why not; aliases last."""
    problem = load_problem(spec)
    solvers = sorted(SOLVERS.values(), key=lambda s: s.family == "alias")
    width = max((len(s.name) for s in solvers), default=0)
    lines = [f"{problem.name} ({_kind(problem)}): which solvers apply"]
    for solver in solvers:
        reason = solver.not_applicable(problem)
        verdict = "applies" if reason is None else f"no: {' '.join(reason.split())}"
        if reason is None and solver.family == "alias":
            verdict += f" (stands for {solver.explain(problem)})"
        lines.append(f"  {solver.name:<{width}}  {verdict}")
    return "\n".join(lines)


def command_list(args: argparse.Namespace) -> int:
    target = args.target
    if target is None:
        print(overview())
        return 0
    load_all()
    if target in SOLVERS:
        print(solver_options(SOLVERS[target]))
    elif target.endswith(".py") or target in catalogue_names():
        print(applicability(target))
    else:
        raise PdesolveError(
            f"unknown solver or problem {target!r} (solvers: {', '.join(sorted(SOLVERS))}; "
            f"problems: {', '.join(catalogue_names()) or 'none'}; or a .py file)"
        )
    return 0


def solver_options(solver: type[Solver]) -> str:
    """A solver's summary, the catalogue problems it applies to, and its ``--set`` options with their defaults."""
    applies = [name for name in catalogue_names() if _applies(solver, name)]
    lines = [f"{solver.name} ({solver.family}): {solver.summary}", f"applies to: {', '.join(applies) or 'none'}"]
    if solver.family == "alias":
        targets = ", ".join(solver.targets)
        return "\n".join([*lines, f"options: those of the first of {targets} that applies"])
    known = option_fields(solver.Options)
    if not known:
        return "\n".join([*lines, "options: none"])
    key_width = max(len(key) for key in known)
    value_width = max(len(repr(item.default)) for item in known.values())
    lines.append("options (--set KEY=VALUE), default, meaning:")
    for key, item in known.items():
        lines.append(f"  {key:<{key_width}}  {item.default!r:<{value_width}}  {item.metadata['help']}".rstrip())
    return "\n".join(lines)


def _applies(solver: type[Solver], name: str) -> bool:
    try:
        return solver.not_applicable(load_problem(name)) is None
    except PdesolveError:
        return False


# --- solve and compare ------------------------------------------------------------------------
def _prepare(args: argparse.Namespace) -> tuple[Config, Problem]:
    from pdesolve.io.config import check_device, resolve

    config = resolve(args.config, args.device, args.dtype, args.seed, args.sets)
    check_device(config.device)
    problem = load_problem(args.problem)
    load_all()
    return config, problem


def command_solve(args: argparse.Namespace, argv: Sequence[str]) -> int:
    import shlex

    from pdesolve.io.run_folder import default_folder
    from pdesolve.report.results import solve_job, solve_problem
    from pdesolve.report.run import run_context

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
    import shlex

    from pdesolve.io.run_folder import default_folder
    from pdesolve.report.compare import compare
    from pdesolve.report.results import Comparison
    from pdesolve.report.run import run_context

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
    from pdesolve.io.run_folder import read_metrics
    from pdesolve.report.table import text_table

    model = Path(args.run_dir) / "model.pt"
    if model.is_file() and not (Path(args.run_dir) / "metrics.json").is_file():  # a `pdesolve train fno` folder
        from pdesolve.operators.model_file import load_model

        return _show_training(load_model(model)[1], model)
    metrics = read_metrics(args.run_dir)
    if "test_error" in metrics and "runs" not in metrics and "solver" not in metrics:  # train constrained
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
    """The record of a `pdesolve train fno` or `train constrained` run: what, on what, its test error."""
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
    if args.command in LAZY_COMMANDS:
        return getattr(import_module(LAZY_COMMANDS[args.command]), f"run_{args.command}")(args)
    return command_compare(args, argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    last_saved.clear()
    with sigterm_raises():
        return _run(argv)


def _run(argv: list[str]) -> int:
    shown = warnings.showwarning  # only the display changes: the filters stay as the modules set them
    warnings.showwarning = _show_warning
    try:
        command = _command(argv)
        if command == "train":
            check_family(argv[argv.index("train") + 1 :])
        return _dispatch(build_parser(command).parse_args(argv), argv)
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
        saved = last_saved.get("path")
        kept = f"; last checkpoint: {saved}" if saved else ""
        if isinstance(error, Terminated):
            print(PREFIX + f"terminated (SIGTERM){kept}", file=sys.stderr)
            return 143
        print(PREFIX + f"interrupted{kept}", file=sys.stderr)
        return 130
    except Exception as error:
        from pdesolve.report.compare import cuda_out_of_memory

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
