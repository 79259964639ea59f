"""The fit of u0 on a sequence of grids: sizes, the rule that ends a coarse level, and a 2D fit through it."""

import math

import torch

from pdesolve.ngd import FlatModule
from pdesolve.solvers import Settings
from pdesolve.teng import TengSolver
from pdesolve.teng.levels import LevelTracker, level_sizes
from pdesolve.teng.network import TengNetwork
from pdesolve.teng.structured import KERNEL_TILE, factor_indices, jacobian_factors
from tests.teng.test_teng_fit import heat2d_small, relative_error_between_points


def test_level_sizes_grow_by_root_two_up_to_the_sample_points():
    assert level_sizes(1024, 4096) == [1024, 1448, 2048, 2896, 4096]
    assert level_sizes(1024, 3000) == [1024, 1448, 2048, 3000]
    assert level_sizes(1024, 2048) == [1024, 1448, 2048]
    assert level_sizes(1024, 4096, ratio=2.0) == [1024, 2048, 4096]
    assert level_sizes(0, 4096) == [4096]
    assert level_sizes(8192, 4096) == [4096]


def tracker_on(sample_residuals: list[float], level_residuals: list[float], tol: float = 1e-12) -> int:
    """Feed a tracker the two residual sequences; the index at which it stops (-1: never)."""
    sample = iter(sample_residuals)
    target = torch.ones(4, dtype=torch.float64)
    tracker = LevelTracker(lambda theta: target - next(sample), target, tol, window=3, efficiency=0.3)
    for k, level in enumerate(level_residuals):
        if tracker(torch.zeros(1), level):
            return k
    return -1


def test_tracker_keeps_a_level_while_the_sample_points_follow_it():
    level = [0.9**k for k in range(20)]
    assert tracker_on(level, level) == -1  # the sample points follow exactly
    # from index 10 on the sample residual stays: after 3 iterations less than 30 % of the level's progress
    assert tracker_on(level[:10] + [level[9]] * 10, level) == 12
    assert tracker_on(level, level, tol=0.9**5) == 5  # the sample points at tol: stop (reached)
    assert tracker_on(level, [1.0] * 20) == 3  # the level itself stalls


def test_kernel_built_in_strips_equals_the_dense_product():
    net = TengNetwork([0.0, 0.0], [2 * math.pi, 2 * math.pi], [True, True], width=6, depth=2).reset_parameters(1)
    fn = FlatModule(net)
    n = KERNEL_TILE * 2 + 37
    x = 2 * math.pi * torch.rand(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    factors = jacobian_factors(net, fn.unflatten(fn.theta0), x, factor_indices(net, x.device))
    kernel, scale = factors.kernel()
    dense = factors.columns() * scale
    assert torch.allclose(kernel, dense @ dense.T, rtol=1e-13, atol=1e-13)


def test_initial_fit_through_coarser_grids_in_2d():
    """heat2d's u0 (921 parameters) at 32² sample points, fitted on 16², 19², 23², 27² grids first: each coarse
    grid while the sample points follow it; 6.7e-7 at the sample points and between them (8 s of one core)."""
    options = {"n_points": 1024, "init_points": 256, "width": 20, "depth": 2, "init_iterations": 40}
    options |= {"init_adam_steps": 200, "init_tol": 1e-7, "param_subset": 0}
    solution = TengSolver(Settings(seed=0), dt=0.005, scheme="euler", iterations=1, **options).solve(heat2d_small())
    levels = solution.stats["init_levels"]
    assert [n for n, _, _ in levels] == [256, 361, 529, 729, 1024]
    assert sum(k for _, k, _ in levels) == solution.stats["init_iterations"]
    assert solution.stats["init_residual"] < 1.5e-6
    between = relative_error_between_points(solution, 64)
    assert between < 1.5e-6
    assert abs(between / solution.stats["init_residual"] - 1) < 0.1  # the sample points stand for the grid
