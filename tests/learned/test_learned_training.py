"""A tiny graph network trained for seconds: fewer iterations than Jacobi (and than its start), the same on
unseen members of its family as on its training members."""

from pdesolve.learned.kinds import KINDS, solve_with
from pdesolve.learned.systems import family_systems
from pdesolve.learned.training import UNSEEN_SEED, baseline_iterations


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
