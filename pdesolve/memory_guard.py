"""A memory estimate before a large allocation, checked against what the device has free.

A solver that is about to assemble a matrix, factorise it, allocate dense grids or a dense Jacobian,
or load a data set calls :func:`require` with its estimate; a request above ``HEADROOM`` of the free
memory is refused at once with one line naming the size and a smaller setting, instead of growing
until the machine swaps or the kernel kills the process. Free memory: ``MemAvailable`` of
``/proc/meminfo`` (``os.sysconf`` where there is no ``/proc``) on the host, ``torch.cuda.mem_get_info``
on CUDA. ``PDESOLVE_MEMORY_LIMIT`` (bytes, or with a K/M/G suffix) caps the free figure, for tests and
for shared machines.

The estimates are per-unknown figures measured on this code (peak resident memory of a solve over
its unknowns, ``pdesolve.report.memory.PeakMemory``): coarse, within a factor of about two.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from pdesolve.errors import PdesolveError

HEADROOM = 0.8  # refuse a request above this fraction of the free memory
LIMIT_VARIABLE = "PDESOLVE_MEMORY_LIMIT"
SUFFIXES = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


class MemoryRequestError(PdesolveError):
    """A run would need more memory than the device has free."""


def host_available() -> int | None:
    """``MemAvailable`` of ``/proc/meminfo`` in bytes, else free pages × page size, else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _limit() -> int | None:
    text = os.environ.get(LIMIT_VARIABLE, "").strip().upper().removesuffix("B")
    if not text:
        return None
    suffix = text[-1] if text[-1] in SUFFIXES else ""
    try:
        return int(float(text[: len(text) - len(suffix)]) * SUFFIXES[suffix])
    except ValueError:
        raise PdesolveError(f"{LIMIT_VARIABLE}={os.environ[LIMIT_VARIABLE]!r}: expected bytes, e.g. 8G") from None


def available_bytes(device: str = "cpu") -> int | None:
    """Free memory of ``device`` (cpu or cuda[:k]) in bytes, capped by ``PDESOLVE_MEMORY_LIMIT``; None if unknown."""
    free: int | None
    if str(device).startswith("cuda") and "torch" in sys.modules:
        import torch

        free = int(torch.cuda.mem_get_info(torch.device(device))[0]) if torch.cuda.is_available() else None
    else:
        free = host_available()
    limit = _limit()
    if limit is not None:
        free = limit if free is None else min(free, limit)
    return free


def format_bytes(count: float) -> str:
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count:.0f} bytes"


def require(nbytes: float, what: str, smaller: str, device: str = "cpu") -> None:
    """Refuse (one line, :class:`MemoryRequestError`) when ``nbytes`` exceeds ``HEADROOM`` of the free memory.

    ``what`` says what needs it ("fd on 300³ nodes"), ``smaller`` the setting that needs less ("n=150").
    """
    free = available_bytes(device)
    if free is None or nbytes <= HEADROOM * free:
        return
    where = "the host" if not str(device).startswith("cuda") else device
    raise MemoryRequestError(
        f"{what} needs about {format_bytes(nbytes)} of memory but {where} has {format_bytes(free)} free; "
        f"try a smaller setting ({smaller})"
    )


def require_size(
    option: str, value: int, estimate: Callable[[int], float], what: str, device: str = "cpu", smallest: int = 3
) -> None:
    """:func:`require` for a size option: ``estimate(value)`` bytes; the hint is the largest halving of
    ``value`` (at least ``smallest``) that fits."""
    free = available_bytes(device)
    if free is None or estimate(value) <= HEADROOM * free:
        return
    smaller = value
    while smaller > smallest and estimate(smaller) > HEADROOM * free:
        smaller = max(smallest, smaller // 2)
    require(estimate(value), what, f"{option}={smaller}", device)
