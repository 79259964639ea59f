"""``pdesolve train constrained PROBLEM --data DIR --constraint soft|hard|moe``: the options and the command.

The model file it writes (``constrained_model.pt``, :mod:`pdesolve.constraints.model`) loads with
``pdesolve solve PROBLEM --solver fno --set model=FILE``; ``checkpoint.pt`` beside it keeps the training state
(every ``--checkpoint-every`` epochs and on Ctrl-C/SIGTERM), which ``--resume`` continues.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

import torch
import torch.distributed as dist

from pdesolve.constraints.model import constraint_grid, save
from pdesolve.constraints.training import (
    CONSTRAINTS,
    ConstraintConfig,
    ConstraintData,
    checkpoint_of,
    train_hard_constrained,
)
from pdesolve.io.run_folder import write_json
from pdesolve.problem import Grid, Problem
from pdesolve.runtime import rank_and_world

MODEL_FILE = "constrained_model.pt"
CHECKPOINT = "checkpoint.pt"  # the training state, every --checkpoint-every epochs; --resume continues it


def add_train_constraint_options(parser: argparse.ArgumentParser) -> None:
    """``--constraint``, ``--experts``, ``--interfaces``, ``--overlap``, ``--blend``, ``--basis``,
    ``--constraint-points``, ``--time-levels`` for ``pdesolve train constrained``."""
    group = parser.add_argument_group("constraint")
    group.add_argument("--constraint", choices=CONSTRAINTS, required=True, help="the physics constraint")
    group.add_argument("--experts", type=int, default=4, help="experts of --constraint moe along x (default: 4)")
    group.add_argument(
        "--interfaces",
        action="store_true",
        help="--constraint moe: each expert also fits learned interface values where its stencils leave its subdomain",
    )
    group.add_argument(
        "--overlap", type=float, default=0.0, help="--constraint moe: widen the subdomains by this fraction (default 0)"
    )
    group.add_argument(
        "--blend", action="store_true", help="--constraint moe: blend the experts with a smooth partition of unity"
    )
    group.add_argument("--basis", type=int, default=ConstraintConfig.basis, help="basis functions (default: 16)")
    group.add_argument("--constraint-points", type=int, default=ConstraintConfig.points, help="PDE rows per expert")
    group.add_argument("--time-levels", type=int, default=ConstraintConfig.levels, help="time levels (evolution)")


def run_constrained_training(
    args: argparse.Namespace, problem: Problem, train_data, test_data, settings, device
) -> int:
    """``pdesolve train constrained``: on a data set of ``pdesolve dataset`` (final-time pairs)."""
    spec = train_data.spec
    grid = constraint_grid(
        problem, Grid(tuple(spec.lower), tuple(spec.upper), tuple(spec.grid_shape), tuple(spec.periodic))
    )
    config = ConstraintConfig(
        constraint=args.constraint,
        experts=args.experts,
        interfaces=args.interfaces,
        overlap=args.overlap,
        blend=args.blend,
        basis=args.basis,
        points=args.constraint_points,
        levels=args.time_levels,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        modes=args.modes,
        width=args.width,
        layers=args.layers,
        seed=settings.seed,
        progress=settings.progress,
    )
    levels = config.levels if problem.is_evolution else 0

    def tensors(data) -> ConstraintData:
        return ConstraintData(
            torch.as_tensor(data.inputs, dtype=torch.float32),
            torch.as_tensor(data.outputs, dtype=torch.float32),
            [levels - 1] if levels else [],
        )

    names = list(spec.inputs)
    out = Path(args.out or Path("runs") / f"{problem.name}-fno-{args.constraint}")
    checkpoint = checkpoint_of(out / CHECKPOINT, problem, config, args.checkpoint_every, args.resume, device)
    result = train_hard_constrained(
        problem, grid, tensors(train_data), tensors(test_data), config, device, names, checkpoint
    )
    if rank_and_world()[0] == 0:
        card = {
            "problem": problem.name,
            "family": spec.family,
            "inputs": names,
            "resolution": spec.resolution,
            "constraint": args.constraint,
            "test_error": result.test_error,
            "train_loss": result.train_loss,
            "unconverged_samples": result.unconverged,
            "kept_epoch": result.kept_epoch,
            "seconds": result.seconds,
            "config": asdict(config),
        }
        save(out / MODEL_FILE, result.model, problem, card)
        write_json(out / "metrics.json", card)
        print(
            f"trained fno with {args.constraint} constraint for {problem.name}: test relative L2 "
            f"{result.test_error:.3e} after {config.epochs} epochs ({result.seconds:.1f} s); model: {out}"
        )
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0
