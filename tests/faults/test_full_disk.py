"""A full disk while writing outputs or checkpoints: one line, exit 2, the previous files intact, no temporaries."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess

import pytest
from fault_helpers import PINN

from pdesolve.io import checkpoint, export


def _no_space() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _torch_save_on_a_full_disk(value, stream) -> None:
    stream.write(b"half a checkpoint")
    raise _no_space()


def _savez_on_a_full_disk(path, **arrays) -> None:
    with open(path, "wb") as handle:
        handle.write(b"half an archive")
    raise _no_space()


def _temporaries(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".tmp" in p.name)


def test_a_full_disk_while_checkpointing(cli, problems, tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint.torch, "save", _torch_save_on_a_full_disk)
    out = tmp_path / "run"
    argv = ["solve", problems["poisson1d"], *PINN, "--set", "adam_steps=3", "--set", "checkpoint_every=1"]
    cli(*argv, "--out", out).one_line(f"cannot write {out / 'checkpoint.pt'}: No space left on device")
    assert _temporaries(out) == [] and not (out / "checkpoint.pt").exists()


def test_a_full_disk_while_writing_the_solution(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(export.np, "savez_compressed", _savez_on_a_full_disk)
    out = tmp_path / "run"
    cli("solve", "poisson2d", "--solver", "fd", "--set", "n=9", "--out", out).one_line(
        f"cannot write {out / 'solution.npz'}: No space left on device"
    )
    assert _temporaries(out) == [] and not (out / "metrics.json").exists()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs (root only; skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_a_really_full_disk(cli, tiny_disk):
    out = tiny_disk / "run"
    line = cli("solve", "poisson2d", "--solver", "fd", "--set", "n=65", "--out", out).one_line("cannot write")
    assert "No space left on device" in line
    assert _temporaries(tiny_disk) == []
