"""``pdesolve train precond PROBLEM --model gnn|dcdm|mg``: options and the command."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import torch

from pdesolve.errors import PdesolveError
from pdesolve.learned.kinds import KINDS
from pdesolve.learned.training import TrainOptions, train_preconditioner
from pdesolve.problem import Problem
from pdesolve.solvers.base import Settings

TRAIN_NODES = {2: 33, 3: 17}  # default training grids: 31² and 15³ unknowns


def add_precond_arguments(parser: argparse.ArgumentParser) -> None:
    """``--model``, ``--nodes``, ``--samples``, ``--steps``, ``--max-seconds`` for ``pdesolve train precond``."""
    group = parser.add_argument_group("learned preconditioner")
    group.add_argument("--model", choices=list(KINDS), required=True, help="the kind of preconditioner")
    group.add_argument("--nodes", type=int, help="training grid nodes per axis (default: 33 in 2D, 17 in 3D)")
    group.add_argument("--samples", type=int, default=8, help="family members to train on (default: 8)")
    group.add_argument("--steps", type=int, default=200, help="Adam steps (default: 200)")
    group.add_argument("--max-seconds", type=float, default=300.0, help="stop training after this (default: 300)")


def run_train_precond(args: argparse.Namespace, problem: Problem, settings: Settings) -> int:
    kind = args.model
    nodes = args.nodes or TRAIN_NODES.get(problem.dim, 17)
    out = Path(args.out) if args.out else Path("preconditioners")
    path = out if out.suffix == ".pt" else out / f"{problem.name}-{kind}.pt"
    if path.exists() and not (args.force or args.resume):
        raise PdesolveError(
            f"{path} already holds a model: pass --force to replace it, --resume to continue its training "
            "(from its .checkpoint.pt), or choose another --out"
        )
    command = (
        f"pdesolve train precond {shlex.quote(args.problem)} --model {kind} --nodes {nodes} --samples {args.samples} "
        f"--steps {args.steps} --seed {settings.seed} --out {shlex.quote(str(path))}"
    )
    options = TrainOptions(
        nodes=nodes,
        samples=args.samples,
        steps=args.steps,
        seconds=args.max_seconds,
        seed=settings.seed,
        progress=settings.progress,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
    )
    checkpoint = train_preconditioner(problem, kind, options, torch.device(settings.device), path, command)
    card = checkpoint.card
    measured = validation_summary(problem, kind, card["validation"])
    print(
        f"trained precond-{kind} for {problem.name} at n={nodes} in {card['training_seconds']:.1f} s: {measured}; "
        f"model: {path} (card {path.with_suffix('.md')})"
    )
    return 0


def validation_summary(problem: Problem, kind: str, validation: dict[str, dict[str, float]]) -> str:
    """CG iterations with the trained model against Jacobi: on unseen members of the family, or on the
    problem itself when it has no family (its "members" are all the problem: nothing is unseen)."""
    trained, jacobi = validation[f"{kind} (trained)"], validation["jacobi"]
    if problem.family is None:
        return (
            f"{trained['train']:.1f} CG iterations on the problem itself (Jacobi {jacobi['train']:.1f}); "
            f"{problem.name!r} has no parametric family (family=), so there are no unseen members to test on"
        )
    return f"{trained['unseen']:.1f} CG iterations on unseen members (Jacobi {jacobi['unseen']:.1f})"
