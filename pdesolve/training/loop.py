"""One training loop for the families that train by epochs of optimiser steps (neural operators, constrained
operators, learned preconditioners), with callbacks for everything around the steps.

An epoch draws its batches from ``batches(epoch)``; ``step(batch)`` returns a :class:`Step`: the per-sample losses
(the gradient is their mean, over the samples the callbacks keep) plus an optional batch-level ``penalty``. The
loop takes one optimiser step per batch and one schedule step per epoch, records the epoch's mean loss as
``train_loss`` (averaged over the ranks when ``distributed``) and whatever ``evaluate()`` returns, then calls the
callbacks (:class:`Callback`). Ctrl-C and SIGTERM (:mod:`pdesolve.io.interrupts`) end the run through
``KeyboardInterrupt`` after ``on_interrupt``, where :class:`~pdesolve.training.callbacks.Checkpoint` saves the
last whole epoch.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from pdesolve.errors import PdesolveError
from pdesolve.io.interrupts import sigterm_raises


@dataclass
class Step:
    """One batch: per-sample ``losses`` (or one 0-d loss), a batch-level ``penalty`` added to their mean, and
    which samples' inner solves ``converged`` (constrained operators; None: not applicable)."""

    losses: torch.Tensor
    penalty: torch.Tensor | None = None
    converged: torch.Tensor | None = None

    def objective(self, keep: torch.Tensor | None = None) -> torch.Tensor:
        """The scalar the gradient is taken of: the mean of the kept losses, plus the penalty."""
        mean = (self.losses if keep is None else self.losses[keep]).mean()
        return mean if self.penalty is None else mean + self.penalty


