"""Atomic writes, metrics.json and run-folder naming."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

from pdesolve.errors import PdesolveError
from pdesolve.io import export
from pdesolve.io.claim import MARKER, claim, claimed
from pdesolve.io.run_folder import (
    atomic_write,
    atomic_write_text,
    default_folder,
    jsonable,
    read_metrics,
    write_metrics,
)


class CrashError(Exception):
    pass


def half_then_crash(path):
    path.write_text('{"rel_l2": 0.0')  # a truncated JSON document
    raise CrashError


def test_a_failed_write_leaves_no_new_file(tmp_path):
    target = tmp_path / "metrics.json"
    with pytest.raises(CrashError):
        atomic_write(target, half_then_crash)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = atomic_write_text(tmp_path / "report.md", "old report\n")
    with pytest.raises(CrashError):
        atomic_write(target, half_then_crash)
    assert target.read_text() == "old report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_an_interrupted_npz_is_never_in_place(tmp_path, monkeypatch, grid_solution_2d):
    def interrupted(path, **arrays):
        path.write_bytes(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(export.np, "savez_compressed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export.save_npz(grid_solution_2d, tmp_path / "solution.npz")
    assert list(tmp_path.iterdir()) == []


def test_metrics_round_trip_with_numpy_values_and_nan(tmp_path):
    metrics = {
        "rel_l2": np.float32(0.5),
        "iterations": np.int64(7),
        "u": np.arange(3),
        "bad": float("nan"),
        "t": (1, 2),
    }
    write_metrics(tmp_path, metrics)
    assert read_metrics(tmp_path) == {"rel_l2": 0.5, "iterations": 7, "u": [0, 1, 2], "bad": None, "t": [1, 2]}
    assert jsonable({"path": tmp_path}) == {"path": str(tmp_path)}


def test_read_metrics_errors(tmp_path):
    with pytest.raises(PdesolveError, match="no metrics.json"):
        read_metrics(tmp_path)
    (tmp_path / "metrics.json").write_text('{"rel_l2": ')
    with pytest.raises(PdesolveError, match="not valid JSON"):
        read_metrics(tmp_path)


def test_folders(tmp_path):
    held = claim(default_folder("heat2d", "fd", root=tmp_path), "solve")
    first = held.path
    second = default_folder("heat2d", "fd", root=tmp_path)
    assert first.name.startswith("heat2d-fd-") and second != first and not second.exists()
    with pytest.raises(PdesolveError, match="in use by another pdesolve run"):
        claim(first, "solve")
    write_metrics(first, {"done": True})
    held.release()
    with pytest.raises(PdesolveError, match="already holds a finished pdesolve solve run"):
        claim(first, "solve")
    (tmp_path / "file").write_text("x")
    with pytest.raises(PdesolveError, match="is a file"):
        claim(tmp_path / "file", "solve")
    assert json.loads((first / "metrics.json").read_text()) == {"done": True}


def test_a_foreign_folder_is_refused_and_an_empty_one_taken(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "solution.npz").write_text("the user's")
    with pytest.raises(PdesolveError, match=r"files pdesolve did not write \(solution.npz\)"):
        claim(tmp_path / "mine", "solve")
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["solution.npz"]
    (tmp_path / "empty").mkdir()
    claim(tmp_path / "empty", "solve").release()
    assert [p.name for p in (tmp_path / "empty").iterdir()] == [MARKER]


def test_a_failed_run_removes_the_folder_it_made(tmp_path):
    with pytest.raises(CrashError), claimed(tmp_path / "run", "solve"):
        raise CrashError
    assert not (tmp_path / "run").exists()
    with pytest.raises(CrashError), claimed(tmp_path / "kept", "solve") as folder:
        (folder / "checkpoint.pt").write_text("last good state")
        raise CrashError
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == [MARKER, "checkpoint.pt"]


def test_reentering_needs_the_commands_consent(tmp_path):
    claim(tmp_path / "data", "dataset").release()
    claim(tmp_path / "data", "dataset", lambda previous: None).release()
    with pytest.raises(PdesolveError, match="pdesolve dataset run \\(pass --resume\\)"):
        claim(tmp_path / "data", "train", lambda previous: "pass --resume")


def test_an_out_that_cannot_be_created_is_one_line(tmp_path):
    with pytest.raises(PdesolveError, match="cannot be created"):
        claim("/proc/pdesolve-run", "solve")


def test_atomic_files_get_the_umask_permissions(tmp_path):
    previous = os.umask(0o027)
    try:
        target = atomic_write_text(tmp_path / "report.md", "x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
