"""Device, process and precision helpers shared by every torch family (one definition each)."""

from __future__ import annotations

import torch
import torch.distributed as dist

from pdesolve.errors import PdesolveError

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def torch_dtype(name: str, who: str = "pdesolve") -> torch.dtype:
    """The torch dtype of a ``--dtype`` string (``float32`` or ``float64``); ``who`` runs in it."""
    if name not in DTYPES:
        raise PdesolveError(f"{who} runs in float32 or float64, not {name}")
    return DTYPES[name]


def synchronize(device: torch.device | str) -> None:
    """Wait for the queued GPU work of ``device`` (nothing to wait for on the CPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def rank_and_world(group: dist.ProcessGroup | None = None) -> tuple[int, int]:
    """(rank, size) in ``group`` (the default group when None); (0, 1) without an initialised process group."""
    if not dist.is_available() or not dist.is_initialized():
        return 0, 1
    return dist.get_rank(group), dist.get_world_size(group)


def relative_l2(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample relative L2 error ``‖u - u_ref‖₂ / ‖u_ref‖₂``, shape (batch,), accumulated in float64.

    Differentiable (the operators' default data loss); a zero target's error is ``‖u‖₂ / 1e-30``.
    """
    difference = (prediction.double() - target.double()).flatten(1).norm(dim=1)
    return difference / target.double().flatten(1).norm(dim=1).clamp_min(1e-30)
