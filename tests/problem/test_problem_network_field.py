"""Residuals of network fields are differentiable in the network's parameters (what PINN training needs)."""

import pytest
import torch

from pdesolve.problem import Coords, NetworkField, load_problem


def tiny_network(inputs: list[torch.Tensor], w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    hidden = torch.tanh(torch.stack(inputs, dim=1) @ w1 + b1)
    return (hidden @ w2).squeeze(1)


@pytest.mark.parametrize("name, axes", [("poisson2d", ("x", "y")), ("burgers1d", ("x", "t"))])
def test_residual_gradcheck_in_float64(name, axes):
    problem = load_problem(name)
    generator = torch.Generator().manual_seed(0)
    coords = {a: torch.rand(12, dtype=torch.float64, generator=generator).requires_grad_() for a in axes}
    x = Coords([coords[a] for a in axes if a != "t"], t=coords.get("t"))
    parameters = (
        torch.randn(len(axes), 6, dtype=torch.float64, generator=generator).requires_grad_(),
        torch.randn(6, dtype=torch.float64, generator=generator).requires_grad_(),
        torch.randn(6, 1, dtype=torch.float64, generator=generator).requires_grad_(),
    )

    def residual(*weights: torch.Tensor) -> torch.Tensor:
        u = NetworkField(tiny_network([coords[a] for a in axes], *weights), coords)
        if problem.is_evolution:
            return (u.derivative("t") - problem.rhs(u, x, problem.p)).values
        return problem.residual(u, x, problem.p).values

    assert residual(*parameters).shape == (12,)
    assert torch.autograd.gradcheck(residual, parameters, eps=1e-6, atol=1e-7)
