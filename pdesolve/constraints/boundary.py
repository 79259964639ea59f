"""Boundary rows of a hard constraint: ``α u + β ∂u/∂n - g = 0`` at boundary points.

Dirichlet is ``(α, β) = (1, 0)``, Neumann ``(0, 1)``, Robin its own ``(α, β)``. Each boundary point takes
the first condition of the problem whose ``on`` mask holds there (a condition without ``on`` takes every
point no earlier condition claimed); periodic conditions make no rows. On a grid constraint's windows the rows
are evaluated with ``∂u/∂n`` by the grid's one-sided second-order differences (:func:`window_boundary_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pdesolve.problem import Coords, Dirichlet, Grid, GridField, Neumann, Periodic, Problem, Robin
from pdesolve.problem.conditions import Condition, evaluate_value


@dataclass(frozen=True)
class BoundaryRows:
    """Per boundary point: ``alpha``, ``beta`` and the target ``value`` (all (R,) arrays), and ``keep``,
    the points some condition covers."""

    alpha: np.ndarray
    beta: np.ndarray
    value: np.ndarray
    keep: np.ndarray


def _coefficients(condition: Condition) -> tuple[float, float, object]:
    if isinstance(condition, Dirichlet):
        return 1.0, 0.0, condition.value
    if isinstance(condition, Neumann):
        return 0.0, 1.0, condition.flux
    if isinstance(condition, Robin):
        return float(condition.alpha), float(condition.beta), condition.value
    raise TypeError(f"no boundary rows for a {type(condition).__name__} condition")


def boundary_rows(problem: Problem, x: Coords) -> BoundaryRows:
    """Coefficients of the condition that holds at each point of ``x`` (numpy coordinates, ``x.t`` if any)."""
    n = len(np.atleast_1d(x[0]))
    alpha, beta, value = np.zeros(n), np.zeros(n), np.zeros(n)
    claimed = np.zeros(n, dtype=bool)
    for condition in problem.boundary:
        if isinstance(condition, Periodic):
            continue
        mine = condition.applies(x) & ~claimed
        if not mine.any():
            continue
        a, b, g = _coefficients(condition)
        alpha[mine], beta[mine] = a, b
        value[mine] = np.broadcast_to(np.asarray(evaluate_value(g, x, problem.p), dtype=float), (n,))[mine]
        claimed |= mine
    return BoundaryRows(alpha, beta, value, claimed)


def window_boundary_rows(u: torch.Tensor, c: dict[str, Any], grid: Grid, window: Grid) -> torch.Tensor:
    """``α u + β ∂u/∂n - g`` at each expert's boundary slots (zero rows where it has none): ``u`` the experts'
    fields (batch, K, c, [T,] *window) on the ``window`` grid of the whole ``grid``, ``c`` the window constants
    (``bc_position``, ``bc_axis``, ``bc_sign``, ``bc_alpha``, ``bc_beta``, ``bc_value``)."""
    flat = u.flatten(3)
    index = c["bc_position"][None, :, None, :].expand(*u.shape[:3], -1)
    values = c["bc_alpha"] * torch.gather(flat, -1, index)
    normal = torch.zeros_like(values)
    for k in range(grid.dim):
        on_axis = c["bc_axis"] == k
        if grid.periodic[k] or not bool(on_axis.any()):
            continue
        derivative = GridField(u, window).derivative(grid.names[k]).values.flatten(3)
        normal = normal + torch.where(on_axis, torch.gather(derivative, -1, index), torch.zeros_like(normal))
    return values + c["bc_beta"] * c["bc_sign"] * normal - c["bc_value"]
