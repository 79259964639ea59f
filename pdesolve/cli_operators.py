"""``pdesolve dataset`` and ``pdesolve train``: training data and neural operators from a problem family.

Wire into the main parser with ``add_dataset_parser(commands, common)`` / ``add_train_parser(commands, common)``
(``common`` the parent parser of --device/--dtype/--seed/--out/--config/--set) and dispatch
``args.command == "dataset"`` to :func:`run_dataset`, ``"train"`` to :func:`run_train`.
``torchrun --nproc-per-node K -m pdesolve train ...`` trains with DistributedDataParallel.
The options and the commands import torch and the trainers when they are built or run, not with this module.
"""

from __future__ import annotations

import argparse
import os
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from pdesolve.errors import PdesolveError
from pdesolve.io.claim import claimed
from pdesolve.problem import load_problem

if TYPE_CHECKING:
    import torch

    from pdesolve.solvers.base import Settings

DATASET_HELP = "input/solution pairs of a problem family, solved by a classical solver"
TRAIN_HELP = "train a neural operator on a data set, or a learned preconditioner on a problem family"


def _add_common(parser: argparse.ArgumentParser, common: argparse.ArgumentParser | None) -> None:
    if common is None:  # standalone use: the options the main parser's common parent would give
        parser.add_argument("--device", help="cpu or cuda (default: cpu)")
        parser.add_argument("--seed", type=int, help="random seed (default: 0)")
        parser.add_argument("--out", type=Path, help="output folder")


