"""A physics-informed loss for operators of stationary problems, through the problem layer's grid operators.

The problem's own ``residual(u, x, p)`` is evaluated on a :class:`GridField` whose values are the predicted
batch, shape (batch, *grid), with each family field ``p.<name>`` replaced by the batch's input channel
(family fields are functions of ``x``, so ``p.a(x)`` returns that channel). The loss is the mean over the
batch of ``||R(u)||² / ||R(0)||²`` on the interior nodes: scale-free, and zero for the classical solution
of the same finite-difference scheme. Boundary values are left to the data loss.
"""

from __future__ import annotations

import torch

from pdesolve.errors import NotApplicableError
from pdesolve.problem import Coords, Grid, GridField, Problem


class _Channel:
    """Stands in for a family field: calling it at the grid's coordinates returns the batch's values."""

    def __init__(self, values: torch.Tensor) -> None:
        self.values = values

    def __call__(self, x: Coords) -> torch.Tensor:
        return self.values


class PhysicsLoss:
    """``mean_b ||R(u_b)||² / ||R(0)||²`` over interior nodes for a batch of predictions ``u``."""

    def __init__(self, problem: Problem, grid: Grid, inputs: list[str], device: torch.device | str = "cpu") -> None:
        if problem.is_evolution:
            raise NotApplicableError("the physics loss covers stationary problems (an input -> u(T) map has no u_t)")
        self.problem, self.grid, self.inputs = problem, grid, list(inputs)
        self.coords = Coords([torch.as_tensor(c, dtype=torch.float32, device=device) for c in grid.coordinates()])
        self.interior = torch.as_tensor(~grid.boundary_mask(), device=device)

    def residual(self, u: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """The residual on the grid, shape (batch, *grid)."""
        params = self.problem.p.replace(**{name: _Channel(inputs[:, k]) for k, name in enumerate(self.inputs)})
        residual = self.problem.residual(GridField(u, self.grid), self.coords, params)
        return torch.broadcast_to(residual.at_nodes().values, u.shape)

    def __call__(self, u: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        inputs = inputs.float()
        squared = (self.residual(u.float(), inputs) ** 2 * self.interior).flatten(1).sum(dim=1)
        reference = self.residual(torch.zeros_like(u, dtype=torch.float32), inputs) ** 2 * self.interior
        return (squared / reference.flatten(1).sum(dim=1).clamp_min(1e-30)).mean()
