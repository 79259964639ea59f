"""Wall-clock timing that waits for the GPU: shared by the benchmark scripts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from pdesolve.runtime import synchronize


def timed(function: Callable[[], Any], device: torch.device) -> tuple[Any, float]:
    """``(function(), seconds)`` with the device synchronised before and after."""
    synchronize(device)
    start = time.perf_counter()
    value = function()
    synchronize(device)
    return value, time.perf_counter() - start
