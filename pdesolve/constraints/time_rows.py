"""The PDE rows of a grid constraint, one evaluator per time discretisation.

- stationary: ``residual(u)`` at the nodes off non-periodic boundaries;
- evolution on time levels ``t_0 … t_{T-1}``: the θ-method residual in step form,
  ``u^{n+1} - u^n - Δt (θ rhs(u^{n+1}) + (1 - θ) rhs(u^n))`` at ``(t_{n+½}, x)`` for interior ``x``, and the
  initial rows ``u^0 - u_0`` (``u_0`` the input channel). In step form (``time_rows="step"``, the default)
  every row is in units of ``u`` — a row residual ε perturbs one step's update by ε — so the least-squares fit
  and the relative residual weigh the PDE, initial and boundary rows alike. The rate form
  (``time_rows="rate"``, the residual divided by Δt) weighs the PDE rows 1/Δt times less when Δt > 1, which on
  diffusion–sorption (Δt = 20) leaves large errors from the data at a small relative residual; with Δt < 1 the
  step form weighs the PDE rows less than the rate form (figures: benchmarks/RESULTS.md, "Design choices of the
  constraint rows"). ``θ = ½`` (default) is the trapezoidal rule, second
  order; ``θ = 1`` backward Euler, first order but L-stable: with diffusion numbers ``Δt D / h² ≫ 1`` and
  initial and boundary data that disagree (diffusion–sorption: ``u_0 < 1 = u(0, t > 0)``) the field that zeroes
  trapezoidal rows flips sign in time near the jump each step (its amplification factor tends to -1), a
  target no smooth basis spans; backward-Euler rows give a monotone field.

Each takes the problem, the experts' fields ``u`` (batch, K, c, [T,] *window) as a field object, the window
constants ``c`` (coordinates, ``dt``) and the parameters, and returns the PDE rows (batch, K, c, rows) and the
initial rows (batch, K, c, nodes; none when stationary).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

RowForm = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (θ rows in step form, Δt) -> rows


def step_form(rows: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
    """Rows in units of ``u``, as they are."""
    return rows


def rate_form(rows: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
    """Rows in units of ``u`` per unit time: divided by Δt."""
    return rows / dt


TIME_ROWS: dict[str, RowForm] = {"step": step_form, "rate": rate_form}


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
    """``u^{n+1} - u^n - Δt (θ rhs(u^{n+1}) + (1 - θ) rhs(u^n))`` in the ``form`` of :data:`TIME_ROWS` (step:
    as it is; rate: divided by Δt) and the initial rows ``u^0 - u_0``."""

    theta: float = 0.5
    form: RowForm = step_form

    def __call__(
        self, problem: Any, field: Any, u: torch.Tensor, c: dict[str, Any], params: Any, initial: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        f = problem.rhs(field, c["coords"], params)
        f = torch.broadcast_to(f.at_nodes().values if hasattr(f, "at_nodes") else torch.as_tensor(f), u.shape)
        step = self.theta * f[:, :, :, 1:] + (1 - self.theta) * f[:, :, :, :-1]
        pde = self.form(u[:, :, :, 1:] - u[:, :, :, :-1] - c["dt"] * step, c["dt"])
        return pde.flatten(3), (u[:, :, :, 0] - initial).flatten(3)
