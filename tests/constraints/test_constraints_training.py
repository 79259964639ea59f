"""Training FNO backbones with soft, hard and mixture-of-experts constraints, and ``pdesolve train constrained``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from constraints_helpers import HEAT_FAMILY, heat
from helpers import ctrl_c_at

import pdesolve.cli
from pdesolve.constraints import training
from pdesolve.constraints.training import (
    ConstrainedOperator,
    ConstraintConfig,
    ConstraintData,
    checkpoint_of,
    train_hard_constrained,
)
from pdesolve.operators.dataset import load_dataset
from pdesolve.problem import Grid, load_problem


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


def test_blended_experts_with_interface_rows_train():
    """Experts on overlapping subdomains, closed by interface rows and blended: the backbone has one more channel
    (the interface values) and the physics loss falls by 30 %, as for the paper's mixture above."""
    grid = Grid((0.0,), (1.0,), (12,), periodic=(True,))
    train, test = heat_trajectories(8, 12, 4, 0), heat_trajectories(4, 12, 4, 1)
    config = ConstraintConfig(
        "moe", experts=2, basis=4, points=None, levels=4, ridge=1e-6, epochs=20, batch_size=4, lr=1e-2,
        modes=3, width=8, layers=1, data_weight=0.0, interfaces=True, overlap=0.5, blend=True,
    )  # fmt: skip
    result = train_hard_constrained(heat(), grid, train, test, config)
    assert result.model.fno(torch.zeros(1, 1, 4, 12)).shape[1] == 5  # 4 basis functions and the interface values
    assert result.train_loss[-1] < 0.7 * result.train_loss[0] and np.isfinite(result.test_error)


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


def test_unconverged_solves_are_counted_and_left_out_of_the_gradient():
    """One LM iteration never confirms convergence: every sample is counted and left out of the gradient, so
    the model stays as initialised; without the safeguard it moves."""
    grid = Grid((0.0,), (1.0,), (12,), periodic=(True,))
    train = heat_trajectories(8, 12, 4, 0)
    common = dict(basis=4, points=None, levels=4, ridge=1e-6, batch_size=4, lr=1e-2, modes=3, width=8, layers=1)
    initial = train_hard_constrained(heat(), grid, train, None, ConstraintConfig("hard", epochs=0, **common))
    for skip in (True, False):
        capped = ConstraintConfig("hard", epochs=2, lm_iterations=1, skip_unconverged=skip, **common)
        result = train_hard_constrained(heat(), grid, train, None, capped)
        assert result.unconverged == [8, 8]
        moved = max(float((value - initial.model.state_dict()[name]).abs().max())
                    for name, value in result.model.state_dict().items())  # fmt: skip
        assert moved == 0.0 if skip else moved > 1e-3
    solved = train_hard_constrained(heat(), grid, train, None, ConstraintConfig("hard", epochs=2, **common))
    assert solved.unconverged == [0, 0]


def test_the_model_keeps_the_epoch_of_lowest_training_loss():
    """At a learning rate that overshoots, the first epoch has the lowest loss: the model returned is the one
    after that epoch (the first epoch's learning rate does not depend on the cosine schedule's length)."""
    grid = Grid((0.0,), (1.0,), (12,), periodic=(True,))
    train = heat_trajectories(8, 12, 4, 0)
    common = dict(batch_size=4, lr=1.0, modes=3, width=8, layers=1, points=None, levels=4)
    result = train_hard_constrained(heat(), grid, train, None, ConstraintConfig("soft", epochs=3, **common))
    first = train_hard_constrained(heat(), grid, train, None, ConstraintConfig("soft", epochs=1, **common))
    assert result.kept_epoch == int(np.argmin(result.train_loss)) == 0
    for name, value in result.model.state_dict().items():
        torch.testing.assert_close(value, first.model.state_dict()[name], rtol=0, atol=0, msg=name)
    last = train_hard_constrained(
        heat(), grid, train, None, ConstraintConfig("soft", epochs=3, keep_best=False, **common)
    )
    assert last.kept_epoch == 2 and last.train_loss == result.train_loss


