"""The point-backbone hard constraint: basis derivatives by NetworkField, experts owning their points."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from constraints_helpers import heat, poisson
from torch import nn
from torch.func import functional_call

from pdesolve.constraints import LMOptions
from pdesolve.constraints.points import PointConstraintSystem, PointHardConstraint
from pdesolve.errors import PdesolveError
from pdesolve.problem import NetworkField, d


def mlp(inputs: int, nb: int, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(inputs, 8), nn.Tanh(), nn.Linear(8, nb)).double()


def test_rows_equal_the_network_field_residual_of_each_experts_combination():
    """u_t - 0.1 u_xx at the PDE points, by autograd on u itself, for two experts split in x and t."""
    net = mlp(2, 4)
    system = PointConstraintSystem(heat(), net, experts=(2, 2), points=5, boundary_points=3)
    omega = torch.randn(1, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    rows = system.residual(omega, list(net.parameters()))
    points = torch.as_tensor(system.arrays["points"])
    for k in range(4):
        mine = (system.arrays["kind"][k] == 0) & (system.rows.weight[k].numpy() > 0)
        x, t = (points[k, mine, i].clone().requires_grad_() for i in (0, 1))
        u = NetworkField(net(torch.stack([x, t], 1)) @ omega[0, k], {"x": x, "t": t})
        expected = (d(u, "t") - 0.1 * d(u, "x", 2)).values
        torch.testing.assert_close(rows[0, k, torch.as_tensor(mine)], expected.detach(), rtol=1e-12, atol=1e-12)
    assert system.rows.weight.sum() == 4 * 5 + 3  # PDE points and the u0 points (periodic: no boundary rows)


def test_point_constraint_meets_its_optimality_conditions_and_gradchecks():
    net = mlp(1, 4)
    layer = PointHardConstraint(
        PointConstraintSystem(poisson(lambda x: 1 / (1 + x.x)), net, experts=2, points=6, boundary_points=1),
        LMOptions(tol=1e-13),
    )
    omega = layer.weights()
    r, J = layer.system.residual_and_jacobian(omega, list(net.parameters()))
    assert (J.mT @ r[..., None]).norm() < 1e-8 * (J.norm() * r.norm() + 1e-30)
    assert layer.report.converged == 1.0 and layer.converged.tolist() == [True]
    x = torch.linspace(0, 1, 7, dtype=torch.float64)[:, None]
    weight = net[2].weight.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda w: functional_call(layer, {"net.2.weight": w}, (x,)), (weight,), fast_mode=True
    )


def interface_points(system: PointConstraintSystem, expert: int) -> np.ndarray:
    mine = (system.arrays["kind"][expert] == 3) & (system.rows.weight[expert].numpy() > 0)
    return system.arrays["points"][expert, mine]


def test_interface_points_sit_on_the_widened_subdomains_faces_inside_the_domain():
    line = PointConstraintSystem(poisson(), mlp(1, 5), experts=2, points=6, boundary_points=3, overlap=0.25,
                                 interfaces=True)  # fmt: skip
    assert np.allclose(interface_points(line, 0), 0.625) and np.allclose(interface_points(line, 1), 0.375)
    assert line.arrays["points"][0, :6].max() <= 0.625 and line.arrays["points"][1, :6].min() >= 0.375
    conditions = [line.arrays["points"][k, line.arrays["kind"][k] == 2] for k in (0, 1)]
    assert np.allclose(conditions[0], 0.0) and np.allclose(conditions[1], 1.0)  # each takes its own boundary

    # periodic in x, split in x and t: x faces wrap, time has a lower face only, the first time slab none
    plane = PointConstraintSystem(heat(), mlp(2, 5), experts=(2, 2), points=6, boundary_points=4, overlap=0.5,
                                  interfaces=True)  # fmt: skip
    x, t = interface_points(plane, 3).T  # x ∈ [0.5, 1), t ∈ [0.25, 0.5]: window x ∈ [0.25, 1.25), t ∈ [0.125, 0.5]
    assert np.all(np.isclose(x, 0.25) | np.isclose(t, 0.125)) and np.isclose(t, 0.125).sum() == 4
    assert np.isclose(x, 0.25).sum() == 8 and np.all((t >= 0.125) & (t <= 0.5))
    assert not np.any(np.isclose(interface_points(plane, 0)[:, 1], 0.0))  # t0 is the initial condition's
    assert (plane.arrays["kind"][3] == 1).sum() == 0 and (plane.arrays["kind"][0] == 1).sum() == 4


class Polynomials(nn.Module):
    """1, x, x², x³, sin 3x, and u = x − x³ (the solution of ``poisson()``) as the interface channel."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones((), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.scale * x[:, 0]
        return torch.stack([x**0, x, x**2, x**3, torch.sin(3 * x), x - x**3], dim=1)


@pytest.mark.parametrize("blend", [False, True])
def test_interface_rows_close_each_experts_problem_and_the_experts_recover_the_solution(blend):
    """Each expert fixes u = a + bx + x − x³ from one end's boundary row and its interface row; without the
    interface rows b is free and the solve picks another field."""
    x = torch.linspace(0, 1, 41, dtype=torch.float64)[:, None]
    exact = x[:, 0] - x[:, 0] ** 3

    def solved(interfaces: bool) -> torch.Tensor:
        system = PointConstraintSystem(poisson(), Polynomials(), experts=2, points=8, boundary_points=2,
                                       overlap=0.5, interfaces=interfaces, blend=blend)  # fmt: skip
        with torch.no_grad():
            return PointHardConstraint(system, LMOptions(tol=1e-13))(x)

    assert (solved(True) - exact).abs().max() < 1e-9
    assert (solved(False) - exact).abs().max() > 1e-2


def test_blended_layer_with_interfaces_gradchecks_and_is_a_partition_of_unity_of_the_experts():
    net = mlp(1, 5)
    system = PointConstraintSystem(poisson(lambda x: 1 / (1 + x.x)), net, experts=3, points=6, boundary_points=1,
                                   overlap=0.5, interfaces=True, blend=True)  # fmt: skip
    layer = PointHardConstraint(system, LMOptions(tol=1e-13))
    x = torch.linspace(0, 1, 9, dtype=torch.float64)[:, None]
    omega = layer.weights()[0]
    experts = net(x)[:, :4] @ omega.T  # (points, K)
    phi = torch.as_tensor(system.partition.blend_weights(x.numpy(), 0.5)).T
    torch.testing.assert_close(layer(x), (experts * phi).sum(-1), rtol=1e-12, atol=1e-12)
    assert layer.converged.tolist() == [True]
    weight = net[2].weight.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda w: functional_call(layer, {"net.2.weight": w}, (x,)), (weight,), fast_mode=True
    )


def test_blend_needs_an_overlap():
    with pytest.raises(PdesolveError, match="overlap"):
        PointConstraintSystem(poisson(), mlp(1, 4), experts=2, blend=True)
