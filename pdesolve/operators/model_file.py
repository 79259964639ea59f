"""Trained operator files: weights, architecture and a model card, plus the card as Markdown beside them.

The card says what the model was trained for (problem, family, inputs, resolution, data set; for an
autoregressive model its ``rollout``: history, steps and the data's output times), how
(epochs, batch, learning rate, physics weight, devices, time) and how well (train loss, test relative L2),
so that ``pdesolve solve --solver fno`` can refuse a model made for another problem.

A plain FNO is rebuilt from its ``config``; a file made by another family names its ``builder`` (the
constrained FNO of ``pdesolve train constrained``: :mod:`pdesolve.constraints.model`), which rebuilds the
model for the problem from the file's ``config`` and ``state``.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import torch

from pdesolve.errors import PdesolveError
from pdesolve.io import checkpoint
from pdesolve.operators.fno import FNO, count_parameters
from pdesolve.operators.pairs import family_description
from pdesolve.operators.rollout import Rollout
from pdesolve.plugins import lazy
from pdesolve.problem import Problem

KIND = "fno-model"


BUILDERS = {"constrained": lazy("pdesolve.constraints.model:rebuild")}  # builder -> (data, problem, device) -> model


def save_model(
    path: str | Path,
    model: torch.nn.Module,
    card: dict[str, Any],
    problem: Problem | None = None,
    builder: str = "fno",
    config: dict[str, Any] | None = None,
) -> Path:
    """Write ``path`` atomically (through :mod:`pdesolve.io.checkpoint`) and ``path`` with suffix ``.md`` (the card
    for people); returns ``path``. ``builder`` other than ``fno``: one of :data:`BUILDERS`, which rebuilds the
    model from ``config`` and the weights."""
    path = Path(path)
    config = dict(model.config) if config is None else config
    card = {
        **card,
        "parameters": count_parameters(model),
        "architecture": config,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": checkpoint.versions(),
    }
    head = checkpoint.header(KIND, problem, builder, config)
    weights = (
        {"state_dict": model.state_dict()} if builder == "fno" else {"builder": builder, "state": model.state_dict()}
    )
    return checkpoint.save_model(path, head, {"config": config, **weights, "card": card}, card_markdown(card))


def load_model(
    path: str | Path, device: torch.device | str = "cpu", problem: Problem | None = None
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The model (in eval mode, on ``device``) and its card; an autoregressive model (card ``rollout``) comes
    wrapped in its :class:`Rollout`; a model of another builder is rebuilt for ``problem``."""
    path = Path(path)
    if not path.is_file():
        raise PdesolveError(
            f"model file {path} does not exist (train one with `pdesolve train fno PROBLEM --data DIR`)"
        )
    state = checkpoint.load(path, KIND, device=device, what="model file")
    builder = state.get("builder", "fno")
    if builder != "fno":
        if builder not in BUILDERS:
            raise PdesolveError(f"model file {path} needs the builder {builder!r}, which this pdesolve does not have")
        if problem is None:
            raise PdesolveError(f"model file {path} ({builder}) is rebuilt for a problem: give one")
        check_model_problem(state["card"], problem)
        return BUILDERS[builder](state, problem, device).eval(), state["card"]
    model = FNO.from_config(state["config"]).to(device)
    model.load_state_dict(state["state_dict"])
    card = state["card"]
    if "rollout" in card:
        model = Rollout(model, card["rollout"]["history"], card["rollout"]["steps"])
    return model.eval(), card


def check_model_problem(card: dict[str, Any], problem: Problem) -> None:
    """Refuse a model trained for another problem or family (one-line :class:`PdesolveError`)."""
    if card.get("problem") != problem.name:
        raise PdesolveError(f"this model was trained for problem {card.get('problem')!r}, not {problem.name!r}")
    if card.get("family") != family_description(problem):
        raise PdesolveError(f"this model was trained on another family of {problem.name!r}: {card.get('family')!r}")


def card_markdown(card: dict[str, Any]) -> str:
    """The card as a short Markdown document."""
    lines = [f"# FNO for `{card.get('problem')}`", ""]
    for key, value in card.items():
        if isinstance(value, dict):
            lines.append(f"- **{key}**: " + ", ".join(f"{k}={v}" for k, v in value.items()))
        else:
            lines.append(f"- **{key}**: {value}")
    return "\n".join(lines) + "\n"
