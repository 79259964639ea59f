"""The closed-form Jacobian of the TENG network and the fit of u0 in 2D to a tight tolerance."""

import math

import numpy as np
import pytest
import torch

from pdesolve.ngd import FlatModule, directional_derivatives, jacobian
from pdesolve.problem import Box, Periodic, Problem, cosh, d, sin, sinh
from pdesolve.solvers import Settings
from pdesolve.teng import TengSolver
from pdesolve.teng.network import TengNetwork
from pdesolve.teng.structured import factor_indices, jacobian_factors, second_directional


@pytest.mark.parametrize("periodic", [[True, True], [True, False]])
def test_structured_jacobian_equals_autograd(periodic):
    lift = (lambda x: 1 + x[:, 1]) if not all(periodic) else None
    net = TengNetwork([0.0, -1.0], [2 * math.pi, 1.0], periodic, width=6, depth=2, lift=lift).reset_parameters(3)
    fn = FlatModule(net)
    x = torch.rand(23, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x[:, 0] *= 2 * math.pi
    x[:, 1] = 2 * x[:, 1] - 1
    theta = fn.theta0
    factors = jacobian_factors(net, fn.unflatten(theta), x, factor_indices(net, theta.device))
    reference = jacobian(fn, theta, x, with_lift=False)
    assert torch.allclose(factors.columns(), reference, rtol=0, atol=1e-14)
    assert torch.allclose(factors.values, fn(theta, x), rtol=0, atol=1e-15)
    columns = torch.tensor([0, 7, 40, theta.numel() - 1])
    assert torch.allclose(factors.columns(columns), reference[:, columns], rtol=0, atol=1e-14)
    w = torch.linspace(-1, 1, 23, dtype=torch.float64)
    assert torch.allclose(factors.rmatvec(w, columns), reference[:, columns].T @ w, rtol=0, atol=1e-13)
    # the kernel matrix assembled layer by layer is that of the scaled columns
    kernel, scale = factors.kernel()
    assert torch.allclose(kernel, (reference * scale) @ (reference * scale).T, rtol=1e-13, atol=1e-13)
    # the closed-form second-order sweep equals nested forward-mode autograd
    v = torch.randn(theta.numel(), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    first, second = second_directional(net, fn.unflatten(theta), fn.unflatten(v), x)
    first_ad, second_ad = directional_derivatives(fn, theta, v, x, with_lift=False)
    assert torch.allclose(first, first_ad, rtol=0, atol=1e-13)
    assert torch.allclose(second, second_ad, rtol=0, atol=1e-13)


def heat2d_small() -> Problem:
    return Problem(
        "heat2d_small",
        Box([0, 0], [2 * math.pi, 2 * math.pi]),
        rhs=lambda u, x, p: p.nu * (d(u, "x", 2) + d(u, "y", 2)),
        time=(0.0, 0.005),
        initial=lambda x, p: 0.04 * cosh(3 * sin(x.x)) * sinh(sin(x.y)),
        boundary=Periodic(),
        params={"nu": 0.1},
    )


def relative_error_between_points(solution, n: int) -> float:
    g = np.linspace(0, 2 * np.pi, n + 1)[:-1] + 0.05  # off the sample grid
    points = np.stack([c.ravel() for c in np.meshgrid(g, g, indexing="ij")], axis=1)
    exact = 0.04 * np.cosh(3 * np.sin(points[:, 0])) * np.sinh(np.sin(points[:, 1]))
    return float(np.linalg.norm(solution.network(0, points) - exact) / np.linalg.norm(exact))


def test_fast_initial_fit_on_more_parameters_than_points():
    """heat2d's u0 at 1024 points (32²) with 1,981 parameters: the kernel form of every Gauss–Newton step
    (200 Adam steps, the output layer by least squares, 40 iterations) reaches 1.4e-5 at the points and
    between them, in about 10 s of one core."""
    options = {"n_points": 1024, "width": 30, "depth": 2, "init_adam_steps": 200, "init_iterations": 40}
    solution = TengSolver(Settings(seed=0), dt=0.005, scheme="euler", iterations=1, **options).solve(heat2d_small())
    assert solution.stats["n_params"] == 1981
    assert solution.stats["init_residual"] < 3e-5
    assert relative_error_between_points(solution, 64) < 3e-5


def test_initial_fit_in_2d_reaches_1e_5():
    """u0 = 0.04 cosh(3 sin x) sinh(sin y) (the TENG benchmarks' initial condition), small network, 24² grid."""
    options = {"n_points": 576, "width": 20, "depth": 2, "init_iterations": 60, "param_subset": 0}
    solution = TengSolver(Settings(seed=0), dt=0.005, scheme="euler", iterations=3, **options).solve(heat2d_small())
    assert solution.stats["init_residual"] < 1e-5
    assert relative_error_between_points(solution, 40) < 3e-5


def test_reverse_mode_jacobian_fits_like_the_structured_one():
    """``jacobian=rev`` (autograd rows instead of the network's Jacobian factors) runs the same fit, the output
    layer's least-squares start included: the same residual at T = 0 to rounding."""
    from pdesolve.solvers import Settings
    from pdesolve.teng import TengSolver

    options = {"n_points": 256, "width": 10, "depth": 1, "init_iterations": 30, "init_adam_steps": 0, "param_subset": 0}
    residuals = {}
    for mode in ("structured", "rev"):
        solver = TengSolver(Settings(seed=0), dt=0.005, scheme="euler", iterations=1, jacobian=mode, **options)
        residuals[mode] = solver.solve(heat2d_small()).stats["init_residual"]
    assert residuals["structured"] < 2e-3
    assert abs(residuals["rev"] / residuals["structured"] - 1) < 1e-6
