"""Oversized requests are refused before they allocate, with one line naming the size and a smaller setting."""

from __future__ import annotations

import numpy as np
import pytest
from fault_helpers import one_line, run

import pdesolve.classical.fd
from pdesolve.errors import PdesolveError
from pdesolve.memory_guard import LIMIT_VARIABLE, MemoryRequestError, available_bytes, require


def test_fd_refuses_grids_far_beyond_the_free_memory_at_once(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(LIMIT_VARIABLE, "4G")  # the same answer on any machine
    for n, smaller in ((300, "n=75"), (2000, "n=125")):
        line = one_line(
            run(capsys, "solve", "poisson3d", "--solver", "fd", "--set", f"n={n}", "--out", tmp_path / str(n)),
            f"fd with cg solves on {n}^3 nodes needs about",
            "the host has 4 GB free",
            smaller,
        )
        assert "TB" in line or "GB" in line
    assert not (tmp_path / "300").exists() or not any((tmp_path / "300").iterdir())


@pytest.mark.parametrize(
    ("problem", "solver", "words"),
    [
        ("heat2d", "spectral", "spectral on 4096^2 nodes"),
        ("heat2d", "mol", "mol on 4096^2 nodes"),
        ("poisson2d", "cg", "cg's assembly on 4096^2 nodes"),
        ("poisson2d", "fem", "fem P1 with direct solves"),
    ],
)
def test_every_grid_solver_checks_its_footprint(capsys, tmp_path, monkeypatch, problem, solver, words):
    monkeypatch.setenv(LIMIT_VARIABLE, "64M")
    one_line(run(capsys, "solve", problem, "--solver", solver, "--set", "n=4096", "--out", tmp_path / "r"), words)


def test_teng_and_the_gauss_newton_stage_check_their_dense_jacobians(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(LIMIT_VARIABLE, "1G")
    one_line(
        run(capsys, "solve", "heat2d", "--solver", "teng", "--out", tmp_path / "t"), "memory_gb=2", "lower memory_gb"
    )
    monkeypatch.setenv(LIMIT_VARIABLE, "2M")
    argv = ["solve", "poisson2d", "--solver", "pinn", "--set", "adam_steps=0", "--set", "lbfgs_steps=0"]
    argv += ["--set", "ngd_steps=1", "--set", "n_interior=2000", "--out", tmp_path / "p"]
    one_line(run(capsys, *argv), "Gauss–Newton stage's dense Jacobian (2000 residuals", "fewer points")


def test_an_allocation_failure_is_one_line_not_a_traceback(capsys, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        np.empty(2**62, dtype=np.uint8)  # numpy's _ArrayMemoryError, a MemoryError

    monkeypatch.setattr(pdesolve.classical.fd, "assemble", fail)
    line = one_line(run(capsys, "solve", "poisson2d", "--solver", "fd", "--out", tmp_path / "m"), "out of memory")
    assert "Unable to allocate" in line


def test_the_limit_caps_the_free_memory_and_a_bad_limit_is_one_line(monkeypatch):
    assert available_bytes() is not None
    monkeypatch.setenv(LIMIT_VARIABLE, "1.5M")
    assert available_bytes() == int(1.5 * 2**20)
    require(2**20, "a thing", "less")  # within 80 %
    with pytest.raises(MemoryRequestError, match=r"a thing needs about 2 MB of memory .* \(less\)"):
        require(2 * 2**20, "a thing", "less")
    monkeypatch.setenv(LIMIT_VARIABLE, "lots")
    with pytest.raises(PdesolveError, match="expected bytes"):
        available_bytes()