def add_dataset_parser(subparsers, common: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    from pdesolve.operators.trajectories import parse_times

    parser = subparsers.add_parser("dataset", parents=[common] if common is not None else [], help=DATASET_HELP)
    _add_common(parser, common)
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


def add_train_parser(subparsers, common: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    from pdesolve.constraints.command import add_train_constraint_options
    from pdesolve.learned.cli import PRECOND_MODELS, add_precond_arguments
    from pdesolve.operators.training import TrainConfig

    parser = subparsers.add_parser("train", parents=[common] if common is not None else [], help=TRAIN_HELP)
    _add_common(parser, common)
    parser.add_argument("problem", metavar="PROBLEM", help="catalogue name or path to a .py file")
    parser.add_argument("--model", choices=["fno", *PRECOND_MODELS], default="fno", help="architecture (default: fno)")
    parser.add_argument("--data", type=Path, help="data set folder from `pdesolve dataset` (fno)")
    parser.add_argument("--test-data", type=Path, help="test data set (default: hold out --test-samples of --data)")
    parser.add_argument("--test-samples", type=int, help="held-out samples (default: 10%%, at most 100)")
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs, help="(default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=TrainConfig.batch_size, help="(default: %(default)s)")
    parser.add_argument("--lr", type=float, default=TrainConfig.lr, help="Adam's learning rate (default: %(default)s)")
    parser.add_argument(
        "--weight-decay",
        type=float,
        default=TrainConfig.weight_decay,
        help="Adam's weight decay (default: %(default)s)",
    )
    parser.add_argument(
        "--schedule",
        choices=["cosine", "step"],
        default=TrainConfig.schedule,
        help="learning rate: cosine decay, or step (the FNO paper: halved every 100 epochs)",
    )
    parser.add_argument("--physics-weight", type=float, default=0.0, help="weight of the residual loss (default 0)")
    parser.add_argument("--modes", type=int, default=12, help="Fourier modes per axis (default: 12)")
    parser.add_argument("--width", type=int, default=32, help="channels of the Fourier layers (default: 32)")
    parser.add_argument("--layers", type=int, default=4, help="Fourier layers (default: 4)")
    parser.add_argument(
        "--history", type=int, default=10, help="trajectory data: levels the autoregressive FNO reads (default: 10)"
    )
    parser.add_argument("--no-amp", action="store_true", help="no bf16 autocast on CUDA")
    parser.add_argument(
        "--checkpoint-every", type=int, default=TrainConfig.checkpoint_every, help="epochs (default: %(default)s)"
    )
    parser.add_argument(
        "--patience", type=int, default=0, help="fno: stop when the test error has not improved for this many epochs"
    )
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    parser.add_argument("--force", action="store_true", help="replace the model (and checkpoint) already in --out")
    add_precond_arguments(parser)
    add_train_constraint_options(parser)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    from pdesolve.io.config import check_device, resolve
    from pdesolve.solvers.base import Settings

    if getattr(args, "sets", None):
        raise PdesolveError(f"{args.command} takes no --set; its options are listed by `pdesolve {args.command} -h`")
    config = resolve(getattr(args, "config", None), args.device, getattr(args, "dtype", None), args.seed, [])
    check_device(config.device)
    return Settings(device=config.device, dtype=config.dtype, seed=config.seed, progress=True)


def run_dataset(args: argparse.Namespace) -> int:
    from pdesolve.operators.dataset import generate_dataset
    from pdesolve.operators.pairs import default_solver

    settings = _settings(args)
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


def _distributed_device(requested: str) -> torch.device:
    """Join the process group that torchrun describes (nccl on CUDA, gloo on CPU); this rank's device."""
    import torch
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return torch.device(requested)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if requested.startswith("cuda"):
        torch.cuda.set_device(local)
        dist.init_process_group("nccl")
        return torch.device("cuda", local)
    dist.init_process_group("gloo")
    return torch.device(requested)


def _claim_training(args: argparse.Namespace) -> AbstractContextManager:
    """Rank 0 claims ``args.out``: an earlier training there is continued only with --resume, replaced only with
    --force (nothing trained is overwritten by accident)."""
    from pdesolve.operators.pipeline import MODEL_FILE

    if int(os.environ.get("RANK", "0")) != 0:
        return nullcontext(args.out)

    def consent(previous: dict) -> str | None:
        if previous.get("command") != "train":
            return "not a training run"
        if args.resume or args.force:
            return None
        if (Path(args.out) / MODEL_FILE).is_file():
            return f"a trained {MODEL_FILE}: pass --resume to continue its training or --force to replace it"
        return "pass --resume to continue its training or --force to start over"

    return claimed(args.out, "train", consent)


def run_train(args: argparse.Namespace) -> int:
    import torch.distributed as dist

    from pdesolve.constraints.command import run_constrained_training
    from pdesolve.learned.cli import PRECOND_MODELS, run_train_precond
    from pdesolve.operators.dataset import load_dataset
    from pdesolve.operators.pipeline import MODEL_FILE, train_operator
    from pdesolve.operators.training import TrainConfig

    settings = _settings(args)
    problem = load_problem(args.problem)
    if args.model in PRECOND_MODELS:
        return run_train_precond(args, problem, settings)
    if args.data is None:
        raise PdesolveError("--model fno trains on a data set: give --data (made by `pdesolve dataset`)")
    device = _distributed_device(settings.device)
    data = load_dataset(args.data, problem)
    if args.test_data is not None:
        train_data, test_data = data, load_dataset(args.test_data, problem)
    else:
        held_out = args.test_samples or max(1, min(100, len(data.inputs) // 10))
        train_data, test_data = data.split(held_out)
    if args.constraint != "none":
        if data.spec.times is not None:
            raise PdesolveError("--constraint trains one-shot models: it takes pairs, not trajectory data (--times)")
        args.out = args.out or Path("runs") / f"{problem.name}-fno-{args.constraint}"
        with _claim_training(args):
            return run_constrained_training(args, problem, train_data, test_data, settings, device)
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        physics_weight=args.physics_weight,
        amp=not args.no_amp,
        checkpoint_every=args.checkpoint_every,
        patience=args.patience,
        seed=settings.seed,
        progress=settings.progress,
    )
    out = args.out = args.out or Path("runs") / f"{problem.name}-fno"
    architecture = {"modes": args.modes, "width": args.width, "layers": args.layers}
    with _claim_training(args):
        _, result, card = train_operator(
            problem, train_data, test_data, config, device, out, args.resume, architecture, args.history
        )
    if not dist.is_initialized() or dist.get_rank() == 0:
        final = f", {card['final_relative_l2']:.3e} at the final time" if "rollout" in card else ""
        scheme = f" (autoregressive, {args.history} levels in)" if "rollout" in card else ""
        print(
            f"trained {args.model}{scheme} for {problem.name}: test relative L2 {card['test_error']:.3e}{final} "
            f"after {result.epochs} epochs ({result.seconds:.1f} s); model: {Path(out) / MODEL_FILE}"
        )
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0
