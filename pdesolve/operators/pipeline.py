"""From a data set to a saved model with its card: what ``pdesolve train fno`` and the benchmarks run.

Pairs (one output field) train a one-shot FNO; trajectories (``--times`` data) train the paper's
autoregressive FNO on their first ``history`` levels -> the rest (:mod:`pdesolve.operators.rollout`).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from pdesolve.errors import PdesolveError
from pdesolve.io import checkpoint
from pdesolve.operators.dataset import Dataset
from pdesolve.operators.fno import FNO
from pdesolve.operators.model_file import save_model
from pdesolve.operators.pairs import data_grid
from pdesolve.operators.physics_loss import PhysicsLoss
from pdesolve.operators.rollout import Rollout, predict, rollout_errors, rollout_loss
from pdesolve.operators.training import KIND, TrainConfig, TrainResult, train
from pdesolve.operators.trajectories import history_and_future
from pdesolve.problem import Problem
from pdesolve.runtime import rank_and_world

MODEL_FILE = "model.pt"


def build_model(data: Dataset, seed: int = 0, **architecture: Any) -> FNO:
    """An FNO shaped for the data set (dimension, channels, periodic axes), normalised by its statistics."""
    spec = data.spec
    if spec.times is not None:
        raise PdesolveError(
            f"this data set holds trajectories ({len(spec.times)} times from t = {spec.times[0]:g}); a single-output "
            "FNO maps inputs to one field: train the autoregressive FNO on it (build_rollout_model, or "
            "`pdesolve train fno`, which picks it for trajectory data)"
        )
    torch.manual_seed(seed)
    model = FNO(
        dim=len(spec.grid_shape),
        in_channels=len(spec.inputs),
        out_channels=data.outputs.shape[1],
        periodic=spec.periodic,
        **architecture,
    )
    model.set_normalization(torch.as_tensor(data.inputs), torch.as_tensor(data.outputs))
    return model


def build_rollout_model(data: Dataset, history: int = 10, seed: int = 0, **architecture: Any) -> Rollout:
    """The autoregressive FNO for trajectory data: ``history`` levels in, the next level out, rolled out over
    the remaining levels; normalised by the statistics of the training windows and levels."""
    if data.spec.times is None:
        raise PdesolveError("an autoregressive FNO trains on trajectories: make the data set with --times")
    window, future = history_and_future(data.outputs, history)
    torch.manual_seed(seed)
    step = FNO(dim=len(data.spec.grid_shape), in_channels=history, periodic=data.spec.periodic, **architecture)
    step.set_normalization(torch.as_tensor(window), torch.as_tensor(future).reshape(-1, 1, *future.shape[2:]))
    return Rollout(step, history, future.shape[1])


def train_operator(
    problem: Problem,
    train_data: Dataset,
    test_data: Dataset,
    config: TrainConfig,
    device: torch.device | str = "cpu",
    out: str | Path | None = None,
    resume: bool = False,
    architecture: dict[str, Any] | None = None,
    history: int = 10,
) -> tuple[FNO | Rollout, TrainResult, dict[str, Any]]:
    """Train an FNO on ``train_data``, test on ``test_data``; rank 0 saves ``out/model.pt`` and its card.

    Trajectory data train the autoregressive FNO (``history`` levels in); the model returned is then a
    :class:`Rollout` and the test error the relative L2 over the predicted trajectory."""
    device = torch.device(device)
    spec = train_data.spec
    for data in (train_data, test_data):
        data.spec.check_problem(problem)
        if data.spec.times != spec.times:
            raise PdesolveError("the training and test data sets hold different output times")
    rollout = spec.times is not None
    if rollout:
        model = build_rollout_model(train_data, history, config.seed, **(architecture or {})).to(device)
        loss_function = rollout_loss
    else:
        model = build_model(train_data, config.seed, **(architecture or {})).to(device)
        loss_function = None

    def tensors(data: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
        if rollout:
            return tuple(torch.as_tensor(part, device=device) for part in history_and_future(data.outputs, history))
        return torch.as_tensor(data.inputs, device=device), torch.as_tensor(data.outputs, device=device)

    physics = None
    if config.physics_weight > 0:
        grid = data_grid(problem, train_data.spec.resolution)
        physics = PhysicsLoss(problem, grid, list(train_data.spec.inputs), device)
    train_set, test_set = tensors(train_data), tensors(test_data)
    network = model.step if rollout else model
    shaping = {**network.config, "history": history if rollout else None, "resolution": spec.resolution}
    head = checkpoint.header(KIND, problem, "fno", shaping | {"family": spec.family, "inputs": list(spec.inputs)})
    result = train(model, train_set, test_set, config, out, resume, physics, loss_function=loss_function, head=head)
    rank, world = rank_and_world()
    card = {
        "problem": problem.name,
        "family": spec.family,
        "inputs": list(spec.inputs),
        "resolution": spec.resolution,
        "data": {"samples": len(train_data.inputs), "test_samples": len(test_data.inputs), "seed": spec.seed},
        "classical_solver": spec.solver,
        "training": {**asdict(config), "device": str(device), "processes": world},
        "train_loss": result.train_loss[-1] if result.train_loss else None,
        "test_error": result.final_test_error,
        "training_seconds": result.seconds,
    }
    if rollout:
        card["solve_resolution"] = spec.solve_resolution
        card["rollout"] = {"history": history, "steps": model.steps, "times": list(spec.times)}
        card.update(rollout_errors(predict(model, test_set[0]), test_set[1]) if rank == 0 else {})
    if out is not None and rank == 0:
        save_model(Path(out) / MODEL_FILE, model.step if rollout else model, card, problem)
    return model, result, card
