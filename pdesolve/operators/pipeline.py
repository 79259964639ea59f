"""From a data set to a saved model with its card: what ``pdesolve train`` and the benchmarks run."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from pdesolve.operators.dataset import Dataset
from pdesolve.operators.fno import FNO
from pdesolve.operators.model_file import save_model
from pdesolve.operators.pairs import data_grid
from pdesolve.operators.physics_loss import PhysicsLoss
from pdesolve.operators.training import TrainConfig, TrainResult, rank_and_world, train
from pdesolve.problem import Problem

MODEL_FILE = "model.pt"


def build_model(data: Dataset, seed: int = 0, **architecture: Any) -> FNO:
    """An FNO shaped for the data set (dimension, channels, periodic axes), normalised by its statistics."""
    torch.manual_seed(seed)
    spec = data.spec
    model = FNO(
        dim=len(spec.grid_shape),
        in_channels=len(spec.inputs),
        out_channels=data.outputs.shape[1],
        periodic=spec.periodic,
        **architecture,
    )
    model.set_normalization(torch.as_tensor(data.inputs), torch.as_tensor(data.outputs))
    return model


def train_operator(
    problem: Problem,
    train_data: Dataset,
    test_data: Dataset,
    config: TrainConfig,
    device: torch.device | str = "cpu",
    out: str | Path | None = None,
    resume: bool = False,
    architecture: dict[str, Any] | None = None,
) -> tuple[FNO, TrainResult, dict[str, Any]]:
    """Train an FNO on ``train_data``, test on ``test_data``; rank 0 saves ``out/model.pt`` and its card."""
    device = torch.device(device)
    for data in (train_data, test_data):
        data.spec.check_problem(problem)
    model = build_model(train_data, config.seed, **(architecture or {})).to(device)

    def tensors(data: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.as_tensor(data.inputs, device=device), torch.as_tensor(data.outputs, device=device)

    physics = None
    if config.physics_weight > 0:
        grid = data_grid(problem, train_data.spec.resolution)
        physics = PhysicsLoss(problem, grid, list(train_data.spec.inputs), device)
    result = train(model, tensors(train_data), tensors(test_data), config, out, resume, physics)
    rank, world = rank_and_world()
    spec = train_data.spec
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
    if out is not None and rank == 0:
        save_model(Path(out) / MODEL_FILE, model, card)
    return model, result, card
