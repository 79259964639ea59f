"""Checkpoints: resuming reproduces an uninterrupted run; a NaN run stops with its checkpoint kept."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from pinn_helpers import POISSON1D_SOURCE, poisson1d

import pdesolve.cli
from pdesolve.errors import DivergenceError
from pdesolve.pinn.checkpoint import load_checkpoint
from pdesolve.pinn.solver import PinnSolver
from pdesolve.problem import d, pi, sin

OPTIONS = {"width": 12, "depth": 2, "n_interior": 24, "hard_constraints": False, "loss_weights": "adaptive"}


def _interrupt(trainer) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize("stop", [20, 35])  # inside Adam, inside L-BFGS
def test_ctrl_c_saves_and_resuming_reproduces_the_uninterrupted_run(tmp_path, problem1d, settings64, stop):
    plan = {"adam_steps": 30, "lbfgs_steps": 15, "resample_every": 10, **OPTIONS}
    full = PinnSolver(settings64, preset="manual", **plan).solve(problem1d)
    path = tmp_path / "run.pt"
    trainer = PinnSolver(settings64, preset="manual", **plan, checkpoint=str(path)).build(problem1d, _interrupt, stop)
    with pytest.raises(KeyboardInterrupt):
        trainer.run()
    assert load_checkpoint(path)["global_step"] == stop
    resumed = PinnSolver(settings64, preset="manual", **plan, resume=str(path)).solve(problem1d)
    assert resumed.stats["steps"] == full.stats["steps"]
    assert math.isclose(resumed.stats["final_loss"], full.stats["final_loss"], rel_tol=1e-10, abs_tol=0)


def _nan_after(calls: int):
    counter = itertools.count()

    def residual(u, x, p):
        bad = next(counter) >= calls
        return -d(u, "x", 2) - pi**2 * sin(pi * x.x) + (float("nan") if bad else 0.0)

    return residual


def test_nan_raises_divergence_and_keeps_the_checkpoint(tmp_path, settings64):
    path = tmp_path / "nan.pt"
    solver = PinnSolver(
        settings64, preset="manual", adam_steps=50, lbfgs_steps=0, checkpoint_every=10, checkpoint=str(path), **OPTIONS
    )
    with pytest.raises(DivergenceError, match="last good checkpoint"):
        solver.solve(poisson1d(_nan_after(15)))
    state = load_checkpoint(path)
    assert state["global_step"] == 10  # the residual turns NaN at step 15
    assert all(bool(torch.isfinite(v).all()) for v in state["model"].values())


def test_nan_exits_with_code_2_through_the_command(tmp_path, capsys, monkeypatch):
    source = POISSON1D_SOURCE.replace("- pi**2 * sin(pi * x.x)", "- pi**2 * sin(pi * x.x) + float('nan')")
    (tmp_path / "bad.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    argv = ["solve", str(tmp_path / "bad.py"), "--solver", "pinn", "--out", str(tmp_path / "run")]
    argv += ["--set", "adam_steps=5", "--set", "lbfgs_steps=0", "--set", "n_interior=8", "--set", "width=4"]
    assert pdesolve.cli.main(argv) == 2
    assert "diverged" in capsys.readouterr().err