@dataclass
class Run:
    """A training run as the callbacks see it and a checkpoint keeps it: the live model, optimiser and schedule,
    the epochs done and the target, one list per metric, and the training time. ``unit`` names an epoch in
    messages ("epoch", or "step" where an epoch is one step)."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: Any
    epochs: int
    callbacks: Sequence[Callback] = ()
    generators: Sequence[torch.Generator] = ()
    unit: str = "epoch"
    epoch: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    kept_epoch: int | None = None

    def last(self, metric: str) -> float:
        return self.history[metric][-1]

    def state_dict(self) -> dict[str, Any]:
        """A copy of everything a resumed run needs, detached from the live objects (plain data and tensors)."""
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": None if self.schedule is None else self.schedule.state_dict(),
            "generators": [generator.get_state() for generator in self.generators],
            "run": {"epoch": self.epoch, "history": self.history, "seconds": self.seconds},
            "callbacks": {type(c).__name__: c.state_dict() for c in self.callbacks},
        }
        return copy.deepcopy(state)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.schedule is not None:
            self.schedule.load_state_dict(state["schedule"])
        if len(state["generators"]) != len(self.generators):
            raise ValueError(f"{len(state['generators'])} random generators, not {len(self.generators)}")
        for generator, saved in zip(self.generators, state["generators"]):
            generator.set_state(saved)
        self.epoch, self.seconds = state["run"]["epoch"], state["run"]["seconds"]
        self.history = {name: list(values) for name, values in state["run"]["history"].items()}
        for callback in self.callbacks:
            callback.load_state_dict(state["callbacks"].get(type(callback).__name__, {}))


class Callback:
    """Hooks of the loop, each a no-op here; callbacks run in the order given, the trainer's ``checkpoint`` first
    on start (it restores the run the others then see) and last after an epoch (it keeps their state too)."""

    def on_start(self, run: Run) -> None:
        """Before the first epoch (after a resume: the epoch reached)."""

    def keep(self, run: Run, step: Step) -> torch.Tensor | None:
        """Which samples of ``step`` enter the gradient (None: all)."""
        return None

    def on_batch_end(self, run: Run, loss: torch.Tensor) -> None:
        """After each optimiser step, with the batch's objective (detached)."""

    def on_epoch_end(self, run: Run) -> None:
        """After each epoch, its metrics in ``run.history``."""

    def should_stop(self, run: Run) -> bool:
        return False

    def on_end(self, run: Run) -> None:
        """After the last epoch (not after an interruption)."""

    def on_interrupt(self, run: Run) -> None:
        """On Ctrl-C or SIGTERM, before the ``KeyboardInterrupt`` goes on."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


Batches = Callable[[int], Iterable[Any]]
StepFunction = Callable[[Any], Step]
Evaluate = Callable[[], dict[str, float]]


class Trainer:
    """Optimise ``model`` with ``optimizer`` (and ``schedule``, stepped per epoch) under ``callbacks``.

    ``checkpoint`` (:class:`~pdesolve.training.callbacks.Checkpoint`) restores the run before the callbacks start and
    keeps it after they have seen each epoch. ``generators`` are the random generators the batches (or the losses)
    draw from, kept in checkpoints; ``distributed`` averages the epoch loss over the ranks of ``torch.distributed``."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        schedule: Any = None,
        callbacks: Sequence[Callback] = (),
        generators: Sequence[torch.Generator] = (),
        distributed: bool = False,
        unit: str = "epoch",
        checkpoint: Callback | None = None,
    ) -> None:
        self.model, self.optimizer, self.schedule = model, optimizer, schedule
        self.callbacks, self.generators = list(callbacks), list(generators)
        self.checkpoint = checkpoint
        self.distributed, self.unit = distributed, unit

    def fit(self, epochs: int, batches: Batches, step: StepFunction, evaluate: Evaluate | None = None) -> Run:
        """Train up to ``epochs`` epochs (fewer when a callback stops the run); returns the run."""
        run = Run(self.model, self.optimizer, self.schedule, epochs, self.callbacks, self.generators, self.unit)
        saving = [self.checkpoint] if self.checkpoint is not None else []
        first, last = saving + self.callbacks, self.callbacks + saving
        with sigterm_raises():
            try:
                for callback in first:
                    callback.on_start(run)
                while run.epoch < epochs and not any(c.should_stop(run) for c in self.callbacks):
                    self._epoch(run, batches, step, evaluate)
                    for callback in last:
                        callback.on_epoch_end(run)
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM
                for callback in last:
                    callback.on_interrupt(run)
                raise
        for callback in last:
            callback.on_end(run)
        return run

    def _epoch(self, run: Run, batches: Batches, step: StepFunction, evaluate: Evaluate | None) -> None:
        start = time.perf_counter()
        self.model.train()
        total: torch.Tensor | None = None
        samples, unconverged = 0, None
        for batch in batches(run.epoch):
            result = step(batch)
            losses = result.losses.detach()
            count = losses.numel()
            summed = losses.sum().double() + (0.0 if result.penalty is None else count * result.penalty.detach())
            total = summed if total is None else total + summed
            samples += count
            if result.converged is not None:
                unconverged = (unconverged or 0) + int((~result.converged).sum())
            keep = self._keep(run, result)
            if keep is not None and not bool(keep.any()):
                continue  # nothing to learn from: no step
            objective = result.objective(keep)
            self.optimizer.zero_grad(set_to_none=True)
            objective.backward()
            self.optimizer.step()
            for callback in self.callbacks:
                callback.on_batch_end(run, objective.detach())
        if samples == 0:
            raise PdesolveError(f"{self.unit} {run.epoch + 1} drew no training samples")
        if self.schedule is not None:
            self.schedule.step()
        train_loss = float(total) / samples
        if self.distributed and dist.is_initialized() and dist.get_world_size() > 1:
            reduced = torch.tensor([train_loss], device=total.device)
            dist.all_reduce(reduced)
            train_loss = float(reduced) / dist.get_world_size()
        metrics = {"train_loss": train_loss}
        if unconverged is not None:
            metrics["unconverged"] = unconverged
        if evaluate is not None:
            metrics.update(evaluate())
        for name, value in metrics.items():
            run.history.setdefault(name, []).append(value)
        run.epoch += 1
        run.seconds += time.perf_counter() - start

    def _keep(self, run: Run, step: Step) -> torch.Tensor | None:
        keep = None
        for callback in self.callbacks:
            mask = callback.keep(run, step)
            if mask is not None:
                keep = mask if keep is None else keep & mask
        return keep
