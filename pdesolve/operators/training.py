"""Training a neural operator on input/solution pairs: relative L2 loss (the FNO paper's), Adam, and a cosine
schedule or the FNO paper's step decay (the rate halved every 100 epochs).

The loss per sample is the relative L2 error unless ``loss`` says otherwise (the autoregressive rollout sums
the per-step errors, :mod:`pdesolve.operators.rollout`).
One process or many: launched by ``torchrun`` (``torch.distributed`` initialised), the model is wrapped in
DistributedDataParallel and each rank takes its share of every epoch's permutation. The permutation of
epoch ``e`` is drawn from ``(seed, e)`` alone, so a run resumed from a checkpoint continues exactly as an
uninterrupted one. On CUDA the forward pass runs under bf16 autocast (the FFTs stay in float32).
The loop is :class:`~pdesolve.training.loop.Trainer`'s; checkpoints (model, optimiser, schedule, history) are
written by rank 0 (:class:`~pdesolve.training.callbacks.Checkpoint`) every ``checkpoint_every`` epochs, after
the last and, holding the last whole epoch, on Ctrl-C or SIGTERM. ``patience`` stops a run whose test error
has stopped falling (:class:`~pdesolve.training.callbacks.EarlyStopping`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from pdesolve.errors import PdesolveError
from pdesolve.io import checkpoint as checkpoints
from pdesolve.runtime import rank_and_world, relative_l2
from pdesolve.training.callbacks import Checkpoint, Divergence, EarlyStopping, Progress
from pdesolve.training.loop import Callback, Run, Step, Trainer

CHECKPOINT = "checkpoint.pt"
KIND = "fno-training"


@dataclass(frozen=True)
class TrainConfig:
    """Training settings (the FNO paper: Adam, lr 1e-3, weight decay 1e-4, batch 20, 500 epochs, the rate
    halved every 100 epochs: ``schedule="step"``; the default is a cosine decay to zero over ``epochs``)."""

    epochs: int = 500
    batch_size: int = 20
    lr: float = 1e-3
    weight_decay: float = 1e-4
    schedule: str = "cosine"
    step_epochs: int = 100
    step_factor: float = 0.5
    physics_weight: float = 0.0
    amp: bool = True
    checkpoint_every: int = 10
    patience: int = 0  # stop when the test error has not improved for this many epochs (0: never)
    seed: int = 0
    progress: bool = True


@dataclass
class TrainResult:
    """Per-epoch history and the final figures."""

    train_loss: list[float] = field(default_factory=list)
    test_error: list[float] = field(default_factory=list)
    seconds: float = 0.0
    epochs: int = 0

    @property
    def final_test_error(self) -> float:
        return self.test_error[-1] if self.test_error else float("nan")


Physics = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (prediction, target) -> per-sample loss (batch,)


def _autocast(device: torch.device, enabled: bool):
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled and device.type == "cuda")


@torch.no_grad()
def evaluate(model: nn.Module, inputs: torch.Tensor, outputs: torch.Tensor, batch_size: int = 50) -> float:
    """Mean relative L2 error over a data set (float32; across ranks when distributed)."""
    rank, world = rank_and_world()
    model.eval()
    total = torch.zeros(2, dtype=torch.float64, device=inputs.device)
    for start in range(rank * batch_size, len(inputs), world * batch_size):
        errors = relative_l2(model(inputs[start : start + batch_size]), outputs[start : start + batch_size])
        total += torch.stack([errors.sum().double(), torch.tensor(float(len(errors)), device=inputs.device)])
    if world > 1:
        dist.all_reduce(total)
    return float(total[0] / total[1])


def train(
    model: nn.Module,
    train_data: tuple[torch.Tensor, torch.Tensor],
    test_data: tuple[torch.Tensor, torch.Tensor],
    config: TrainConfig,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    physics: Physics | None = None,
    callback: Callback | None = None,
    loss_function: Loss | None = None,
    head: dict[str, Any] | None = None,
) -> TrainResult:
    """Train ``model`` (already on the data's device) in place; returns the history. See the module docstring.

    ``head`` (:func:`pdesolve.io.checkpoint.header`) says what the checkpoints are for; ``resume`` refuses a
    checkpoint made for another problem or architecture. ``callback(epoch, result)`` runs after every epoch."""
    inputs, outputs = train_data
    device = inputs.device
    loss_function = loss_function or relative_l2
    rank, world = rank_and_world()
    check_finite_data(inputs, outputs)
    if len(inputs) < world:
        raise PdesolveError(f"{len(inputs)} training samples cannot be shared by {world} processes")
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = learning_rate_schedule(optimizer, config)
    checkpoint = Path(checkpoint_dir) / CHECKPOINT if checkpoint_dir is not None else None
    head = head or checkpoints.header(KIND, shaping=dict(getattr(model, "config", {})))
    kept = f"; the last good checkpoint stays in {checkpoint}" if checkpoint is not None else ""
    saver = (
        None if checkpoint is None else Checkpoint(checkpoint, head, config.checkpoint_every, resume, rank == 0, device)
    )
    callbacks: list[Callback] = [
        Divergence("the training loss", f"lower --lr{kept}"),
        Progress(config.progress and rank == 0, "train"),
    ]
    if config.patience:
        callbacks.append(EarlyStopping(config.patience, "test_error"))
    if callback is not None:
        callbacks.append(EpochCallback(callback))
    network = model
    if world > 1:
        network = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    per_rank = len(inputs) // world

    def batches(epoch: int) -> Iterator[torch.Tensor]:
        """Rank ``rank``'s share of epoch ``epoch``'s permutation, drawn from ``(seed, epoch)`` alone."""
        order = torch.randperm(len(inputs), generator=torch.Generator().manual_seed(config.seed * 1_000_003 + epoch))
        mine = order[: per_rank * world][rank::world].to(device)
        for first in range(0, per_rank, config.batch_size):
            yield mine[first : first + config.batch_size]

    def step(batch: torch.Tensor) -> Step:
        x, y = inputs[batch], outputs[batch]
        with _autocast(device, config.amp):
            prediction = network(x)
        penalty = None
        if physics is not None and config.physics_weight > 0:
            penalty = config.physics_weight * physics(prediction.float()[:, 0], x)
        return Step(loss_function(prediction, y), penalty)

    trainer = Trainer(model, optimizer, schedule, callbacks, distributed=True, checkpoint=saver)
    run = trainer.fit(config.epochs, batches, step, lambda: {"test_error": evaluate(model, *test_data)})
    return result_of(run)


def result_of(run: Run) -> TrainResult:
    return TrainResult(
        list(run.history.get("train_loss", [])), list(run.history.get("test_error", [])), run.seconds, run.epoch
    )


class EpochCallback(Callback):
    """``callback(epoch, result)`` after every epoch (0-based ``epoch``, the history so far)."""

    def __init__(self, callback: Callable[[int, TrainResult], None]) -> None:
        self.callback = callback

    def on_epoch_end(self, run: Run) -> None:
        self.callback(run.epoch - 1, result_of(run))


def check_finite_data(*tensors: torch.Tensor) -> None:
    """Refuse training data with NaN or infinite values (a message about the data, not the learning rate)."""
    for name, tensor in zip(("inputs", "outputs"), tensors):
        bad = int((~torch.isfinite(tensor)).sum())
        if bad:
            raise PdesolveError(
                f"the training data ({name}) hold {bad} NaN or infinite values of {tensor.numel()}; "
                "remake the data set (`pdesolve dataset`)"
            )


def learning_rate_schedule(optimizer: torch.optim.Optimizer, config: TrainConfig):
    """Cosine decay over ``epochs``, or ``step``: the rate times ``step_factor`` every ``step_epochs``."""
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.step_epochs, gamma=config.step_factor)
    raise PdesolveError(f"unknown learning-rate schedule {config.schedule!r} (cosine or step)")
