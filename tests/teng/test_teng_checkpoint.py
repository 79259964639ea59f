"""Checkpoints: an interrupted run resumed from its checkpoint ends exactly where an uninterrupted one does."""

import pytest
import torch

from pdesolve.errors import PdesolveError
from pdesolve.problem import Interval, Periodic, Problem, d, pi, sin
from pdesolve.solvers import Settings
from pdesolve.teng import TengSolver

OPTIONS = {
    "scheme": "heun",
    "dt": 0.01,
    "n_points": 64,
    "width": 10,
    "depth": 2,
    "param_subset": 150,  # random subsets: the generator state must be restored too
    "param_subset_later": 120,
    "init_adam_steps": 100,
    "init_lr": 1e-2,
    "init_iterations": 10,
    "iterations": 3,
    "corrector_iterations": 2,
}


def problem(t1: float) -> Problem:
    return Problem(
        "heat1d",
        Interval(0, 2 * pi),
        rhs=lambda u, x, p: p.nu * d(u, "x", 2),
        time=(0.0, t1),
        initial=lambda x, p: sin(x.x),
        boundary=Periodic(),
        params={"nu": 0.1},
    )


def test_resume_continues_bitwise(tmp_path):
    path = tmp_path / "run.pt"
    whole = TengSolver(Settings(), **OPTIONS).solve(problem(0.06))
    TengSolver(Settings(), **OPTIONS, checkpoint_every=1, checkpoint_path=str(path)).solve(problem(0.03))
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]  # no temporary file left
    resumed = TengSolver(Settings(), **OPTIONS, resume=str(path)).solve(problem(0.06))
    assert resumed.stats["steps"] == 6 and len(resumed.stats["step_seconds"]) == 6
    assert torch.equal(resumed.thetas, whole.thetas)


def test_resume_refuses_other_shaping_options(tmp_path):
    path = tmp_path / "run.pt"
    short = problem(0.01)
    TengSolver(Settings(), **OPTIONS, checkpoint_every=1, checkpoint_path=str(path)).solve(short)
    with pytest.raises(PdesolveError, match="width"):
        TengSolver(Settings(), **{**OPTIONS, "width": 8}, resume=str(path)).solve(problem(0.02))
    with pytest.raises(PdesolveError, match="TENG checkpoint .* does not exist"):
        TengSolver(Settings(), **OPTIONS, resume=str(tmp_path / "missing.pt")).solve(short)
