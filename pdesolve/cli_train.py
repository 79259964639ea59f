"""``pdesolve train fno|precond|constrained PROBLEM``: one subcommand per family of trained models.

``fno`` trains a Fourier neural operator on a data set of ``pdesolve dataset``; ``precond`` a learned
preconditioner on seeded members of a problem family (:mod:`pdesolve.learned.cli`); ``constrained`` an FNO
backbone under soft, hard or mixture-of-experts physics constraints (:mod:`pdesolve.constraints.command`).
Every family takes the common options, ``--checkpoint-every``, ``--resume`` and ``--force``; ``fno`` and
``constrained`` also take the data set and the optimiser's options. Wire into the main parser with
``add_train_parser(commands, common)`` and dispatch ``args.command == "train"`` to :func:`run_train`;
``torchrun --nproc-per-node K -m pdesolve train fno ...`` trains with DistributedDataParallel.
The options and the command import torch and the trainers when they are built or run, not with this module.
"""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pdesolve.cli_operators import command_settings, standalone_common
from pdesolve.errors import PdesolveError
from pdesolve.io.claim import claimed
from pdesolve.plugins import lazy
from pdesolve.problem import Problem, load_problem

if TYPE_CHECKING:
    import torch

    from pdesolve.operators.dataset import Dataset
    from pdesolve.solvers.base import Settings

TRAIN_HELP = "train a neural operator (fno), a learned preconditioner (precond) or a constrained operator (constrained)"


@dataclass(frozen=True)
class Family:
    """A ``pdesolve train`` subcommand: its help line, the function that adds its own options, the one that runs
    it, and whether it trains on a data set (then it takes the data set's and the optimiser's options too)."""

    help: str
    options: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Problem, Settings], int]
    data: bool = True


