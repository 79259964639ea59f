"""Training: a tiny FNO learns smooth Darcy on CPU, transfers from 32² to 64², resumes exactly from checkpoints."""

from __future__ import annotations

import pytest
import torch

from pdesolve.errors import PdesolveError
from pdesolve.operators.pairs import data_grid
from pdesolve.operators.physics_loss import PhysicsLoss
from pdesolve.operators.pipeline import build_model
from pdesolve.operators.training import TrainConfig, evaluate, learning_rate_schedule, train

SMALL = {"modes": 4, "width": 8, "layers": 2, "projection": 8}


def tensors(dataset):
    return torch.as_tensor(dataset.inputs), torch.as_tensor(dataset.outputs)


def test_a_tiny_fno_learns_smooth_darcy_on_cpu(trained):
    """Measured: training loss 0.43 -> 0.022 over 15 epochs, test error 0.20 after one epoch -> 0.024."""
    result = trained["result"]
    assert result.epochs == len(result.train_loss) == len(result.test_error) == 15
    assert result.train_loss[-1] < 0.2 * result.train_loss[0]
    assert result.test_error[0] > 0.15  # it starts far off ...
    assert result.final_test_error < 0.05  # ... and ends within 5 % (relative L2 on 24 held-out members)
    assert trained["card"]["test_error"] == result.final_test_error


@pytest.mark.parametrize("case", ["trained", "trained_periodic"])
def test_trained_at_32_it_evaluates_at_64_within_twice_its_error(case, request):
    """The same 24 test members solved at 64² (Dirichlet Darcy: zero-padded axes; periodic: none)."""
    data = request.getfixturevalue(case)
    model = data["model"]
    assert data["test64"].inputs.shape[-2:] == (64, 64)
    assert data["test"].spec.seed + len(data["train"].inputs) == data["test64"].spec.seed  # the same members
    error32 = evaluate(model, *tensors(data["test"]))
    error64 = evaluate(model, *tensors(data["test64"]))
    assert error32 == pytest.approx(data["result"].final_test_error, rel=1e-5)
    assert error32 < 0.05
    assert error64 < 2 * error32, (error32, error64)


def test_resume_from_a_checkpoint_continues_exactly(trained, tmp_path):
    config = TrainConfig(epochs=4, batch_size=16, checkpoint_every=2, progress=False)
    train_set, test_set = tensors(trained["train"]), tensors(trained["test"])

    straight = build_model(trained["train"], **SMALL)
    train(straight, train_set, test_set, config)

    def stop_after_two(epoch, result):
        if result.epochs == 2:
            raise KeyboardInterrupt

    interrupted = build_model(trained["train"], **SMALL)
    with pytest.raises(KeyboardInterrupt):
        train(interrupted, train_set, test_set, config, tmp_path, callback=stop_after_two)
    resumed = build_model(trained["train"], seed=99, **SMALL)  # other initial weights: all must come from the file
    result = train(resumed, train_set, test_set, config, tmp_path, resume=True)
    assert result.epochs == 4 and len(result.train_loss) == 4
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_physics_loss_vanishes_at_the_classical_solution(problem, trained):
    loss = PhysicsLoss(problem, data_grid(problem, 32), ["a"])
    inputs, outputs = tensors(trained["test"])
    u = outputs[:, 0].clone().requires_grad_(True)
    assert loss(u, inputs) < 1e-8
    scaled = loss(1.01 * u, inputs)  # R(1.01 u) = 0.01 R(0) for this linear problem
    assert scaled.item() == pytest.approx(1e-4, rel=1e-3)
    scaled.backward()
    assert u.grad.abs().max() > 0


def test_training_with_the_physics_loss_lowers_the_residual(problem, trained):
    loss = PhysicsLoss(problem, data_grid(problem, 32), ["a"])
    inputs, outputs = tensors(trained["test"])
    residuals = {}
    for weight in (0.0, 1.0):
        config = TrainConfig(epochs=2, batch_size=16, lr=1e-2, physics_weight=weight, progress=False)
        model = build_model(trained["train"], **SMALL)
        train(model, tensors(trained["train"]), (inputs, outputs), config, physics=loss)
        with torch.no_grad():
            residuals[weight] = loss(model(inputs)[:, 0], inputs).item()
    assert residuals[1.0] < 0.6 * residuals[0.0], residuals


def test_the_papers_step_schedule_halves_the_rate_every_step_epochs():
    config = TrainConfig(lr=1e-3, schedule="step", step_epochs=2, step_factor=0.5)
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=config.lr)
    schedule = learning_rate_schedule(optimizer, config)
    rates = []
    for _ in range(5):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert rates == pytest.approx([1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4])
    with pytest.raises(PdesolveError, match="unknown learning-rate schedule"):
        learning_rate_schedule(optimizer, TrainConfig(schedule="linear"))


def test_patience_stops_a_run_whose_test_error_no_longer_falls(trained):
    """A learning rate of 0 leaves the test error where it started: with a patience of 2 the run stops after 3 of
    its 10 epochs."""
    config = TrainConfig(epochs=10, batch_size=16, lr=0.0, weight_decay=0.0, patience=2, progress=False)
    result = train(build_model(trained["train"], **SMALL), tensors(trained["train"]), tensors(trained["test"]), config)
    assert result.epochs == 3 and len(set(result.test_error)) == 1
