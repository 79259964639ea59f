"""Peak memory of a block of code: resident set size on the CPU, allocated memory on CUDA.

The CPU figure is the peak increase of the resident set size over its value at the start, sampled
from ``/proc/self/statm`` by a background thread (every ``interval`` seconds; short spikes between
samples can be missed). Where ``/proc`` does not exist the process's lifetime maximum
(``getrusage``) stands in, which gives a lower bound. On CUDA the figure is
``torch.cuda.max_memory_allocated`` minus the memory allocated at the start.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
from types import TracebackType

STATM = "/proc/self/statm"


def resident_bytes() -> int | None:
    """The current resident set size, or None where ``/proc/self/statm`` is unavailable."""
    try:
        with open(STATM, encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def lifetime_max_resident() -> int:
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


class PeakMemory:
    """``with PeakMemory("cuda") as m: ...`` then ``m.cpu_bytes``, ``m.cuda_bytes`` (None off CUDA)."""

    def __init__(self, device: str = "cpu", interval: float = 0.005) -> None:
        self.device = device
        self.interval = interval
        self.cpu_bytes = 0
        self.cuda_bytes: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = 0
        self._peak = 0
        self._cuda_start = 0

    @property
    def uses_cuda(self) -> bool:
        return self.device.startswith("cuda")

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._peak = max(self._peak, resident_bytes() or 0)

    def __enter__(self) -> PeakMemory:
        if self.uses_cuda:
            import torch

            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._cuda_start = torch.cuda.memory_allocated(self.device)
        start = resident_bytes()
        if start is None:
            self._start = lifetime_max_resident()
        else:
            self._start = self._peak = start
            self._thread = threading.Thread(target=self._sample, name="pdesolve-peak-memory", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            peak = max(self._peak, resident_bytes() or 0)
        else:
            peak = lifetime_max_resident()
        self.cpu_bytes = max(0, peak - self._start)
        if self.uses_cuda and kind is None:
            import torch

            torch.cuda.synchronize(self.device)
            self.cuda_bytes = max(0, torch.cuda.max_memory_allocated(self.device) - self._cuda_start)

    @property
    def peak_bytes(self) -> int:
        """The figure that matters for the device the run used."""
        return self.cuda_bytes if self.cuda_bytes is not None else self.cpu_bytes
