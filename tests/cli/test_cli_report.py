"""Errors against a reference, peak memory and the table's formatting."""

from __future__ import annotations

import mmap
import time

import numpy as np
import pytest

from pdesolve.errors import DivergenceError, ProblemError
from pdesolve.report import progress
from pdesolve.report.memory import PeakMemory
from pdesolve.report.metrics import Reference, solution_errors
from pdesolve.report.table import format_bytes, format_seconds, markdown_table, text_table


class Line:
    """u(x) = 2x, with NaN where x > ``undefined_above``."""

    def __init__(self, undefined_above: float = np.inf) -> None:
        self.undefined_above = undefined_above

    def __call__(self, points):
        return np.where(points[:, 0] > self.undefined_above, np.nan, 2 * points[:, 0])


def test_errors_drop_nan_reference_points():
    points = np.linspace(0, 1, 5)[:, None]
    values = np.array([0.0, 0.25, np.nan, 0.75, 1.0])  # u_ref = x, NaN at x = 0.5
    reference = Reference.clean(points, values, "data")
    assert len(reference.points) == 4
    errors = solution_errors(Line(), reference)
    kept = np.array([0.0, 0.25, 0.75, 1.0])
    assert np.isclose(errors["rel_l2"], np.linalg.norm(kept) / np.linalg.norm(kept))  # 2x - x = x
    assert np.isclose(errors["max_abs"], 1.0) and errors["points"] == 4


def test_errors_where_the_solution_is_undefined():
    reference = Reference.clean(np.linspace(0, 1, 5)[:, None], np.linspace(0, 1, 5), "exact")
    errors = solution_errors(Line(undefined_above=0.6), reference)
    assert errors["points"] == 3 and errors["points_undefined"] == 2 and np.isclose(errors["max_abs"], 0.5)
    with pytest.raises(DivergenceError):
        solution_errors(Line(undefined_above=-1.0), reference)
    with pytest.raises(ProblemError, match="no finite values"):
        Reference.clean(np.zeros((2, 1)), np.full(2, np.nan), "data")


def test_peak_memory_sees_a_large_array():
    with PeakMemory("cpu", interval=0.001) as memory:
        block = mmap.mmap(-1, 40_000_000)  # 40 MB of fresh pages (malloc could reuse resident memory), touched
        np.frombuffer(block, dtype=np.uint8)[:] = 1
        deadline = time.monotonic() + 10.0  # held until the sampling thread has run (it may lag on a loaded machine)
        while memory._peak - memory._start < 30e6 and time.monotonic() < deadline:
            time.sleep(0.005)
        block.close()
    assert 30e6 < memory.cpu_bytes < 200e6 and memory.cuda_bytes is None
    assert memory.peak_bytes == memory.cpu_bytes


def test_table_formatting():
    assert [format_seconds(s) for s in (2e-5, 0.0123, 4.567, 1200.0, None)] == [
        "20 µs",
        "12.3 ms",
        "4.57 s",
        "20.0 min",
        "—",
    ]
    assert [format_bytes(b) for b in (512, 2048, 3 * 2**20, 5 * 2**30, None)] == [
        "512 B",
        "2.0 KiB",
        "3.0 MiB",
        "5.0 GiB",
        "—",
    ]
    records = [
        {
            "solver": "fd",
            "alias": "classical",
            "options": {"n": 65},
            "rel_l2": 1.5e-4,
            "max_abs": 2e-4,
            "wall_time_s": 0.5,
            "iterations": None,
            "peak_memory_bytes": 2**20,
        },
        {"solver": "pinn", "options": {}, "failed": "out of CUDA memory"},
    ]
    text = text_table(records).splitlines()
    assert text[2].split() == [
        "classical",
        "(fd)",
        "n=65",
        "1.500e-04",
        "2.000e-04",
        "—",
        "—",
        "500.0",
        "ms",
        "—",
        "1.0",
        "MiB",
    ]
    assert text[3].split()[:3] == ["pinn", "defaults", "failed"]
    assert text[-1] == "failed: pinn (defaults): out of CUDA memory"
    assert (
        markdown_table(records).splitlines()[2]
        == "| classical (fd) | n=65 | 1.500e-04 | 2.000e-04 | — | — | 500.0 ms | — | 1.0 MiB |"
    )


def test_peak_memory_on_cuda_reads_the_allocator(monkeypatch):
    """The CUDA branch, with torch.cuda's counters stood in for (no GPU in CI)."""
    import torch

    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(("sync", device)))
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda device=None: calls.append(("reset", device)))
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: 100)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: 4100)
    with PeakMemory("cuda:0") as memory:
        pass
    assert memory.cuda_bytes == 4000 and memory.peak_bytes == 4000
    assert calls == [("sync", "cuda:0"), ("reset", "cuda:0"), ("sync", "cuda:0")]


def test_progress_on_a_pipe_is_a_line_every_few_seconds_and_nothing_for_a_short_run(monkeypatch, capsys):
    monkeypatch.setattr(progress, "interactive", lambda stream: False)  # capsys: a pipe, not a terminal
    monkeypatch.setattr(progress, "PIPED_EVERY_S", 60.0)
    bar = progress.progress_bar(True, total=3, desc="pinn ngd")
    for _ in range(3):
        bar.update()
    bar.close()
    assert capsys.readouterr().err == ""  # shorter than PIPED_EVERY_S: silent

    monkeypatch.setattr(progress, "PIPED_EVERY_S", 0.05)
    bar = progress.progress_bar(True, total=8, desc="pinn ngd")
    for _ in range(8):
        time.sleep(0.03)
        bar.update()
    bar.close()
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "\r" not in err and 1 <= len(lines) <= 8 and all(line.startswith("pinn ngd: ") for line in lines)
    assert lines[-1].split("|")[-1].split()[0] in {f"{k}/8" for k in range(2, 9)}

    outer = progress.progress_bar(True, total=1, desc="compare")  # a bar inside another: no cursor moves
    inner = progress.progress_bar(True, total=4, desc="pinn ngd")
    for _ in range(4):
        time.sleep(0.03)
        inner.update()
    inner.close(), outer.close()
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.splitlines() and all(line.startswith("pinn ngd: ") for line in err.splitlines())

    quiet = progress.progress_bar(False, total=8)
    quiet.update(8)
    quiet.close()
    assert capsys.readouterr().err == ""
