"""Trajectory data and the autoregressive FNO: deterministic data at the requested times, a rollout that
trains and has the right shape, errors measured against the stored trajectory, pairs-only models refused."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from pdesolve.classical.spectral import SpectralSolver
from pdesolve.errors import PdesolveError
from pdesolve.operators.dataset import generate_dataset, load_dataset
from pdesolve.operators.model_file import load_model
from pdesolve.operators.pipeline import build_model, train_operator
from pdesolve.operators.rollout import Rollout, predict, rollout_errors, rollout_loss
from pdesolve.operators.solver import FNOSolver
from pdesolve.operators.training import TrainConfig
from pdesolve.operators.trajectories import history_and_future, parse_times
from pdesolve.problem import load_problem
from pdesolve.solvers.base import Settings

TIMES = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
HISTORY = 2
TINY = {"modes": 4, "width": 8, "layers": 2, "projection": 16}


@pytest.fixture(scope="module")
def problem():
    """The FNO paper's Navier–Stokes (ν = 1e-3) on 16² nodes with steps of 0.05 (cheap, still accurate)."""
    ns = load_problem("navier_stokes2d")
    return replace(ns, defaults={**ns.defaults, "dt": 0.05})


@pytest.fixture(scope="module")
def trajectories(problem, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ns") / "data"
    generate_dataset(problem, folder, 12, 16, seed=0, solver="spectral", workers=1, shard_size=6, times=TIMES)
    return folder, load_dataset(folder, problem)


@pytest.fixture(scope="module")
def trained(problem, trajectories):
    folder, data = trajectories
    train, test = data.split(4)
    config = TrainConfig(epochs=15, batch_size=4, lr=1e-2, weight_decay=0.0, progress=False)
    model, result, card = train_operator(problem, train, test, config, out=folder.parent / "run", architecture=TINY,
                                         history=HISTORY)  # fmt: skip
    return model, result, card, folder.parent / "run" / "model.pt"


def test_times_parse_like_a_range_or_a_list():
    assert parse_times("1:51:1") == tuple(float(t) for t in range(1, 51))
    assert parse_times("0.5,1,2") == (0.5, 1.0, 2.0)
    for bad in ("1:5:0", "3,2", "x", "1"):
        with pytest.raises(PdesolveError, match="--times"):
            parse_times(bad)


def test_trajectory_data_are_deterministic_at_the_requested_times(problem, trajectories, tmp_path):
    folder, data = trajectories
    assert data.spec.times == TIMES and data.outputs.shape == (12, len(TIMES), 16, 16)
    assert data.inputs.shape == (12, 1, 16, 16)  # w(0), as for pairs
    assert '"times": [' in (folder / "dataset.json").read_text()
    again = tmp_path / "again"  # two worker processes, one shard each: the same bits
    generate_dataset(problem, again, 12, 16, seed=0, solver="spectral", workers=2, shard_size=6, times=TIMES)
    assert np.array_equal(load_dataset(again).outputs, data.outputs)
    (again / "shard_00001.npz").unlink()  # interrupted: the rerun redoes only the missing shard
    generate_dataset(problem, again, 12, 16, seed=0, solver="spectral", workers=1, shard_size=6, times=TIMES)
    assert np.array_equal(load_dataset(again).outputs, data.outputs)
    # sample 7 is member 7 solved on its own by the spectral solver, read at the times
    member = replace(problem.sample(7), time=(0.0, 3.0))
    alone = SpectralSolver(Settings(), n=16, outputs=6).solve(member).values[1:]
    assert np.abs(data.outputs[7] - alone).max() < 1e-6 * np.abs(alone).max()
    assert np.abs(data.outputs[7, -1] - data.outputs[7, 0]).max() > 0.01  # the flow moves between the times
    with pytest.raises(PdesolveError, match="differs in times"):
        generate_dataset(problem, again, 12, 16, seed=0, solver="spectral", workers=1, shard_size=6, times=TIMES[:3])


def test_a_tiny_autoregressive_fno_trains_and_rolls_out(trajectories, trained):
    _, data = trajectories
    model, result, card, path = trained
    steps = len(TIMES) - HISTORY
    assert isinstance(model, Rollout) and model.steps == steps
    assert result.train_loss[-1] < 0.35 * result.train_loss[0]  # summed over 4 steps: starts near 4
    assert result.test_error[0] > 0.9 and result.final_test_error < 0.5  # over the predicted trajectory (0.27 measured)
    window, future = (torch.as_tensor(part) for part in history_and_future(data.outputs[-4:], HISTORY))
    prediction = predict(model, window)
    assert prediction.shape == future.shape == (4, steps, 16, 16)
    assert card["rollout"] == {"history": HISTORY, "steps": steps, "times": list(TIMES)}
    assert card["test_error"] == pytest.approx(rollout_errors(prediction, future)["trajectory_relative_l2"], rel=1e-5)
    loaded, _ = load_model(path)
    assert isinstance(loaded, Rollout) and torch.equal(predict(loaded, window), prediction)
    assert predict(model, window[:1]).shape[1] == steps and model(window[:1], steps=7).shape == (1, 7, 16, 16)


def test_rollout_errors_and_loss_per_step():
    target = torch.rand(3, 5, 8, 8) + 1.0
    prediction = target * 1.1  # 10 % off at every step
    errors = rollout_errors(prediction, target)
    assert errors["trajectory_relative_l2"] == pytest.approx(0.1, rel=1e-5)
    assert errors["final_relative_l2"] == pytest.approx(0.1, rel=1e-5)
    assert rollout_loss(prediction, target) == pytest.approx(torch.full((3,), 0.5), rel=1e-5)  # summed over 5


def test_the_fno_solver_measures_the_rollout_against_the_stored_trajectory(problem, trajectories, trained):
    _, data = trajectories
    model, _, _, path = trained
    solution = FNOSolver(model=str(path)).solve(problem)  # its own member (seed 0): sample 0
    assert solution.values.shape == (len(TIMES) - HISTORY, 16, 16)
    assert np.allclose(solution.times, TIMES[HISTORY:])
    window, future = (torch.as_tensor(part) for part in history_and_future(data.outputs[:1], HISTORY))
    expected = rollout_errors(predict(model, window), future)
    for key in ("trajectory_relative_l2", "final_relative_l2"):
        assert solution.stats[key] == pytest.approx(expected[key], rel=1e-4)
    assert solution.stats["classical_seconds"] > 0 and solution.stats["iterations"] == len(TIMES) - HISTORY


def test_trajectory_data_are_refused_by_a_single_output_model(trajectories):
    _, data = trajectories
    with pytest.raises(PdesolveError, match="holds trajectories .* single-output"):
        build_model(data)
