"""The training loop and its callbacks on a least-squares fit: an interrupted and resumed run ends in the same
state as an uninterrupted one, keep-best returns the best epoch's parameters, early stopping stops, and a
checkpoint that is corrupt or made for another problem is refused with one line."""

from __future__ import annotations

import pytest
import torch

from pdesolve.errors import PdesolveError
from pdesolve.io import checkpoint as checkpoints
from pdesolve.problem import load_problem
from pdesolve.training.callbacks import Checkpoint, EarlyStopping, KeepBest, SkipUnconverged
from pdesolve.training.loop import Callback, Run, Step, Trainer

SAMPLES = 12


def data() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(SAMPLES, 3, dtype=torch.float64, generator=generator)
    return x, x @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64) + 0.1


def fit(
    epochs: int, callbacks: list[Callback], lr: float = 0.05, seed: int = 0, checkpoint: Checkpoint | None = None
) -> tuple[torch.nn.Module, Run]:
    """Adam with a cosine schedule on shuffled batches of 4 (the shuffle drawn from a generator the loop keeps)."""
    x, y = data()
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 1).double()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    generator = torch.Generator().manual_seed(1)

    def batches(epoch: int):
        order = torch.randperm(SAMPLES, generator=generator)
        return order.split(4)

    def step(batch: torch.Tensor) -> Step:
        return Step(((model(x[batch]) - y[batch]) ** 2).sum(dim=1))

    run = Trainer(model, optimizer, schedule, callbacks, [generator], checkpoint=checkpoint).fit(epochs, batches, step)
    return model, run


class StopAt(Callback):
    """Ctrl-C after ``epoch`` epochs."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, run: Run) -> None:
        if run.epoch == self.epoch:
            raise KeyboardInterrupt


def head(problem: str = "poisson2d") -> dict:
    return checkpoints.header("test-training", load_problem(problem), "linear", {"width": 3})


def test_a_resumed_run_ends_in_the_uninterrupted_runs_state(tmp_path):
    """Interrupted in the callbacks of epoch 5 (after the periodic checkpoint of epoch 3), then resumed from a model
    of other initial weights: every parameter, the history and the kept epoch equal the uninterrupted run's."""
    path = tmp_path / "checkpoint.pt"
    straight, whole = fit(8, [KeepBest(), EarlyStopping(patience=3)])
    with pytest.raises(KeyboardInterrupt):
        fit(8, [KeepBest(), EarlyStopping(patience=3), StopAt(5)], checkpoint=Checkpoint(path, head(), every=3))
    assert checkpoints.load(path, "test-training")["run"]["epoch"] == 4  # the last epoch kept whole on Ctrl-C
    resumed, run = fit(8, [KeepBest(), EarlyStopping(3)], seed=7, checkpoint=Checkpoint(path, head(), 3, resume=True))
    assert run.epoch == whole.epoch == 8 and run.history == whole.history
    assert run.kept_epoch == whole.kept_epoch
    for name, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), name


def test_keep_best_restores_the_parameters_of_the_lowest_loss_epoch():
    """At a learning rate that overshoots the loss rises after its minimum: the model ends with the parameters
    that the run had after that epoch, not the last ones."""

    class Record(Callback):
        def __init__(self) -> None:
            self.states: list[dict] = []

        def on_epoch_end(self, run: Run) -> None:
            self.states.append({k: v.clone() for k, v in run.model.state_dict().items()})

    record = Record()
    model, run = fit(6, [record, KeepBest()], lr=1.0)
    losses = run.history["train_loss"]
    best = min(range(len(losses)), key=losses.__getitem__)
    assert best < len(losses) - 1 and losses[-1] > 1.5 * losses[best]  # the overshoot happened
    assert run.kept_epoch == best
    for name, value in model.state_dict().items():
        assert torch.equal(value, record.states[best][name])
        assert not torch.equal(value, record.states[-1][name])


def test_early_stopping_stops_when_the_loss_no_longer_falls():
    _, run = fit(20, [EarlyStopping(patience=2, min_delta=1e-9)], lr=0.0)  # the loss never improves (but for
    assert run.epoch == 3 and max(run.history["train_loss"]) - min(run.history["train_loss"]) < 1e-12  # rounding)
    _, run = fit(20, [EarlyStopping(patience=2)])
    assert run.epoch == 20
    with pytest.raises(PdesolveError, match="patience of at least 1"):
        EarlyStopping(patience=0)


def test_skip_unconverged_leaves_those_samples_out_of_the_step():
    """A batch whose samples all failed takes no step; their losses still count in the epoch's mean."""
    model = torch.nn.Module()
    model.weight = weight = torch.nn.Parameter(torch.ones(2))
    optimizer = torch.optim.SGD([weight], lr=0.1)

    def step(converged: torch.Tensor) -> Step:
        return Step(weight**2, converged=converged)

    batches = [torch.tensor([True, False]), torch.tensor([False, False])]
    run = Trainer(model, optimizer, callbacks=[SkipUnconverged()]).fit(1, lambda epoch: batches, step)
    assert weight.tolist() == pytest.approx([0.8, 1.0])  # one step, on the first sample only
    assert run.history["unconverged"] == [3] and run.history["train_loss"][0] == pytest.approx((1 + 1 + 0.64 + 1) / 4)


def test_a_checkpoint_of_another_problem_or_a_corrupt_one_is_refused(tmp_path):
    path = tmp_path / "checkpoint.pt"
    fit(2, [], checkpoint=Checkpoint(path, head("poisson2d"), every=1))
    with pytest.raises(PdesolveError, match="was made for problem 'poisson2d', not 'darcy2d'"):
        fit(4, [], checkpoint=Checkpoint(path, head("darcy2d"), resume=True))
    other = checkpoints.header("test-training", load_problem("poisson2d"), "linear", {"width": 4})
    with pytest.raises(PdesolveError, match="width 3, not 4"):
        fit(4, [], checkpoint=Checkpoint(path, other, resume=True))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(PdesolveError, match="cannot be read"):
        fit(4, [], checkpoint=Checkpoint(path, head(), resume=True))
    checkpoints.save(path, head(), {"model": {}})  # the right header over a state of something else
    with pytest.raises(PdesolveError, match="does not hold this run's training state"):
        fit(4, [], checkpoint=Checkpoint(path, head(), resume=True))
