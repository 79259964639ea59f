"""A trained PINN as a :class:`~pdesolve.solvers.solution.Solution`: the network, evaluable and differentiable
anywhere."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pdesolve.pinn.losses import network_field
from pdesolve.problem import Coords, Problem
from pdesolve.solvers.solution import Solution, grid_cells

GRID_SIZE = {1: 201, 2: 101, 3: 41}
SNAPSHOTS = 51


class PinnSolution(Solution):
    """``solution(points)`` evaluates the network; points (N, dim[+1]) with time last."""

    differentiable = True

    def __init__(self, problem: Problem, model: torch.nn.Module, stats: dict[str, Any] | None = None) -> None:
        super().__init__(problem, stats)
        self.model = model.eval()
        parameter = next(model.parameters())
        self.dtype, self.device = parameter.dtype, parameter.device

    def __call__(self, points: np.ndarray, batch: int = 65536) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, dtype=float))
        out = []
        for start in range(0, len(points), batch):
            chunk = torch.as_tensor(points[start : start + batch], dtype=self.dtype, device=self.device)
            with torch.no_grad():
                out.append(self.model(chunk).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0)

    def field(self, points: np.ndarray) -> tuple[Any, Coords]:
        """The network at the points as the loss sees it (:func:`~pdesolve.pinn.losses.network_field`)."""
        tensor = torch.as_tensor(np.atleast_2d(np.asarray(points, dtype=float)), dtype=self.dtype, device=self.device)
        return network_field(self.model, self.problem, tensor)

    def _grid(self) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """Axes of a grid over the bounding box, its points (C order) and which lie in the domain."""
        lower, upper = self.problem.domain.bounds
        n = GRID_SIZE.get(self.problem.dim, 21)
        axes = [np.linspace(lo, hi, n) for lo, hi in zip(lower, upper)]
        points = np.stack([c.ravel() for c in np.meshgrid(*axes, indexing="ij")], axis=1)
        return axes, points, np.asarray(self.problem.domain.inside(points), dtype=bool)

    @property
    def times(self) -> np.ndarray | None:
        if not self.problem.is_evolution:
            return None
        return np.linspace(*self.problem.time, SNAPSHOTS)

    def _values(self, points: np.ndarray, inside: np.ndarray, t: float | None) -> np.ndarray:
        """Values at the points (NaN outside): shape (N,), or (N, unknowns) for a system."""
        count = len(self.problem.unknowns)
        values = np.full((len(points), count) if count > 1 else len(points), np.nan)
        where = points[inside]
        if t is not None:
            where = np.column_stack([where, np.full(len(where), t)])
        values[inside] = self(where)
        return values

    def arrays(self) -> dict[str, np.ndarray]:
        """The solution on a grid over the bounding box (NaN outside the domain), at ``times`` if it evolves."""
        axes, points, inside = self._grid()
        shape = tuple(len(a) for a in axes)
        out = {f"axis_{name}": axis for name, axis in zip("xyz", axes)}
        if self.problem.is_system:
            times = [None] if self.times is None else list(self.times)
            values = np.stack([self._values(points, inside, t) for t in times])  # (times, points, unknowns)
            for k, name in enumerate(self.problem.unknowns):
                column = values[..., k].reshape((len(times), *shape))
                out[name] = column[0] if self.times is None else column
            if self.times is not None:
                out["t"] = self.times
        elif self.times is None:
            out["u"] = self._values(points, inside, None).reshape(shape)
        else:
            out["u"] = np.stack([self._values(points, inside, t).reshape(shape) for t in self.times])
            out["t"] = self.times
        return out

    def final_snapshot(self) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray]]]:
        """Grid nodes in the domain and the grid cells whose nodes all lie in it, at the final time."""
        axes, points, inside = self._grid()
        cells = grid_cells(tuple(len(a) for a in axes))
        if not inside.all():
            renumber = np.cumsum(inside) - 1
            cells = [(kind, renumber[c[inside[c].all(axis=1)]]) for kind, c in cells]
            points = points[inside]
        t = None if self.times is None else float(self.times[-1])
        return points, self._values(points, np.ones(len(points), dtype=bool), t), cells