def _training_options(common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """What every family takes: the problem, the common options, checkpoints, --resume and --force."""
    from pdesolve.operators.training import TrainConfig

    parent = argparse.ArgumentParser(add_help=False, parents=[common])
    parent.add_argument("problem", metavar="PROBLEM", help="catalogue name or path to a .py file")
    group = parent.add_argument_group("training options")
    group.add_argument(
        "--checkpoint-every",
        type=int,
        default=TrainConfig.checkpoint_every,
        help="epochs (precond: Adam steps) between checkpoints (default: %(default)s)",
    )
    group.add_argument("--resume", action="store_true", help="continue from the checkpoint of --out")
    group.add_argument("--force", action="store_true", help="replace the model (and checkpoint) already in --out")
    return parent


def _data_options() -> argparse.ArgumentParser:
    """What ``fno`` and ``constrained`` take: the data set, the optimiser and the FNO's shape."""
    from pdesolve.operators.training import TrainConfig

    parent = argparse.ArgumentParser(add_help=False)
    data = parent.add_argument_group("data set")
    data.add_argument("--data", type=Path, required=True, help="data set folder from `pdesolve dataset`")
    data.add_argument("--test-data", type=Path, help="test data set (default: hold out --test-samples of --data)")
    data.add_argument("--test-samples", type=int, help="held-out samples (default: 10%%, at most 100)")
    optimiser = parent.add_argument_group("optimiser and FNO")
    optimiser.add_argument("--epochs", type=int, default=TrainConfig.epochs, help="(default: %(default)s)")
    optimiser.add_argument("--batch-size", type=int, default=TrainConfig.batch_size, help="(default: %(default)s)")
    optimiser.add_argument(
        "--lr", type=float, default=TrainConfig.lr, help="Adam's learning rate (default: %(default)s)"
    )
    optimiser.add_argument(
        "--weight-decay",
        type=float,
        default=TrainConfig.weight_decay,
        help="Adam's weight decay (default: %(default)s)",
    )
    optimiser.add_argument("--modes", type=int, default=12, help="Fourier modes per axis (default: 12)")
    optimiser.add_argument("--width", type=int, default=32, help="channels of the Fourier layers (default: 32)")
    optimiser.add_argument("--layers", type=int, default=4, help="Fourier layers (default: 4)")
    return parent


def _add_fno_options(parser: argparse.ArgumentParser) -> None:
    from pdesolve.operators.training import TrainConfig

    group = parser.add_argument_group("fno")
    group.add_argument(
        "--schedule",
        choices=["cosine", "step"],
        default=TrainConfig.schedule,
        help="learning rate: cosine decay, or step (the FNO paper: halved every 100 epochs)",
    )
    group.add_argument("--physics-weight", type=float, default=0.0, help="weight of the residual loss (default 0)")
    group.add_argument(
        "--history", type=int, default=10, help="trajectory data: levels the autoregressive FNO reads (default: 10)"
    )
    group.add_argument("--no-amp", action="store_true", help="no bf16 autocast on CUDA")
    group.add_argument(
        "--patience", type=int, default=0, help="stop when the test error has not improved for this many epochs"
    )


def add_train_parser(subparsers, common: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """``train`` with one subcommand per family, each with only its own options."""
    parser = subparsers.add_parser("train", help=TRAIN_HELP, description=TRAIN_HELP)
    families = parser.add_subparsers(dest="family", required=True, metavar="FAMILY")
    shared = _training_options(common or standalone_common())
    data = _data_options()
    for name, family in FAMILIES.items():
        parents = [shared, data] if family.data else [shared]
        family.options(families.add_parser(name, parents=parents, help=family.help, description=family.help))
    return parser


def check_family(rest: Sequence[str]) -> None:
    """Refuse the old ``pdesolve train PROBLEM --model ...`` (``rest`` the words after ``train``), naming the new
    command line."""
    if not rest or rest[0] in FAMILIES or rest[0] in ("-h", "--help"):
        return
    raise PdesolveError(
        f"`pdesolve train` takes the family first (fno, precond or constrained): "
        f"`pdesolve train {shlex.join(_new_form(rest))}`; `pdesolve train FAMILY -h` lists its options"
    )


def _new_form(rest: Sequence[str]) -> list[str]:
    """The old form's words with the family first: ``--model precond-X`` as ``--model X`` of ``precond``,
    ``--constraint C`` of ``constrained``, no ``--model fno`` or ``--constraint none``."""
    words = [part for word in rest for part in (word.split("=", 1) if word.startswith("--") else [word])]
    family, kept = "fno", []
    pairs = iter(words)
    for word in pairs:
        if word not in ("--model", "--constraint"):
            kept.append(word)
            continue
        value = next(pairs, "")
        if value.startswith("precond-"):
            family, kept = "precond", [*kept, word, value.removeprefix("precond-")]
        elif word == "--constraint" and value != "none":
            family, kept = "constrained", [*kept, word, value]
    return [family, *kept]


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


def _device_and_data(
    args: argparse.Namespace, problem: Problem, settings: Settings
) -> tuple[torch.device, Dataset, Dataset]:
    """This rank's device, then the training and test sets: --data and --test-data, or --test-samples of --data
    held out."""
    from pdesolve.operators.dataset import load_dataset

    device = _distributed_device(settings.device)
    data = load_dataset(args.data, problem)
    if args.test_data is not None:
        return device, data, load_dataset(args.test_data, problem)
    return device, *data.split(args.test_samples or max(1, min(100, len(data.inputs) // 10)))


def run_train(args: argparse.Namespace) -> int:
    """Run the family that ``args.family`` names."""
    settings = command_settings(args)
    return FAMILIES[args.family].run(args, load_problem(args.problem), settings)


def _run_constrained(args: argparse.Namespace, problem: Problem, settings: Settings) -> int:
    from pdesolve.constraints.command import run_constrained_training

    device, train_data, test_data = _device_and_data(args, problem, settings)
    if train_data.spec.times is not None:
        raise PdesolveError("train constrained trains one-shot models: it takes pairs, not trajectory data (--times)")
    args.out = args.out or Path("runs") / f"{problem.name}-fno-{args.constraint}"
    with _claim_training(args):
        return run_constrained_training(args, problem, train_data, test_data, settings, device)


def _run_fno(args: argparse.Namespace, problem: Problem, settings: Settings) -> int:
    import torch.distributed as dist

    from pdesolve.operators.pipeline import MODEL_FILE, train_operator
    from pdesolve.operators.training import TrainConfig

    device, train_data, test_data = _device_and_data(args, problem, settings)
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
            f"trained fno{scheme} for {problem.name}: test relative L2 {card['test_error']:.3e}{final} "
            f"after {result.epochs} epochs ({result.seconds:.1f} s); model: {Path(out) / MODEL_FILE}"
        )
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


FAMILIES = {
    "fno": Family("a Fourier neural operator on a data set of `pdesolve dataset`", _add_fno_options, _run_fno),
    "precond": Family(
        "a learned preconditioner (gnn, dcdm, mg) on seeded members of a problem family; no data set",
        lazy("pdesolve.learned.cli:add_precond_arguments"),
        lazy("pdesolve.learned.cli:run_train_precond"),
        data=False,
    ),
    "constrained": Family(
        "an FNO under soft, hard or mixture-of-experts physics constraints, on a data set of pairs",
        lazy("pdesolve.constraints.command:add_train_constraint_options"),
        _run_constrained,
    ),
}
