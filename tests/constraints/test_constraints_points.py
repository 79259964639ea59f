"""The point-backbone hard constraint: basis derivatives by NetworkField, experts owning their points."""

from __future__ import annotations

import torch
from constraints_helpers import heat, poisson
from torch import nn
from torch.func import functional_call

from pdesolve.constraints import LMOptions
from pdesolve.constraints.points import PointConstraintSystem, PointHardConstraint
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
