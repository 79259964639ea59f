"""Jacobians by torch.func against plain autograd and finite differences."""

import math

import pytest
import torch

from pdesolve.ngd import FlatModule, directional_derivatives, jacobian, jacobian_blocks, rows_per_chunk
from pdesolve.teng.network import TengNetwork


@pytest.fixture(scope="module")
def setup():
    net = TengNetwork([0.0, -1.0], [2 * math.pi, 1.0], [True, False], width=6, depth=2).reset_parameters(3)
    fn = FlatModule(net)
    points = torch.rand(23, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    points[:, 0] *= 2 * math.pi
    points[:, 1] = 2 * points[:, 1] - 1
    return fn, fn.theta0, points


def autograd_jacobian(fn, theta, points):
    """Row by row with torch.autograd.grad: the slow reference."""
    theta = theta.clone().requires_grad_(True)
    out = fn(theta, points)
    return torch.stack([torch.autograd.grad(out[i], theta, retain_graph=True)[0] for i in range(len(out))])


def test_flat_module_round_trip(setup):
    fn, theta, points = setup
    assert fn.n_params == theta.numel() == sum(p.numel() for p in fn.module.parameters())
    assert torch.equal(fn(theta, points), fn.module(points))


def test_reverse_mode_equals_autograd(setup):
    fn, theta, points = setup
    assert torch.allclose(jacobian(fn, theta, points), autograd_jacobian(fn, theta, points), rtol=0, atol=1e-13)


def test_chunks_and_columns_and_forward_mode_agree(setup):
    fn, theta, points = setup
    full = jacobian(fn, theta, points)
    columns = torch.tensor([0, 5, 17, fn.n_params - 1])
    close = {"rtol": 0, "atol": 1e-14}  # batch sizes change the BLAS kernels, hence the round-off
    assert torch.allclose(jacobian(fn, theta, points, chunk_size=5), full, **close)
    assert torch.allclose(jacobian(fn, theta, points, columns=columns, chunk_size=4), full[:, columns], **close)
    forward = jacobian(fn, theta, points, columns=columns, chunk_size=10, mode="fwd")
    assert torch.allclose(forward, full[:, columns], rtol=0, atol=1e-13)
    assert [len(b) for b in jacobian_blocks(fn, theta, points, chunk_size=10)] == [10, 10, 3]


def test_directional_finite_differences(setup):
    fn, theta, points = setup
    v = torch.randn(theta.numel(), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    h = 1e-5
    with torch.no_grad():
        central = (fn(theta + h * v, points) - fn(theta - h * v, points)) / (2 * h)
    assert torch.allclose(jacobian(fn, theta, points) @ v, central, rtol=0, atol=1e-8)


def test_rows_per_chunk_respects_the_budget():
    assert rows_per_chunk(8361, 2**30) * 8361 * 8 <= 2**30
    assert rows_per_chunk(10**9, 1.0, minimum=16) == 16


def test_directional_derivatives_against_finite_differences(setup):
    fn, theta, points = setup
    v = torch.randn(theta.numel(), dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    first, second = directional_derivatives(fn, theta, v, points)
    assert torch.allclose(first, jacobian(fn, theta, points) @ v, rtol=0, atol=1e-13)
    h = 1e-4
    with torch.no_grad():
        central = (fn(theta + h * v, points) - 2 * fn(theta, points) + fn(theta - h * v, points)) / h**2
    assert torch.allclose(second, central, rtol=0, atol=1e-5)
