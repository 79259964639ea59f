"""The constrained FNO as a model file that ``pdesolve solve PROBLEM --solver fno --set model=FILE`` loads.

:func:`save` writes it through :func:`pdesolve.operators.model_file.save_model` (builder ``constrained``: the
:class:`~pdesolve.constraints.training.ConstraintConfig`, the weights and a card); :func:`rebuild` makes the
:class:`~pdesolve.constraints.training.ConstrainedOperator` again on the training grid and wraps it in
:class:`FinalField`, whose output has the FNO's shape.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from pdesolve.constraints.training import ConstrainedOperator, ConstraintConfig
from pdesolve.operators.model_file import save_model
from pdesolve.operators.pairs import data_grid
from pdesolve.problem import Grid, Problem


def constraint_grid(problem: Problem, grid: Grid) -> Grid:
    """The grid the constraint rows use: spectral differences on a fully periodic evolution problem."""
    if problem.is_fully_periodic and problem.is_evolution:
        return Grid(grid.lower, grid.upper, grid.shape, grid.periodic, method="spectral")
    return grid


class FinalField(torch.nn.Module):
    """``inputs (batch, channels, *grid) -> (batch, 1, *grid)``: the field, or its final level in time."""

    def __init__(self, model: ConstrainedOperator) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        u = self.model(inputs)
        return u[:, -1:] if self.model.levels else u[:, None]


def save(path: Path, model: ConstrainedOperator, problem: Problem, card: dict[str, Any]) -> Path:
    """Write the constrained model's file (``card``: problem, family, inputs, resolution, errors)."""
    return save_model(path, model, card, problem, builder="constrained", config=asdict(model.config))


def rebuild(data: dict[str, Any], problem: Problem, device: torch.device | str) -> FinalField:
    """The model of a file written by :func:`save`, for ``problem`` (checked against the card by the caller)."""
    card, config = data["card"], ConstraintConfig(**data["config"])
    grid = constraint_grid(problem, data_grid(problem, int(card["resolution"])))
    model = ConstrainedOperator(problem, grid, config, None, len(card["inputs"]), list(card["inputs"]))
    model.load_state_dict(data["state"])
    return FinalField(model.to(device))
