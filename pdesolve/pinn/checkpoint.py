"""Training checkpoints: written every N steps and on Ctrl-C or SIGTERM, read back by ``resume``.

A checkpoint holds everything an uninterrupted run would still have in memory: the model, the stage
and step reached, the optimiser state, the loss weights, the training points (RAR points included),
the loss history and the random-number state, so that resuming reproduces the same losses.
``extra`` entries go into every checkpoint besides the trainer's state (time marching: the finished windows).
The file format, the atomic write and the refusal of another problem's or shape's file are
:mod:`pdesolve.io.checkpoint`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from pdesolve.io import checkpoint

KIND = "pinn"


class Checkpointer:
    """Saves to ``path`` every ``every`` global steps (never when ``every`` is 0, except on request) under ``head``
    (:func:`pdesolve.io.checkpoint.header`); without a path it saves nothing."""

    def __init__(self, path: str | Path | None, every: int = 0, head: dict[str, Any] | None = None) -> None:
        self.path = None if path is None else Path(path)
        self.every = every if path is not None else 0
        self.head = head or checkpoint.header(KIND)
        self.saved_step: int | None = None
        self.extra: dict[str, Any] = {}

    def due(self, global_step: int) -> bool:
        return self.every > 0 and global_step % self.every == 0

    def save(self, state: dict[str, Any]) -> Path | None:
        """Write ``state`` atomically over the previous checkpoint."""
        if self.path is None:
            return None
        checkpoint.save(self.path, self.head, {**self.extra, **state})
        self.saved_step = state.get("global_step")
        return self.path


def load_checkpoint(
    path: str | Path, device: str | torch.device = "cpu", expected: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The state saved by :class:`Checkpointer`; one-line error when unreadable or (``expected``) made for
    another problem or network."""
    return checkpoint.load(path, KIND, expected, device, what="resume: checkpoint")
