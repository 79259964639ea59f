"""Checkpoints of a TENG run: written atomically (temporary file, then ``os.replace``), read to resume.

A checkpoint holds the step counter, the parameter history (one vector per stored time), the state
of the random generator (parameter subsets, resampled points), the options that shape the run and
the statistics so far, so a resumed run continues exactly where the saved one stopped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from pdesolve.errors import PdesolveError

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


def save_checkpoint(path: str | Path, state: RunState) -> None:
    """Write ``state`` to ``path`` atomically (a crash leaves the previous checkpoint intact)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "step": state.step,
        "dt": state.dt,
        "times": list(state.times),
        "thetas": torch.stack([th.detach().cpu() for th in state.thetas]),
        "generator_state": state.generator_state,
        "options": dict(state.options),
        "stats": dict(state.stats),
    }
    temporary = path.with_name(path.name + ".tmp")
    torch.save(payload, temporary)
    os.replace(temporary, path)


def load_checkpoint(path: str | Path, options: dict[str, Any], device: torch.device) -> RunState:
    """Read a checkpoint and check that it was made with the same shaping ``options``."""
    path = Path(path)
    if not path.is_file():
        raise PdesolveError(f"no TENG checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # torch raises many kinds for a damaged file
        raise PdesolveError(f"cannot read TENG checkpoint {path}: {error}") from None
    saved = payload["options"]
    differing = [k for k in SHAPING_OPTIONS if saved.get(k) != options.get(k)]
    if differing:
        changes = ", ".join(f"{k}: {saved.get(k)!r} -> {options.get(k)!r}" for k in differing)
        raise PdesolveError(f"checkpoint {path} was made with other options ({changes})")
    thetas = [th.to(device) for th in payload["thetas"]]
    return RunState(
        payload["step"],
        payload["dt"],
        list(payload["times"]),
        thetas,
        payload["generator_state"],
        saved,
        payload["stats"],
    )
