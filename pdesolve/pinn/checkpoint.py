"""Training checkpoints: written atomically every N steps and on Ctrl-C, read back by ``--resume``.

A checkpoint holds everything an uninterrupted run would still have in memory: the model, the stage
and step reached, the optimiser state, the loss weights, the training points (RAR points included),
the loss history and the random-number state, so that resuming reproduces the same losses.
``extra`` entries go into every checkpoint besides the trainer's state (time marching: the finished windows).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from pdesolve.errors import PdesolveError

FORMAT = 1


class Checkpointer:
    """Saves to ``path`` every ``every`` global steps (never when ``every`` is 0, except on request)."""

    def __init__(self, path: str | Path, every: int = 0) -> None:
        self.path = Path(path)
        self.every = every
        self.saved_step: int | None = None
        self.extra: dict[str, Any] = {}

    def due(self, global_step: int) -> bool:
        return self.every > 0 and global_step % self.every == 0

    def save(self, state: dict[str, Any]) -> Path:
        """Write ``state`` to a temporary file, then rename it over the previous checkpoint."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        torch.save({"format": FORMAT, **self.extra, **state}, temporary)
        os.replace(temporary, self.path)
        self.saved_step = state.get("global_step")
        return self.path


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> dict[str, Any]:
    """The state saved by :class:`Checkpointer`; one-line :class:`PdesolveError` when unreadable."""
    path = Path(path)
    if not path.is_file():
        raise PdesolveError(f"--resume: checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location=device, weights_only=False)
    except Exception as error:  # torch raises many kinds for a damaged file
        raise PdesolveError(f"--resume: cannot read checkpoint {path}: {error}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise PdesolveError(f"--resume: {path} is not a pdesolve PINN checkpoint")
    return state
