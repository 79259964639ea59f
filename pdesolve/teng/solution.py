"""The solution of a TENG run: the network with its parameters at every time step.

Between two stored times ``t_k ≤ t ≤ t_{k+1}`` the value is the linear interpolation in time of the
two network outputs, ``(1 - w) u_{θ_k}(x) + w u_{θ_{k+1}}(x)`` with ``w = (t - t_k)/(t_{k+1} - t_k)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pdesolve.ngd import FlatModule
from pdesolve.problem import Problem
from pdesolve.solvers.solution import Solution, grid_cells

GRID_POINTS_PER_AXIS = {1: 201, 2: 81, 3: 25}
OUTPUT_TIMES = 11


class TengSolution(Solution):
    """``solution(points)`` with points (N, dim + 1), time in the last column; ``thetas[k]`` at ``times[k]``."""

    def __init__(
        self,
        problem: Problem,
        fn: FlatModule,
        times: np.ndarray,
        thetas: torch.Tensor,
        stats: dict[str, Any] | None = None,
        chunk_size: int = 65536,
    ) -> None:
        super().__init__(problem, stats)
        self.fn = fn
        self.times = np.asarray(times, dtype=float)
        self.thetas = thetas
        self.chunk_size = chunk_size
        if len(self.times) != thetas.shape[0]:
            raise ValueError(f"{len(self.times)} times but {thetas.shape[0]} parameter vectors")

    @torch.no_grad()
    def network(self, k: int, points: np.ndarray) -> np.ndarray:
        """The network with parameters ``thetas[k]`` at spatial points (N, dim)."""
        theta = self.thetas[k]
        x = torch.as_tensor(points, dtype=theta.dtype, device=theta.device)
        values = [self.fn(theta, x[s : s + self.chunk_size]) for s in range(0, len(x), self.chunk_size)]
        return torch.cat(values).cpu().numpy() if values else np.zeros(0)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, dtype=float))
        space, t = points[:, :-1], np.clip(points[:, -1], self.times[0], self.times[-1])
        if len(self.times) == 1:
            return self.network(0, space)
        k = np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, len(self.times) - 2)
        w = (t - self.times[k]) / (self.times[k + 1] - self.times[k])
        out = np.empty(len(points))
        for interval in np.unique(k):
            rows = k == interval
            left, right = self.network(interval, space[rows]), self.network(interval + 1, space[rows])
            out[rows] = (1 - w[rows]) * left + w[rows] * right
        return out

    def grid(self) -> tuple[list[np.ndarray], np.ndarray]:
        """Axes and points (N, dim) of a uniform grid of the box (periodic axes without their right end)."""
        lower, upper = self.problem.domain.bounds
        n = GRID_POINTS_PER_AXIS[self.problem.dim]
        axes = [
            np.linspace(lo, hi, n, endpoint=not periodic)
            for lo, hi, periodic in zip(lower, upper, self.problem.periodic_axes)
        ]
        points = np.stack([c.ravel() for c in np.meshgrid(*axes, indexing="ij")], axis=1)
        return axes, points

    def arrays(self) -> dict[str, np.ndarray]:
        """Grid values at 11 output times (``u``, ``t``) and the whole parameter history (``theta``, ``theta_t``)."""
        axes, points = self.grid()
        shape = tuple(len(a) for a in axes)
        picks = np.unique(np.linspace(0, len(self.times) - 1, OUTPUT_TIMES).round().astype(int))
        out = {f"axis_{name}": axis for name, axis in zip(("x", "y", "z"), axes)}
        out["t"] = self.times[picks]
        out["u"] = np.stack([self.network(k, points).reshape(shape) for k in picks])
        out["theta_t"] = self.times
        out["theta"] = self.thetas.cpu().numpy()
        return out

    def final_snapshot(self) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray]]]:
        axes, points = self.grid()
        return points, self.network(len(self.times) - 1, points), grid_cells(tuple(len(a) for a in axes))
