"""A tiny graph network trained for seconds: fewer iterations than Jacobi (and than its start), the same on
unseen members of its family as on its training members."""

from dataclasses import replace

import pytest
import torch
from helpers import ctrl_c_at

from pdesolve.errors import PdesolveError
from pdesolve.learned import training
from pdesolve.learned.kinds import KINDS, solve_with
from pdesolve.learned.systems import family_systems
from pdesolve.learned.training import (
    UNSEEN_SEED,
    TrainOptions,
    baseline_iterations,
    checkpoint_path,
    train_preconditioner,
)


def test_training_lowers_the_loss_and_cuts_jacobis_iterations(tiny_gnn):
    checkpoint, _ = tiny_gnn
    card = checkpoint.card
    assert card["loss_last"] < 0.5 * card["loss_first"]
    table = card["validation"]
    trained, untrained, jacobi = table["gnn (trained)"], table["gnn (untrained)"], table["jacobi"]
    assert trained["train"] <= 0.5 * jacobi["train"]
    assert trained["train"] < untrained["train"]


def test_unseen_members_take_at_most_1_2_times_the_training_iterations(tiny_gnn, darcy):
    checkpoint, _ = tiny_gnn
    kind, model = KINDS["gnn"], checkpoint.model
    seen = family_systems(darcy, 17, [0, 1])
    unseen = family_systems(darcy, 17, [UNSEEN_SEED + 10 + i for i in range(4)])
    seen_iterations = sum(solve_with(kind, model, s).iterations for s in seen) / len(seen)
    unseen_iterations = sum(solve_with(kind, model, s).iterations for s in unseen) / len(unseen)
    assert unseen_iterations <= 1.2 * seen_iterations
    assert unseen_iterations < sum(baseline_iterations("jacobi", s) for s in unseen) / len(unseen)


def test_an_interrupted_training_resumes_to_the_uninterrupted_model(darcy, tmp_path, monkeypatch):
    """Ctrl-C after step 4 of 6, then ``resume``: the same losses and parameters as the run never interrupted
    (the learned multigrid draws new probes every step: the checkpoint holds their generators)."""
    kind = "mg"
    options = TrainOptions(nodes=9, samples=2, steps=6, unseen=1, seed=0, threads=1, checkpoint_every=100)
    straight = train_preconditioner(darcy, kind, options, torch.device("cpu"), tmp_path / "straight.pt")

    path = tmp_path / "resumed.pt"
    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(training, "Progress", ctrl_c_at(4))
        train_preconditioner(darcy, kind, options, torch.device("cpu"), path)
    assert checkpoint_path(path).is_file() and not path.exists()
    resumed = train_preconditioner(darcy, kind, replace(options, resume=True), torch.device("cpu"), path)
    assert resumed.card["loss_last"] == straight.card["loss_last"]
    for name, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name
    other = replace(options, resume=True, samples=3)
    with pytest.raises(PdesolveError, match="samples 2, not 3"):
        train_preconditioner(darcy, kind, other, torch.device("cpu"), path)
