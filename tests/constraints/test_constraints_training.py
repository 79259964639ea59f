"""Training FNO backbones with soft, hard and mixture-of-experts constraints, and the ``pdesolve train`` hook."""

from __future__ import annotations

import json

import numpy as np
import torch
from constraints_helpers import heat

import pdesolve.cli
from pdesolve.constraints.training import ConstraintConfig, ConstraintData, train_hard_constrained
from pdesolve.problem import Grid

HEAT_FAMILY = """
from dataclasses import dataclass
import numpy as np
from pdesolve.problem import Family, Interval, Periodic, Problem, d, sin, pi


@dataclass(frozen=True)
class Amplitude:
    def sample(self, rng):
        return float(rng.uniform(0.5, 1.5))


problem = Problem(
    name="heat_family_hc",
    domain=Interval(0.0, 1.0),
    time=(0.0, 0.2),
    rhs=lambda u, x, p: 0.1 * d(u, "x", 2),
    initial=lambda x, p: p.a * sin(2 * pi * x.x),
    boundary=Periodic(),
    params={"a": 1.0},
    family=Family(a=Amplitude()),
)
"""


def heat_trajectories(samples: int, n: int, levels: int, seed: int) -> ConstraintData:
    """Exact periodic heat solutions sum_k a_k e^{-0.1 (2πk)² t} sin 2πkx on ``levels`` times in [0, 0.5]."""
    x = torch.linspace(0, 1, n + 1)[:-1]
    t = torch.linspace(0, 0.5, levels)
    k = torch.tensor([1.0, 2.0])
    a = torch.randn(samples, 2, generator=torch.Generator().manual_seed(seed))
    decay = torch.exp(-0.1 * (2 * np.pi * k[:, None]) ** 2 * t)
    trajectories = torch.einsum("nk,kt,kx->ntx", a, decay, torch.sin(2 * np.pi * k[:, None] * x))
    return ConstraintData(trajectories[:, :1], trajectories, list(range(levels)))


def test_every_constraint_trains_and_the_hard_ones_learn():
    grid = Grid((0.0,), (1.0,), (12,), periodic=(True,))
    train, test = heat_trajectories(8, 12, 4, 0), heat_trajectories(4, 12, 4, 1)
    errors = {}
    for constraint in ("soft", "hard", "moe"):
        config = ConstraintConfig(
            constraint, experts=2, basis=4, points=None, levels=4, ridge=1e-6, epochs=4, batch_size=4, lr=1e-2,
            modes=3, width=8, layers=1,
        )  # fmt: skip
        result = train_hard_constrained(heat(), grid, train, test, config)
        assert np.isfinite(result.test_error) and len(result.train_loss) == 4
        errors[constraint] = result
    for constraint in ("hard", "moe"):
        assert errors[constraint].train_loss[-1] < errors[constraint].train_loss[0]
    layer = errors["moe"].model.layer
    assert layer.report.converged == 1.0


def test_physics_informed_training_never_sees_the_targets_and_lowers_the_rows():
    """``data_weight = 0`` (the paper's training): the loss is the rows' relative residual of each variant's
    output, so scrambled targets train the same model, and that loss falls (by 30 %: half on a squared scale)."""
    grid = Grid((0.0,), (1.0,), (12,), periodic=(True,))
    train = heat_trajectories(8, 12, 4, 0)
    scrambled = ConstraintData(train.inputs, torch.randn_like(train.targets), train.observed)
    for constraint in ("soft", "moe"):
        config = ConstraintConfig(
            constraint, experts=2, basis=4, points=None, levels=4, ridge=1e-6, epochs=20, batch_size=4, lr=1e-2,
            modes=3, width=8, layers=1, data_weight=0.0,
        )  # fmt: skip
        result = train_hard_constrained(heat(), grid, train, None, config)
        again = train_hard_constrained(heat(), grid, scrambled, None, config)
        assert result.train_loss == again.train_loss
        assert result.train_loss[-1] < 0.7 * result.train_loss[0]


def test_pdesolve_train_with_a_mixture_of_experts_constraint(tmp_path, capsys):
    problem_file = tmp_path / "heat_family_hc.py"
    problem_file.write_text(HEAT_FAMILY)
    data, out = tmp_path / "data", tmp_path / "run"
    common = ["--device", "cpu", "--seed", "0"]
    assert pdesolve.cli.main(["dataset", str(problem_file), "--samples", "6", "--resolution", "12",
                              "--workers", "1", "--out", str(data), *common]) == 0  # fmt: skip
    code = pdesolve.cli.main([
        "train", str(problem_file), "--model", "fno", "--data", str(data), "--constraint", "moe", "--experts", "2",
        "--basis", "3", "--time-levels", "4", "--epochs", "1", "--batch-size", "2", "--modes", "3", "--width", "8",
        "--layers", "1", "--out", str(out), *common,
    ])  # fmt: skip
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["constraint"] == "moe" and np.isfinite(metrics["test_error"])
    assert "moe constraint" in capsys.readouterr().out
    assert (out / "constrained_model.pt").is_file()
