"""Learned prolongations: the untrained network is exactly linear or black-box interpolation, a trained one keeps
the black-box row sums; the V-cycle is SPD for CG."""

import numpy as np
import pytest
import torch

from pdesolve.learned import learned_multigrid
from pdesolve.learned.prolongation import ProlongationNetwork, learned_prolongation
from pdesolve.learned.stencils import box_stencils
from pdesolve.learned.systems import family_systems
from pdesolve.linalg.boxmg import BoxTransfer, interpolation_weights
from pdesolve.linalg.cg import cg
from pdesolve.linalg.multigrid import grid_prolongation
from pdesolve.linalg.system import SparseOperator
from pdesolve.problem import load_problem


@pytest.mark.parametrize("name, nodes", [("darcy2d_contrast", 17), ("poisson3d", 9)])
def test_untrained_prolongation_is_linear_interpolation(name, nodes):
    system = family_systems(load_problem(name), nodes, [2])[0]
    P, coarse = learned_prolongation(ProlongationNetwork(len(system.shape)), system.matrix, system.shape)
    mask = torch.as_tensor(np.pad(np.ones(system.shape, bool), 1))
    like = SparseOperator(system.matrix)
    linear, _, coarse_mask = grid_prolongation(tuple(m + 2 for m in system.shape), mask, (False,) * mask.dim(), like)
    assert coarse == tuple(m - 2 for m in coarse_mask.shape)
    assert abs(P - linear.to_scipy()).max() < 1e-6


@pytest.mark.parametrize("name, nodes", [("darcy2d_contrast", 17), ("poisson3d", 9)])
def test_black_box_base_starts_at_dendys_interpolation_and_keeps_its_row_sums(name, nodes):
    system = family_systems(load_problem(name), nodes, [2])[0]
    model = ProlongationNetwork(len(system.shape), base="black-box")
    weights = interpolation_weights(torch.as_tensor(box_stencils(system.matrix, system.shape)))
    transfer = BoxTransfer(weights, system.shape, torch.float64)
    dendy = transfer.prolong(torch.eye(BoxTransfer.size(transfer.coarse_shape), dtype=torch.float64)).numpy()
    P, coarse = learned_prolongation(model, system.matrix, system.shape)
    assert coarse == transfer.coarse_shape
    assert abs(P.toarray() - dendy).max() < 1e-14
    torch.nn.init.normal_(model.out.weight, std=1.0)  # a trained network moves weight between parents
    moved = learned_prolongation(model, system.matrix, system.shape)[0]
    assert abs(moved - P).max() > 1e-2
    assert np.abs(np.asarray(moved.sum(axis=1)).ravel() - dendy.sum(axis=1)).max() < 1e-12


def test_learned_vcycle_preconditions_cg_and_its_training_loss_is_a_contraction_estimate():
    system = family_systems(load_problem("darcy2d_contrast"), 17, [3])[0]
    model = ProlongationNetwork(2, base="black-box")
    operator = SparseOperator(system.matrix)
    result = cg(
        operator,
        torch.ones(system.size, dtype=torch.float64),
        learned_multigrid.learned_multigrid(model, operator, system.matrix, system.shape),
    )
    assert result.converged and result.iterations <= 15
    sample = learned_multigrid.prepare(system, 4, np.random.default_rng(0), torch.device("cpu"))
    value = learned_multigrid.loss(model, sample)
    value.backward()
    assert -5.0 < float(value) < 0.0  # log of the V-cycle's convergence factor: below one
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
