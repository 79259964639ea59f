"""The autoregressive FNO-2D of the FNO paper for evolution problems (Li et al. 2021, §5.3, "FNO-2D").

A step model maps the last ``history`` time levels, as channels (plus coordinates, added inside the FNO),
to the next level; the rollout feeds each prediction back in place of the oldest level, ``steps`` times.
Training minimises the per-step relative L2 errors summed over the rollout (the authors' ``loss +=`` over
``t``, averaged here over the batch); the test figure is the relative L2 of the whole predicted
trajectory (their ``test_l2_full``), and :func:`rollout_errors` adds the error at the final time.
"""

from __future__ import annotations

import torch
from torch import nn


class Rollout(nn.Module):
    """``(batch, history, *grid)`` -> ``(batch, steps, *grid)`` by ``steps`` applications of ``step``."""

    def __init__(self, step: nn.Module, history: int, steps: int) -> None:
        super().__init__()
        self.step, self.history, self.steps = step, history, steps

    def forward(self, window: torch.Tensor, steps: int | None = None) -> torch.Tensor:
        predictions = []
        for _ in range(self.steps if steps is None else steps):
            level = self.step(window).to(window.dtype)
            predictions.append(level)
            window = torch.cat([window[:, 1:], level], dim=1)
        return torch.cat(predictions, dim=1)


@torch.no_grad()
def predict(model: nn.Module, inputs: torch.Tensor, batch_size: int = 50) -> torch.Tensor:
    """The model's outputs for ``inputs`` in batches (eval mode, no gradients)."""
    model.eval()
    return torch.cat([model(inputs[start : start + batch_size]) for start in range(0, len(inputs), batch_size)])


def per_step_relative_l2(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``||u_t - u_ref,t|| / ||u_ref,t||`` for every sample and step, shape (batch, steps)."""
    difference = (prediction.float() - target.float()).flatten(2).norm(dim=2)
    return difference / target.float().flatten(2).norm(dim=2).clamp_min(1e-30)


def rollout_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The paper's training loss per sample: per-step relative L2 summed over the rollout, shape (batch,)."""
    return per_step_relative_l2(prediction, target).sum(dim=1)


def rollout_errors(prediction: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Mean over samples of the relative L2 over the whole trajectory, at the final time, and per step."""
    per_step = per_step_relative_l2(prediction, target)
    full = (prediction.float() - target.float()).flatten(1).norm(dim=1) / target.float().flatten(1).norm(dim=1)
    return {
        "trajectory_relative_l2": float(full.mean()),
        "final_relative_l2": float(per_step[:, -1].mean()),
        "first_step_relative_l2": float(per_step[:, 0].mean()),
    }
