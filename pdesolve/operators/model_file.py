"""Trained operator files: weights, architecture and a model card, plus the card as Markdown beside them.

The card says what the model was trained for (problem, family, inputs, resolution, data set; for an
autoregressive model its ``rollout``: history, steps and the data's output times), how
(epochs, batch, learning rate, physics weight, devices, time) and how well (train loss, test relative L2),
so that ``pdesolve solve --solver fno`` can refuse a model made for another problem.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import torch

from pdesolve.errors import PdesolveError
from pdesolve.io import checkpoint
from pdesolve.io.run_folder import atomic_write_text
from pdesolve.operators.fno import FNO, count_parameters
from pdesolve.operators.pairs import family_description
from pdesolve.operators.rollout import Rollout
from pdesolve.problem import Problem

KIND = "fno-model"


def save_model(path: str | Path, model: FNO, card: dict[str, Any], problem: Problem | None = None) -> Path:
    """Write ``path`` (through :mod:`pdesolve.io.checkpoint`) and ``path`` with suffix ``.md`` (the card for
    people); returns ``path``."""
    path = Path(path)
    card = {
        **card,
        "parameters": count_parameters(model),
        "architecture": dict(model.config),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": checkpoint.versions(),
    }
    head = checkpoint.header(KIND, problem, "fno", dict(model.config))
    checkpoint.save(path, head, {"config": model.config, "state_dict": model.state_dict(), "card": card})
    atomic_write_text(path.with_suffix(".md"), card_markdown(card))
    return path


def load_model(path: str | Path, device: torch.device | str = "cpu") -> tuple[FNO | Rollout, dict[str, Any]]:
    """The model (in eval mode, on ``device``) and its card; an autoregressive model (card ``rollout``) comes
    wrapped in its :class:`Rollout`."""
    path = Path(path)
    if not path.is_file():
        raise PdesolveError(f"model file {path} does not exist (train one with `pdesolve train PROBLEM --data DIR`)")
    state = checkpoint.load(path, KIND, device=device, what="model file")
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
