"""Divergence beyond NaN: each iterative family stops on its own progress measure with one line (exit 2)."""

from __future__ import annotations

import math

import pytest
import torch
from fault_helpers import one_line, run

from pdesolve.divergence import DivergenceMonitor
from pdesolve.errors import DivergenceError
from pdesolve.operators.fno import FNO
from pdesolve.operators.training import TrainConfig, train

TINY_PINN = [
    "--set",
    "preset=manual",
    "--set",
    "n_interior=64",
    "--set",
    "width=8",
    "--set",
    "depth=1",
    "--set",
    "lbfgs_steps=0",
]
TINY_TENG = [
    *("--set", "n_points=256", "--set", "width=8", "--set", "depth=2"),
    *("--set", "init_adam_steps=20", "--set", "init_iterations=10", "--set", "dt=2.0"),
]


def test_the_monitor_stops_on_growth_and_on_non_finite_values_not_on_noise():
    monitor = DivergenceMonitor("the loss", "lower lr")
    for step, value in enumerate([2.0, 5.0, 1e3, 1e6]):  # noisy but within 1e6 of the start
        monitor.update(value, step)
    with pytest.raises(DivergenceError, match=r"the loss grew from 2 to 3e\+06 .* by step 4: the run diverges; lower"):
        monitor.update(3e6, 4)
    with pytest.raises(DivergenceError, match="became nan at epoch 3"):
        DivergenceMonitor("x", "y").update(math.nan, "epoch 3")
    quiet = DivergenceMonitor("x", "y", start=0.0)  # a zero start measures growth from the first positive value
    quiet.update(1e-20, 1)
    assert quiet.start == 1e-20


def test_pinn_with_a_huge_learning_rate_stops_instead_of_reporting_success(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["solve", "burgers1d", "--solver", "pinn", "--set", "lr=1e20", "--set", "adam_steps=30", *TINY_PINN]
    line = one_line(run(capsys, *argv, "--out", tmp_path / "a"), "PINN training diverged", "grew from", "lower lr")
    assert "no checkpoint was written (set checkpoint_every)" in line
    # checkpoints due every 1000 steps: none written yet, and the message does not ask to set the option
    line = one_line(run(capsys, *argv, "--set", "checkpoint_every=1000", "--out", tmp_path / "b"), "diverged")
    assert "first was due at step 1000" in line and "set checkpoint_every" not in line
    # a checkpoint every step: the first update already diverged, so no checkpoint of it is written
    one_line(run(capsys, *argv, "--set", "checkpoint_every=1", "--out", tmp_path / "c"), "first was due at step 1")
    assert not list(tmp_path.rglob("*.pt"))


def test_teng_warns_when_its_steps_miss_their_tolerance_and_stops_when_asked(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(capsys, "solve", "heat2d", "--solver", "teng", *TINY_TENG, "--out", tmp_path / "warn")
    assert result.code == 0, result.err
    warnings = [line for line in result.err_lines if line.startswith("pdesolve: warning: TENG step 1 ")]
    assert len(warnings) == 1 and "above miss_factor × tol = 1e-06" in warnings[0], result.err
    stop = run(capsys, "solve", "heat2d", "--solver", "teng", *TINY_TENG, "--set", "stop_on_miss=true")
    one_line(stop, "TENG step 1 (t = 2)", "lower dt")


def test_an_exploding_operator_training_loss_stops_with_the_last_good_checkpoint_kept(tmp_path):
    torch.manual_seed(0)
    inputs, outputs = torch.randn(8, 1, 8, 8), torch.randn(8, 1, 8, 8)
    model = FNO(2, 1, modes=3, width=4, layers=1, projection=8)
    config = TrainConfig(epochs=20, batch_size=4, lr=1e-3, weight_decay=0.0, checkpoint_every=1, progress=False)

    def blow_up(epoch: int, result) -> None:  # after the third epoch's checkpoint, the weights explode
        if epoch == 2:
            with torch.no_grad():
                for parameter in model.parameters():
                    parameter.mul_(1e4)

    with pytest.raises(DivergenceError, match="the training loss grew from .* by epoch 4.*lower --lr; the last good"):
        train(model, (inputs, outputs), (inputs, outputs), config, checkpoint_dir=tmp_path, callback=blow_up)
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["run"]["epoch"] == 3
