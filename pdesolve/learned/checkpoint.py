"""Model files of learned preconditioners: weights, architecture and a model card, refused off their family.

A checkpoint names the family it was trained on (:func:`~pdesolve.learned.systems.fingerprint`), its dimension
and training size; it applies from that size up to ``MAX_SCALE`` times more unknowns (the range the benchmark
measures) and is refused elsewhere with a :class:`~pdesolve.errors.PdesolveError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from pdesolve.errors import PdesolveError
from pdesolve.io import checkpoint
from pdesolve.learned.kinds import Kind, kind_of
from pdesolve.learned.systems import fingerprint
from pdesolve.problem import Problem
from pdesolve.shipped import shipped

KIND = "learned-preconditioner"
MAX_SCALE = 20.0  # unknowns, relative to the training size (16× plus odd-grid rounding)


@dataclass
class Checkpoint:
    kind: Kind
    model: nn.Module
    card: dict[str, Any]


def save_checkpoint(
    path: Path, problem: Problem, kind: Kind, model: nn.Module, architecture: dict[str, Any], card: dict
) -> None:
    """Write ``path`` (.pt, through :mod:`pdesolve.io.checkpoint`) and its model card ``path.with_suffix('.md')``."""
    state = {name: value.detach().cpu() for name, value in model.state_dict().items()}
    head = checkpoint.header(KIND, problem, f"precond-{kind.name}", architecture)
    payload = {"kind": kind.name, "architecture": architecture, "state": state, "card": card}
    checkpoint.save_model(path, head, payload, model_card(card))


def find_checkpoint(path: str | Path) -> Path:
    """``path`` when it is a file, else the shipped checkpoint of that name (``preconditioners/<name>.pt``)."""
    path = Path(path)
    if path.is_file() or path.is_absolute():
        return path
    installed = shipped("preconditioners") / path.name
    return installed if installed.is_file() else path


def load_checkpoint(path: str | Path) -> Checkpoint:
    path = find_checkpoint(path)
    if not path.is_file():
        raise PdesolveError(
            f"no learned preconditioner at {path}: train one with `pdesolve train precond PROBLEM --model gnn`"
        )
    data = checkpoint.load(path, KIND, what="learned preconditioner")
    kind = kind_of(data["kind"])
    model = kind.build(data["card"]["dim"], **data["architecture"])
    model.load_state_dict(data["state"])
    return Checkpoint(kind, model.eval(), data["card"])


def check_applicable(checkpoint: Checkpoint, problem: Problem, unknowns: int, source: str = "the checkpoint") -> None:
    """Refuse a problem of another family or dimension, or a size outside the trained range."""
    card = checkpoint.card
    if card["fingerprint"] != fingerprint(problem):
        raise PdesolveError(
            f"{source} was trained on the family of {card['problem']!r}, not on {problem.name!r} "
            f"(or its coefficient family differs); train one with `pdesolve train precond {problem.name} "
            f"--model {checkpoint.kind.name}`"
        )
    if card["dim"] != problem.dim:
        raise PdesolveError(f"{source} is for {card['dim']}D grids; {problem.name} is {problem.dim}D")
    low, high = card["unknowns"], MAX_SCALE * card["unknowns"]
    if not low <= unknowns <= high:
        raise PdesolveError(
            f"{source} was trained at n={card['n']} ({low} unknowns) and applies from {low} to {int(high)} "
            f"unknowns; this system has {unknowns}: train at this size with `pdesolve train precond "
            f"{problem.name} --model {checkpoint.kind.name} --nodes N`"
        )


def model_card(card: dict[str, Any]) -> str:
    """The card as Markdown: what it is, what it was trained on, how long, how well it did."""
    validation = card["validation"]
    rows = "\n".join(
        f"| {name} | {values['train']:.1f} | {values['unseen']:.1f} |" for name, values in validation.items()
    )
    return f"""# Learned preconditioner `{card["kind"]}` for `{card["problem"]}`

{card["summary"]}

- family: `{card["problem"]}` ({card["family"]})
- grid: n = {card["n"]} nodes per axis, {card["unknowns"]} unknowns ({card["dim"]}D); applies up to
  {int(MAX_SCALE * card["unknowns"])} unknowns
- training: {card["samples"]} members (seeds {card["seeds"]}), {card["steps"]} Adam steps, lr {card["lr"]},
  {card["training_seconds"]:.1f} s on {card["device"]} (torch {card["torch"]}); {card["parameters"]} parameters
- architecture: `{json.dumps(card["architecture"])}`
- loss: first {card["loss_first"]:.4g}, last {card["loss_last"]:.4g}

Validation: mean CG iterations to a true relative residual of 1e-8 (float64, CPU) on training members and on
{card["unseen_members"]} unseen members of the family.

| preconditioner | training members | unseen members |
| --- | --- | --- |
{rows}

Reproduce: `{card["command"]}`
"""
