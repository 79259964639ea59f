"""Checkpoints of a TENG run, read to resume (format and checks: :mod:`pdesolve.io.checkpoint`).

A checkpoint holds the step counter, the parameter history (one vector per stored time), the state
of the random generator (parameter subsets, resampled points), the options that shape the run and
the statistics so far, so a resumed run continues exactly where the saved one stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from pdesolve.io import checkpoint

KIND = "teng"
# options that must agree between a checkpoint and the run resuming from it
SHAPING_OPTIONS = ("scheme", "width", "depth", "n_points", "resample")


@dataclass
class RunState:
    """Everything a resumed run needs: ``times[k]`` is the time of ``thetas[k]``."""

    step: int
    dt: float
    times: list[float]
    thetas: list[torch.Tensor]
    generator_state: torch.Tensor
    options: dict[str, Any]
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def theta(self) -> torch.Tensor:
        return self.thetas[-1]

    @property
    def t(self) -> float:
        return self.times[-1]


def save_checkpoint(path: str | Path, head: dict[str, Any], state: RunState) -> None:
    """Write ``state`` to ``path`` atomically (a crash leaves the previous checkpoint intact)."""
    payload = {
        "step": state.step,
        "dt": state.dt,
        "times": [float(t) for t in state.times],
        "thetas": torch.stack([th.detach().cpu() for th in state.thetas]),
        "generator_state": state.generator_state,
        "options": dict(state.options),
        "stats": dict(state.stats),
    }
    checkpoint.save(path, head, payload)


def load_checkpoint(path: str | Path, head: dict[str, Any], device: torch.device) -> RunState:
    """Read a checkpoint; refused when made for another problem or with other shaping options (``head``)."""
    payload = checkpoint.load(path, KIND, head, what="TENG checkpoint")
    thetas = [th.to(device) for th in payload["thetas"]]
    return RunState(
        payload["step"],
        payload["dt"],
        list(payload["times"]),
        thetas,
        payload["generator_state"],
        payload["options"],
        payload["stats"],
    )
