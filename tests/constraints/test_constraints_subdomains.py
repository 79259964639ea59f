"""Experts evaluate their rows on their own windows: every row equals the whole-grid evaluation of that
expert's combination, restricted to its subdomain (finite differences, periodic wrap, boundary rows,
time splits, and Δ⁻¹ on spectral grids)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from constraints_helpers import heat, poisson

from pdesolve.constraints import GridConstraintSystem, GridHardConstraint, LMOptions
from pdesolve.constraints.experts import ExpertPartition
from pdesolve.constraints.subdomains import axis_windows
from pdesolve.errors import NotApplicableError, PdesolveError
from pdesolve.problem import Dirichlet, Grid, Interval, Problem, Robin, d, load_problem


def _navier_stokes():
    return load_problem("navier_stokes2d")


CASES = {
    "poisson, Dirichlet ends": (poisson, Grid((0.0,), (1.0,), (21,)), 4, None),
    "heat, periodic, split in time": (heat, Grid((0.0,), (1.0,), (20,), periodic=(True,)), (3, 2), 7),
    "navier-stokes, spectral, 2x2": (_navier_stokes, Grid((0.0,) * 2, (1.0,) * 2, (12, 12), (True,) * 2, "spectral"),
                                     (2, 2, 1), 3),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_expert_rows_equal_the_whole_grid_rows_restricted_to_its_subdomain(case):
    make, grid, experts, levels = CASES[case]
    problem = make()
    times = np.linspace(0.0, 0.5, levels) if levels else None
    generator = torch.Generator().manual_seed(3)
    field = (levels, *grid.shape) if levels else grid.shape
    basis = torch.randn(2, 3, *field, generator=generator, dtype=torch.float64)
    inputs = torch.randn(2, 1, *grid.shape, generator=generator, dtype=torch.float64) if levels else None
    moe = GridConstraintSystem(problem, grid, experts, times, points=5, weights=(1.0, 2.0, 3.0))
    single = GridConstraintSystem(problem, grid, 1, times, weights=(1.0, 2.0, 3.0))
    assert np.prod(moe.windows.shape) < np.prod(single.windows.shape)  # experts work on smaller blocks
    omega = torch.randn(2, moe.experts, 3, generator=generator, dtype=torch.float64)
    rows = moe.residual(omega, basis, inputs)
    for k in range(moe.experts):
        whole = single.residual(omega[:, k : k + 1], basis, inputs)[:, 0]  # every candidate row, in order
        weight = moe.rows.weight[k]
        expected = whole[:, moe.row_ids[k]] / single.rows.weight[0, moe.row_ids[k]] * weight
        torch.testing.assert_close(rows[:, k], expected, rtol=1e-12, atol=1e-10)
    assert moe.rows.weight.gt(0).sum(1).min() > 0


def test_windows_wrap_periodic_axes_and_stay_inside_bounded_ones():
    needed = [np.arange(-2, 6), np.arange(3, 11), np.arange(8, 14)]
    periodic, whole = axis_windows(needed, 12, True)
    assert not whole and periodic[0].tolist() == [10, 11, 0, 1, 2, 3, 4, 5]
    assert periodic[2].tolist() == [8, 9, 10, 11, 0, 1, 2, 3]
    bounded, _ = axis_windows([np.clip(v, 0, 11) for v in needed], 12, False)
    assert bounded[0].tolist() == list(range(8)) and bounded[2].tolist() == list(range(4, 12))
    full, whole = axis_windows([np.arange(-2, 14)], 12, True)
    assert whole and full[0].tolist() == list(range(12))


def _inflow_outflow():
    """u_t = 0.1 u_xx on (0, 1), u = 1 at x = 0, u + 0.1 ∂u/∂n = 0 at x = 1 (diffusion–sorption's kind of ends)."""
    return Problem(
        "inflow_outflow1d_hc",
        Interval(0.0, 1.0),
        rhs=lambda u, x, p: 0.1 * d(u, "x", 2),
        time=(0.0, 0.5),
        initial=lambda x, p: 0 * x.x,
        boundary=[
            Dirichlet(1.0, on=lambda x: x.x < 0.5),
            Robin(alpha=1.0, beta=0.1, value=0.0, on=lambda x: x.x > 0.5),
        ],
    )


def test_shared_conditions_give_every_expert_all_initial_and_boundary_rows():
    """The paper's diffusion–sorption MoE: PDE rows stay in each expert's subdomain, initial and boundary rows
    are global (each expert's combination of the basis meets them all), rows still equal whole-grid ones."""
    problem, grid, times = _inflow_outflow(), Grid((0.0,), (1.0,), (17,)), np.linspace(0.0, 0.5, 4)
    generator = torch.Generator().manual_seed(5)
    basis = torch.randn(2, 3, len(times), *grid.shape, generator=generator, dtype=torch.float64)
    inputs = torch.randn(2, 1, *grid.shape, generator=generator, dtype=torch.float64)
    weights = (1.0, 2.0, 3.0)
    shared = GridConstraintSystem(problem, grid, 4, times, weights=weights, theta=1.0, shared_conditions=True)
    local = GridConstraintSystem(problem, grid, 4, times, weights=weights, theta=1.0)
    single = GridConstraintSystem(problem, grid, 1, times, weights=weights, theta=1.0)
    n_pde = (len(times) - 1) * (grid.shape[0] - 2)
    conditions = set(range(n_pde, int(single.rows.weight[0].gt(0).sum())))  # 17 initial + 2 × 3 boundary rows
    assert len(conditions) == 17 + 6
    omega = torch.randn(2, 4, 3, generator=generator, dtype=torch.float64)
    rows = shared.residual(omega, basis, inputs)
    for k in range(4):
        ids, live = shared.row_ids[k], shared.rows.weight[k].gt(0).numpy()
        assert conditions <= set(ids[live].tolist())
        mine = local.row_ids[k][local.rows.weight[k].gt(0).numpy()]
        assert set(ids[live & (ids < n_pde)].tolist()) == set(mine[mine < n_pde].tolist())
        whole = single.residual(omega[:, k : k + 1], basis, inputs)[:, 0]
        expected = whole[:, ids] / single.rows.weight[0, ids] * shared.rows.weight[k]
        torch.testing.assert_close(rows[:, k], expected, rtol=1e-12, atol=1e-10)


def test_overlap_takes_pde_rows_from_the_widened_subdomains():
    """``overlap = 0.5``: expert k's PDE rows are those at x within its quarter widened by half a quarter on each
    side (both neighbours' near halves), and they still equal the whole-grid rows."""
    problem, grid, times = _inflow_outflow(), Grid((0.0,), (1.0,), (17,)), np.linspace(0.0, 0.5, 4)
    generator = torch.Generator().manual_seed(6)
    basis = torch.randn(2, 3, len(times), *grid.shape, generator=generator, dtype=torch.float64)
    inputs = torch.randn(2, 1, *grid.shape, generator=generator, dtype=torch.float64)
    system = GridConstraintSystem(problem, grid, 4, times, theta=1.0, shared_conditions=True, overlap=0.5)
    single = GridConstraintSystem(problem, grid, 1, times, theta=1.0)
    n_pde, x = (len(times) - 1) * 15, grid.axes[0]
    omega = torch.randn(2, 4, 3, generator=generator, dtype=torch.float64)
    rows = system.residual(omega, basis, inputs)
    for k in range(4):
        ids = system.row_ids[k][system.rows.weight[k].gt(0).numpy()]
        pde_x = x[1 + ids[ids < n_pde] % 15]
        expected = {v for v in x[1:-1] if (k - 0.5) / 4 - 1e-9 <= v <= (k + 1.5) / 4 + 1e-9}
        assert set(pde_x.tolist()) == expected
        whole = single.residual(omega[:, k : k + 1], basis, inputs)[:, 0]
        torch.testing.assert_close(rows[:, k], whole[:, system.row_ids[k]] * system.rows.weight[k])


def test_interface_rows_sit_where_the_stencils_leave_each_subdomain():
    """Rows ``u_k - g`` at the nodes next to each expert's subdomain (periodic wrap included), at every level the
    θ = ½ rows reach (the first too: the expert has no initial row there); they vanish for a field that is its
    own interface values."""
    grid, times = Grid((0.0,), (1.0,), (16,), periodic=(True,)), np.linspace(0.0, 0.5, 4)
    system = GridConstraintSystem(heat(), grid, 4, times, interfaces=True)
    levels, nodes = np.meshgrid(np.arange(4), np.arange(16), indexing="ij")
    code = torch.as_tensor(100.0 * levels + nodes, dtype=torch.float64)
    inputs = torch.zeros(1, 1, 16, dtype=torch.float64)
    ones = torch.ones(1, 4, 1, dtype=torch.float64)
    rows = system.residual(ones, torch.stack([torch.zeros_like(code), code])[None], inputs)
    for k in range(4):
        ghosts = [(4 * k - 1) % 16, (4 * k + 4) % 16]
        expected = sorted(100.0 * t + n for t in range(4) for n in ghosts)
        assert sorted((-rows[0, k, -8:]).tolist()) == expected
    assert system.describe()["interface_rows_per_expert"] == 8
    own = system.residual(ones, torch.stack([code, code])[None], inputs)
    assert own[0, :, -8:].abs().max() == 0


@pytest.mark.filterwarnings("ignore::pdesolve.constraints.SingularSystemWarning")  # nodal functions off the window
def test_interface_rows_close_each_experts_problem():
    """Given the global solution's interface values, each expert's local solve (a nodal basis: every field on
    the grid) recovers the global solution on its subdomain, also on widened subdomains blended together;
    without them the local problems are underdetermined and the mixture misses it."""
    grid, times = Grid((0.0,), (1.0,), (16,), periodic=(True,)), np.linspace(0.0, 0.5, 4)
    problem = heat()
    inputs = torch.as_tensor(np.sin(2 * np.pi * grid.axes[0]), dtype=torch.float64)[None, None]
    nodal = torch.eye(4 * 16, dtype=torch.float64).reshape(1, 64, 4, 16)
    options = LMOptions(ridge=1e-14, max_iter=10)
    exact = GridHardConstraint(GridConstraintSystem(problem, grid, 1, times), options)(nodal, inputs)
    with_values = torch.cat([nodal, exact[:, None]], dim=1)
    for settings in ({}, {"overlap": 0.25, "blend": True}):  # blended: subdomains wrap around x = 0
        closed = GridConstraintSystem(problem, grid, 4, times, interfaces=True, **settings)
        assert closed.windows.shape[1] < 16
        found = GridHardConstraint(closed, options)(with_values, inputs)
        torch.testing.assert_close(found, exact, rtol=0, atol=1e-9)
    open_ = GridHardConstraint(GridConstraintSystem(problem, grid, 4, times), options)(nodal, inputs)
    assert (open_ - exact).abs().max() > 0.1


def test_blend_weights_are_a_smooth_partition_of_unity_on_the_widened_subdomains():
    partition = ExpertPartition((0.0, 0.0), (1.0, 2.0), (4, 2))
    x, y = np.meshgrid(np.linspace(0.0, 1.0, 401), np.linspace(0.0, 2.0, 81), indexing="ij")
    points = np.column_stack([x.ravel(), y.ravel()])
    weights = partition.blend_weights(points, 0.5)
    np.testing.assert_allclose(weights.sum(0), 1.0, atol=1e-14)
    for k in range(partition.count):
        outside = ~partition.members(points, k, 0.5)
        assert weights[k, outside].max() == 0.0 and weights[k].min() >= 0.0
    core = (np.abs(points[:, 0] - 0.125) < 1e-9) & (np.abs(points[:, 1] - 0.5) < 1e-9)
    assert weights[0, core] == 1.0  # the middle of a boundary cell belongs to it alone
    ramp = partition.blend_weights(np.column_stack([np.linspace(0.0, 1.0, 4001), np.zeros(4001)]), 0.5)[0]
    slope = np.diff(ramp) / 2.5e-4
    assert np.abs(np.diff(slope)).max() < 0.05 * np.abs(slope).max()  # C¹: no kink where the ramp starts
    for bad in (0.0, 0.6):
        with pytest.raises(PdesolveError, match="overlap in"):
            partition.blend_weights(points, bad)
    periodic = ExpertPartition((0.0, 0.0), (1.0, 2.0), (4, 2), periodic=(True, False))
    wrapped = periodic.blend_weights(points, 0.5)
    np.testing.assert_allclose(wrapped.sum(0), 1.0, atol=1e-14)
    seam = (points[:, 0] == 0.0) & (points[:, 1] == 0.5)
    assert weights[0, seam] == 1.0 and wrapped[0, seam] == 0.5 and wrapped[6, seam] == 0.5  # x = 0 is x = 1
    for k in range(periodic.count):
        assert wrapped[k, ~periodic.members(points, k, 0.5)].max() == 0.0
    assert (
        periodic.members(np.array([[0.95, 0.5]]), 0, 0.5)[0]
        and not partition.members(np.array([[0.95, 0.5]]), 0, 0.5)[0]
    )


def test_blended_experts_with_equal_weights_give_their_common_combination():
    grid, times = Grid((0.0,), (1.0,), (32,)), np.linspace(0.0, 0.5, 5)
    problem = load_problem("diffusion_sorption1d")
    system = GridConstraintSystem(problem, grid, 4, times, overlap=0.5, blend=True)
    generator = torch.Generator().manual_seed(0)
    basis = torch.randn(2, 3, 5, 32, generator=generator, dtype=torch.float64)
    omega = torch.randn(2, 1, 3, generator=generator, dtype=torch.float64)
    expected = torch.einsum("bi,bi...->b...", omega[:, 0], basis)
    torch.testing.assert_close(system.assemble(omega.expand(-1, 4, -1), basis), expected)
    with pytest.raises(NotApplicableError, match="overlapping subdomains"):
        GridConstraintSystem(problem, grid, 4, times, blend=True)


def test_blend_weights_of_torch_points_equal_numpys_and_have_their_gradient():
    partition = ExpertPartition((0.0, 0.0), (1.0, 2.0), (4, 2), periodic=(True, False))
    points = torch.rand(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * torch.tensor([1, 2])
    weights = partition.blend_weights(points, 0.5)
    assert torch.is_tensor(weights)
    np.testing.assert_allclose(weights.numpy(), partition.blend_weights(points.numpy(), 0.5), rtol=0, atol=1e-15)
    assert torch.autograd.gradcheck(
        lambda p: partition.blend_weights(p, 0.5), (points.requires_grad_(),), fast_mode=True
    )
