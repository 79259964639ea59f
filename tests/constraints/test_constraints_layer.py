"""The hard-constraint layer: exactness on linear problems, implicit gradients, experts, singular systems."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from constraints_helpers import allen_cahn, cubic_basis, heat, poisson, space_time_basis

from pdesolve.constraints import GridConstraintSystem, GridHardConstraint, LMOptions, SingularSystemWarning
from pdesolve.constraints.experts import ExpertPartition
from pdesolve.problem import Grid

GRID = Grid((0.0,), (1.0,), (17,))


def test_linear_problem_is_met_at_the_collocation_points_to_round_off():
    system = GridConstraintSystem(poisson(), GRID, experts=1)
    layer = GridHardConstraint(system)
    basis = cubic_basis(GRID)
    u = layer(basis)
    omega = layer.weights(basis)
    assert system.residual(omega, basis).abs().max() < 1e-10
    x = torch.as_tensor(GRID.axes[0])
    assert (u - (x - x**3)).abs().max() < 1e-10  # the second difference is exact on cubics
    assert layer.report.converged == 1.0


def test_nonlinear_solution_meets_its_optimality_conditions():
    """Allen–Cahn on a space-time grid: LM reaches a stationary point of ½‖r‖² + ½ ridge ‖ω‖²."""
    problem = allen_cahn()
    grid, times = Grid((0.0,), (1.0,), (16,), periodic=(True,)), np.linspace(0.0, 0.5, 6)
    ridge = 1e-6
    system = GridConstraintSystem(problem, grid, experts=(2, 1), times=times)
    basis = space_time_basis(grid, times, nb=8)
    inputs = torch.sin(2 * np.pi * torch.as_tensor(grid.axes[0]))[None, None]
    layer = GridHardConstraint(system, LMOptions(ridge=ridge))
    omega = layer.weights(basis, inputs)
    r, J = system.residual_and_jacobian(omega, basis, inputs)
    gradient = (J.mT @ r[..., None])[..., 0] + ridge * omega
    assert gradient.norm() < 1e-8 * (J.norm() * r.norm() + 1e-30)
    assert layer.report.converged == 1.0
    assert torch.isfinite(layer(basis, inputs)).all()


@pytest.mark.parametrize("experts", [1, 2])
def test_gradcheck_through_the_implicit_backward(experts):
    grid = Grid((0.0,), (1.0,), (9,))
    problem = poisson(lambda x: 1 / (1 + x.x))  # not in the span: the rows keep a residual
    layer = GridHardConstraint(GridConstraintSystem(problem, grid, experts=experts), LMOptions(tol=1e-13))
    basis = torch.randn(2, 3, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1)).requires_grad_()
    assert torch.autograd.gradcheck(layer, (basis,), fast_mode=True)


@pytest.mark.parametrize("blended", [False, True])
def test_gradcheck_on_a_space_time_grid(blended):
    """Also for blended experts with interface rows: the last channel is the interface values."""
    grid, times = Grid((0.0,), (1.0,), (8,), periodic=(True,)), np.linspace(0.0, 0.5, 4)
    settings = {"interfaces": True, "overlap": 0.5, "blend": True} if blended else {}
    system = GridConstraintSystem(heat(), grid, experts=(2, 1), times=times, **settings)
    layer = GridHardConstraint(system, LMOptions(tol=1e-13))
    basis = space_time_basis(grid, times, nb=3 + system.trace_channels, seed=2).requires_grad_()
    inputs = torch.sin(2 * np.pi * torch.as_tensor(grid.axes[0]))[None, None]
    assert torch.autograd.gradcheck(lambda b: layer(b, inputs), (basis,), fast_mode=True)


def test_one_expert_is_the_global_hard_constraint():
    grid, times = Grid((0.0,), (1.0,), (16,), periodic=(True,)), np.linspace(0.0, 0.5, 6)
    basis = space_time_basis(grid, times, nb=6)
    inputs = torch.sin(2 * np.pi * torch.as_tensor(grid.axes[0]))[None, None]
    single = GridConstraintSystem(heat(), grid, experts=1, times=times)
    moe = GridConstraintSystem(heat(), grid, experts=(1, 1), times=times)  # the MoE code path with one expert
    u_single = GridHardConstraint(single)(basis, inputs)
    u_moe = GridHardConstraint(moe)(basis, inputs)
    torch.testing.assert_close(u_single, u_moe, rtol=0, atol=1e-12)
    # two experts differ from it, and each meets the residual of its own rows at least as well
    two = GridConstraintSystem(heat(), grid, experts=2, times=times)
    layer = GridHardConstraint(two)
    omega = layer.weights(basis, inputs)
    assert omega.shape == (1, 2, 6)
    assert not torch.allclose(omega[:, 0], omega[:, 1])


def test_singular_system_is_damped_with_a_warning_never_nan():
    basis = cubic_basis(GRID, batch=1)
    duplicated = torch.cat([basis, basis[:, :2]], dim=1)  # two basis functions twice
    layer = GridHardConstraint(GridConstraintSystem(poisson(), GRID, experts=1))
    with pytest.warns(SingularSystemWarning):
        u = layer(duplicated.requires_grad_())
    assert torch.isfinite(u).all()
    u.square().sum().backward()
    assert torch.isfinite(duplicated.grad).all()
    # too few points: 3 rows per expert, 6 basis functions
    few = GridConstraintSystem(poisson(), Grid((0.0,), (1.0,), (5,)), experts=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        u = GridHardConstraint(few)(cubic_basis(Grid((0.0,), (1.0,), (5,)), batch=1))
    assert any(issubclass(w.category, SingularSystemWarning) for w in caught)
    assert torch.isfinite(u).all()


def test_partition_and_rows_share_out_the_domain():
    partition = ExpertPartition.for_axes((0.0, 0.0), (1.0, 2.0), (2, 2))
    assert partition.assign(np.array([[0.1, 0.1], [0.9, 0.1], [0.1, 1.9], [1.0, 2.0]])).tolist() == [0, 2, 1, 3]
    system = GridConstraintSystem(poisson(), GRID, experts=4, points=3)
    assert system.rows.index.shape == (4, 4)  # 3 sampled PDE rows each, one boundary row on the outer experts
    assert system.rows.weight.sum().item() == 14
