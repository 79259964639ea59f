"""``pdesolve dataset``: input/solution pairs of a problem family, and what the commands of this family share.

Wire into the main parser with ``add_dataset_parser(commands, common)`` (``common`` the parent parser of
--device/--dtype/--seed/--out/--config/--set) and dispatch ``args.command == "dataset"`` to :func:`run_dataset`;
``pdesolve train`` is :mod:`pdesolve.cli_train`. The options and the command import torch and the solvers when
they are built or run, not with this module.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from pdesolve.errors import PdesolveError
from pdesolve.io.claim import claimed
from pdesolve.problem import load_problem

if TYPE_CHECKING:
    from pdesolve.solvers.base import Settings

DATASET_HELP = "input/solution pairs of a problem family, solved by a classical solver"


def standalone_common() -> argparse.ArgumentParser:
    """The options the main parser's common parent would give, for a parser built without it."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--device", help="cpu or cuda (default: cpu)")
    common.add_argument("--seed", type=int, help="random seed (default: 0)")
    common.add_argument("--out", type=Path, help="output folder")
    return common


def add_dataset_parser(subparsers, common: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    from pdesolve.operators.trajectories import parse_times

    parser = subparsers.add_parser("dataset", parents=[common or standalone_common()], help=DATASET_HELP)
    parser.add_argument("problem", metavar="PROBLEM", help="catalogue name or path to a .py file")
    parser.add_argument("--samples", type=int, required=True, help="number of pairs (sample i uses seed + i)")
    parser.add_argument("--resolution", type=int, required=True, help="grid nodes per axis")
    parser.add_argument(
        "--solve-resolution", type=int, help="solve on this finer grid and keep the data grid's nodes (default: same)"
    )
    parser.add_argument("--solver", help="classical solver: direct (stationary default), spectral (evolution default)")
    parser.add_argument(
        "--times",
        type=parse_times,
        help="store trajectories: the solution at start:stop:step (stop left out) or t1,t2,... "
        "(the FNO paper's Navier-Stokes: 1:51:1; the problem's end time is extended to the last)",
    )
    parser.add_argument("--workers", type=int, help="CPU processes (default: all cores; 1 on cuda)")
    parser.add_argument("--shard-size", type=int, default=100, help="samples per shard file (default: 100)")
    return parser


def command_settings(args: argparse.Namespace) -> Settings:
    """The device, dtype and seed of a ``dataset`` or ``train`` command (which take no ``--set``)."""
    from pdesolve.io.config import check_device, resolve
    from pdesolve.solvers.base import Settings

    if getattr(args, "sets", None):
        command = " ".join(filter(None, (args.command, getattr(args, "family", None))))
        raise PdesolveError(f"{command} takes no --set; its options are listed by `pdesolve {command} -h`")
    config = resolve(getattr(args, "config", None), args.device, getattr(args, "dtype", None), args.seed, [])
    check_device(config.device)
    return Settings(device=config.device, dtype=config.dtype, seed=config.seed, progress=True)


def run_dataset(args: argparse.Namespace) -> int:
    from pdesolve.operators.dataset import generate_dataset
    from pdesolve.operators.pairs import default_solver

    settings = command_settings(args)
    problem = load_problem(args.problem)
    folder = args.out or Path("data") / f"{problem.name}-{args.resolution}-s{settings.seed}"

    def completes(previous: dict) -> str | None:  # a rerun completes the shards of its own data set
        return None if previous.get("command") == "dataset" else "not a data set"

    with claimed(folder, "dataset", completes):
        spec = generate_dataset(
            problem,
            folder,
            samples=args.samples,
            resolution=args.resolution,
            seed=settings.seed,
            solver=args.solver or default_solver(problem),
            settings=settings,
            workers=args.workers,
            shard_size=args.shard_size,
            solve_resolution=args.solve_resolution,
            times=args.times,
        )
    what = (
        "pairs"
        if spec.times is None
        else f"trajectories ({len(spec.times)} times, {spec.times[0]:g}..{spec.times[-1]:g})"
    )
    print(f"data set: {folder} ({spec.samples} {what} of {problem.name} at {spec.grid_shape}, solver {spec.solver})")
    return 0