def test_an_interrupted_constrained_run_resumes_to_the_uninterrupted_model(tmp_path, monkeypatch):
    """Ctrl-C after epoch 2 of 3, then ``resume``: the losses, the kept epoch and every parameter equal those of
    the run never interrupted (the checkpoint holds the batch order's generator and the best epoch's weights)."""
    grid = Grid((0.0,), (1.0,), (12,), periodic=(True,))
    train = heat_trajectories(8, 12, 4, 0)
    config = ConstraintConfig(
        "moe", experts=2, basis=4, points=None, levels=4, ridge=1e-6, epochs=3, batch_size=4, lr=1e-2,
        modes=3, width=8, layers=1,
    )  # fmt: skip
    straight = train_hard_constrained(heat(), grid, train, None, config)

    path = tmp_path / "checkpoint.pt"
    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(training, "Progress", ctrl_c_at(2))
        train_hard_constrained(heat(), grid, train, None, config, checkpoint=checkpoint_of(path, heat(), config, 10))
    resumed = train_hard_constrained(
        heat(), grid, train, None, config, checkpoint=checkpoint_of(path, heat(), config, 10, resume=True)
    )
    assert resumed.train_loss == straight.train_loss and resumed.kept_epoch == straight.kept_epoch
    for name, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name


def test_pdesolve_train_with_a_mixture_of_experts_constraint(tmp_path, capsys):
    problem_file = tmp_path / "heat_family_hc.py"
    problem_file.write_text(HEAT_FAMILY)
    data, out = tmp_path / "data", tmp_path / "run"
    common = ["--device", "cpu", "--seed", "0"]
    assert pdesolve.cli.main(["dataset", str(problem_file), "--samples", "6", "--resolution", "12",
                              "--workers", "1", "--out", str(data), *common]) == 0  # fmt: skip
    run = [
        "train", "constrained", str(problem_file), "--data", str(data), "--constraint", "moe", "--experts", "2",
        "--basis", "3", "--time-levels", "4", "--epochs", "1", "--batch-size", "2", "--modes", "3", "--width", "8",
        "--layers", "1",
    ]  # fmt: skip
    code = pdesolve.cli.main([*run, "--out", str(out), *common])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["constraint"] == "moe" and np.isfinite(metrics["test_error"])
    assert "moe constraint" in capsys.readouterr().out
    saved = torch.load(out / "constrained_model.pt", weights_only=True)  # the model, ready to load again
    config = ConstraintConfig(**saved["config"])
    assert (config.constraint, config.basis, config.levels, config.width, config.modes) == ("moe", 3, 4, 8, 3)
    dataset = load_dataset(data, load_problem(str(problem_file)))
    spec = dataset.spec
    grid = Grid(tuple(spec.lower), tuple(spec.upper), tuple(spec.grid_shape), tuple(spec.periodic), method="spectral")
    model = ConstrainedOperator(load_problem(str(problem_file)), grid, config, None, 1, list(spec.inputs))
    inputs = torch.as_tensor(dataset.inputs[:2], dtype=torch.float32)
    untrained = model(inputs).detach()
    model.load_state_dict(saved["state"])  # strict: every trained tensor, of the shape the config builds
    u = model(inputs).detach()
    assert u.shape == untrained.shape and u.shape[:2] == (2, 4) and torch.isfinite(u).all()
    assert (u - untrained).abs().max() > 1e-3 * u.abs().max()  # the saved weights are not a fresh model's
    resume = [*run, "--out", str(out), "--resume", *common]  # the checkpoint of the last epoch is kept beside
    assert pdesolve.cli.main([*resume, "--basis", "4"]) == 2  # another model shape: refused in one line
    assert capsys.readouterr().err.strip() == (
        f"pdesolve: error: --resume: training checkpoint {out / 'checkpoint.pt'} was made for basis 3, not 4: "
        "it cannot resume this run"
    )
    checkpoint = out / "checkpoint.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])
    assert pdesolve.cli.main(resume) == 2
    assert "cannot be read (truncated or not a torch file)" in capsys.readouterr().err
    blended = ["--interfaces", "--overlap", "0.5", "--blend"]
    assert pdesolve.cli.main([*run, "--out", str(tmp_path / "blended"), *blended, *common]) == 0
    config = json.loads((tmp_path / "blended" / "metrics.json").read_text())["config"]
    assert config["interfaces"] and config["blend"] and config["overlap"] == 0.5
    assert pdesolve.cli.main([*run, "--out", str(tmp_path / "bad"), "--blend", *common]) == 2
    assert "overlapping subdomains" in capsys.readouterr().err
