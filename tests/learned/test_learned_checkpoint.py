"""Checkpoints round-trip with their card, and are refused (PdesolveError) off their family or size."""

import pytest
import torch

from pdesolve.classical.cg_solver import CGSolver
from pdesolve.errors import PdesolveError
from pdesolve.learned import factor_gnn
from pdesolve.learned.checkpoint import check_applicable, load_checkpoint
from pdesolve.learned.systems import family_systems
from pdesolve.problem import load_problem


def test_checkpoint_round_trips_with_its_card(tiny_gnn, darcy):
    checkpoint, path = tiny_gnn
    loaded = load_checkpoint(path)
    assert loaded.kind.name == "gnn" and loaded.card == checkpoint.card
    system = family_systems(darcy, 17, [7])[0]
    before = factor_gnn.lower_factor(checkpoint.model, system.matrix)
    after = factor_gnn.lower_factor(loaded.model, system.matrix)
    assert abs(before - after).max() == 0
    card = path.with_suffix(".md").read_text()
    assert "darcy2d" in card and "unseen members" in card and "s on cpu" in card


def test_wrong_family_dimension_or_size_is_refused(tiny_gnn, darcy):
    _, path = tiny_gnn
    checkpoint = load_checkpoint(path)
    check_applicable(checkpoint, darcy, 15**2)  # the training size
    check_applicable(checkpoint, darcy, 63**2)  # 16x more unknowns
    with pytest.raises(PdesolveError, match="trained on the family of 'darcy2d'"):
        check_applicable(checkpoint, load_problem("darcy2d_contrast"), 15**2)
    with pytest.raises(PdesolveError, match="trained on the family"):
        check_applicable(checkpoint, load_problem("poisson3d"), 15**3)
    with pytest.raises(PdesolveError, match="applies from 225 to"):
        check_applicable(checkpoint, darcy, 7**2)
    with pytest.raises(PdesolveError, match="applies from 225 to"):
        check_applicable(checkpoint, darcy, 255**2)


def test_not_a_checkpoint_is_refused(tmp_path):
    junk = tmp_path / "junk.pt"
    torch.save({"weights": torch.zeros(2)}, junk)
    with pytest.raises(PdesolveError, match="not a pdesolve checkpoint"):
        load_checkpoint(junk)
    with pytest.raises(PdesolveError, match="no learned preconditioner"):
        load_checkpoint(tmp_path / "missing.pt")


def test_cg_solver_takes_a_checkpoint_path(tiny_gnn, darcy):
    _, path = tiny_gnn
    solver = CGSolver(precond=str(path), n=33)
    solution = solver.solve(darcy)
    assert solution.stats["converged"] and solution.stats["residual"] <= 1e-8
    assert solution.stats["learned"] == "gnn" and solution.stats["inference_time"] > 0
    with pytest.raises(PdesolveError, match="trained on the family"):
        solver.solve(load_problem("darcy2d_contrast"))
