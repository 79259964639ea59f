"""Train a learned preconditioner on seeded members of a problem's family and validate it by CG iterations."""

from __future__ import annotations

import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pdesolve.io import checkpoint as checkpoints
from pdesolve.learned.checkpoint import Checkpoint as Trained
from pdesolve.learned.checkpoint import save_checkpoint
from pdesolve.learned.kinds import Kind, kind_of, solve_with
from pdesolve.learned.systems import GridSystem, family_systems, fingerprint
from pdesolve.linalg.cg import cg
from pdesolve.linalg.preconditioners import GridLayout, make_preconditioner
from pdesolve.linalg.system import SparseOperator
from pdesolve.problem import Problem
from pdesolve.training.callbacks import Checkpoint, Divergence, Progress, TimeLimit
from pdesolve.training.loop import Step, Trainer

TRAINING_KIND = "learned-preconditioner-training"
UNSEEN_SEED = 1_000_000  # unseen members are drawn from seeds UNSEEN_SEED + i, never used for training
BASELINES = ("jacobi", "ic0", "mg")
VALIDATION_MAXITER = 1000  # an untrained DCDM network need not converge: the card then shows 1000


@dataclass
class TrainOptions:
    nodes: int
    samples: int = 8  # family members to train on (seeds seed * 1000 + i)
    steps: int = 200
    seconds: float = 300.0  # stop earlier when training takes longer than this
    unseen: int = 4  # members for validation
    lr: float | None = None  # None: the kind's default
    seed: int = 0
    progress: bool = False
    threads: int | None = None  # torch CPU threads while training (None: leave as set); small graphs run best on 1
    checkpoint_every: int = 0  # steps between checkpoints beside the model file (0: only at the end, if resume)
    resume: bool = False  # continue from the checkpoint beside the model file


@contextmanager
def cpu_threads(count: int | None) -> Iterator[None]:
    """Run with ``count`` torch intra-op threads, then restore the previous setting."""
    previous = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def baseline_iterations(kind: str, system: GridSystem) -> int:
    operator = SparseOperator(system.matrix)
    layout = GridLayout(
        tuple(m + 2 for m in system.shape), np.pad(np.ones(system.shape, bool), 1), (False,) * len(system.shape)
    )
    preconditioner = make_preconditioner(kind, operator, system.matrix, layout)
    return cg(operator, torch.ones(system.size, dtype=torch.float64), preconditioner, maxiter=20_000).iterations


def validate(
    kind: Kind, model: torch.nn.Module, untrained: torch.nn.Module, train: list[GridSystem], unseen: list[GridSystem]
) -> dict[str, dict[str, float]]:
    """Mean iterations to 1e-8 (unit source) of the baselines, the untrained and the trained model, on both sets.

    A unit source rather than the problem's own: a manufactured right-hand side may be an eigenvector.
    """
    table: dict[str, dict[str, float]] = {}
    runs = {name: (lambda s, name=name: baseline_iterations(name, s)) for name in BASELINES}
    runs[f"{kind.name} (untrained)"] = lambda s: solve_with(kind, untrained, s, maxiter=VALIDATION_MAXITER).iterations
    runs[f"{kind.name} (trained)"] = lambda s: solve_with(kind, model, s, maxiter=VALIDATION_MAXITER).iterations
    for name, run in runs.items():
        table[name] = {
            label: float(np.mean([run(s) for s in systems]))
            for label, systems in (("train", train), ("unseen", unseen))
        }
    return table


def checkpoint_path(out: Path) -> Path:
    """Where the training state of the model file ``out`` is kept: ``NAME.checkpoint.pt`` beside it."""
    return out.with_name(f"{out.stem}.checkpoint.pt")


def checkpoint_of(out: Path, problem: Problem, kind: Kind, options: TrainOptions) -> Checkpoint:
    """The training checkpoint of the model file ``out``; it resumes only the same kind, architecture, problem and
    training members."""
    shaping = {**kind.architecture, "nodes": options.nodes, "samples": options.samples, "seed": options.seed}
    head = checkpoints.header(TRAINING_KIND, problem, f"precond-{kind.name}", shaping)
    return Checkpoint(checkpoint_path(out), head, options.checkpoint_every, options.resume)


def train_preconditioner(
    problem: Problem, kind_name: str, options: TrainOptions, device: torch.device, out: Path | None, command: str = ""
) -> Trained:
    """Train ``kind_name`` (gnn, dcdm, mg) on ``problem``'s family; write ``out`` (.pt and .md card) if given."""
    with cpu_threads(options.threads):
        return _train(problem, kind_of(kind_name), options, device, out, command)


def _train(
    problem: Problem, kind: Kind, options: TrainOptions, device: torch.device, out: Path | None, command: str
) -> Trained:
    device = torch.device(kind.training_device or device)
    torch.manual_seed(options.seed)
    rng = np.random.default_rng(options.seed)
    start = time.perf_counter()
    seeds = [options.seed * 1000 + i for i in range(options.samples)]
    systems = family_systems(problem, options.nodes, seeds)
    samples = [kind.prepare(system, kind.pairs, rng, device) for system in systems]
    model = kind.build(problem.dim, **kind.architecture)
    untrained = kind.build(problem.dim, **kind.architecture)
    untrained.load_state_dict(model.state_dict())
    model.to(device).train()
    lr = options.lr or kind.lr
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, options.steps, eta_min=0.1 * lr)
    keeps = out is not None and (options.checkpoint_every > 0 or options.resume)
    callbacks = [
        Divergence(f"the {kind.name} training loss", "lower --lr"),
        TimeLimit(options.seconds, start),
        Progress(options.progress, f"train {kind.name}", {"loss": "train_loss"}),
    ]
    generators = [sample.generator for sample in samples if hasattr(sample, "generator")]  # mg draws its probes
    saver = checkpoint_of(out, problem, kind, options) if keeps else None
    trainer = Trainer(model, optimizer, schedule, callbacks, generators, unit="step", checkpoint=saver)
    run = trainer.fit(options.steps, lambda step: [samples[step % len(samples)]], lambda s: Step(kind.loss(model, s)))
    losses, steps = run.history.get("train_loss", []), run.epoch
    seconds = time.perf_counter() - start
    model = model.cpu().eval()
    unseen = family_systems(
        problem, options.nodes, [UNSEEN_SEED + options.seed * 1000 + i for i in range(options.unseen)]
    )
    validation = validate(kind, model, untrained.eval(), systems[: max(options.unseen, 1)], unseen)
    window = max(1, min(10, len(losses) // 5))
    card: dict[str, Any] = {
        "kind": kind.name,
        "summary": kind.summary,
        "problem": problem.name,
        "family": repr(problem.family.samplers) if problem.family else "a single problem (no family)",
        "fingerprint": fingerprint(problem),
        "dim": problem.dim,
        "n": options.nodes,
        "unknowns": systems[0].size,
        "samples": options.samples,
        "seeds": f"{seeds[0]}..{seeds[-1]}",
        "unseen_members": options.unseen,
        "steps": steps,
        "lr": lr,
        "training_seconds": seconds,
        "device": f"{device.type} ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)",
        "torch": str(torch.__version__),
        "parameters": sum(p.numel() for p in model.parameters()),
        "architecture": kind.architecture,
        "loss_first": float(np.mean(losses[:window])),
        "loss_last": float(np.mean(losses[-window:])),
        "validation": validation,
        "command": command,
    }
    if out is not None:
        save_checkpoint(out, problem, kind, model, kind.architecture, card)
    return Trained(kind, model, card)
