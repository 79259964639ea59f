"""The PDE rows of a grid constraint, one evaluator per time discretisation (the module docstring of
:mod:`~pdesolve.constraints.grid_system` gives the forms).

Each takes the problem, the experts' fields ``u`` (batch, K, c, [T,] *window) as a field object, the window
constants ``c`` (coordinates, ``dt``) and the parameters, and returns the PDE rows (batch, K, c, rows) and the
initial rows (batch, K, c, nodes; none when stationary).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

TIME_ROWS = ("step", "rate")


@dataclass(frozen=True)
class StationaryRows:
    """``residual(u)`` at every window node."""

    def __call__(
        self, problem: Any, field: Any, u: torch.Tensor, c: dict[str, Any], params: Any, initial: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        pde = torch.broadcast_to(problem.residual(field, c["coords"], params).at_nodes().values, u.shape)
        return pde.flatten(3), u.new_zeros(*u.shape[:3], 0)


@dataclass(frozen=True)
class ThetaRows:
    """``u^{n+1} - u^n - Δt (θ rhs(u^{n+1}) + (1 - θ) rhs(u^n))`` (``form="step"``; ``"rate"``: divided by Δt)
    and the initial rows ``u^0 - u_0``."""

    theta: float = 0.5
    form: str = "step"

    def __call__(
        self, problem: Any, field: Any, u: torch.Tensor, c: dict[str, Any], params: Any, initial: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        f = problem.rhs(field, c["coords"], params)
        f = torch.broadcast_to(f.at_nodes().values if hasattr(f, "at_nodes") else torch.as_tensor(f), u.shape)
        step = self.theta * f[:, :, :, 1:] + (1 - self.theta) * f[:, :, :, :-1]
        pde = u[:, :, :, 1:] - u[:, :, :, :-1] - c["dt"] * step
        if self.form == "rate":
            pde = pde / c["dt"]
        return pde.flatten(3), (u[:, :, :, 0] - initial).flatten(3)
