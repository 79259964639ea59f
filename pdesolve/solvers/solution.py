"""Solutions: evaluable anywhere, comparable with the reference, exportable."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from pdesolve.problem import Grid, Problem


class Solution:
    """What a solver returns: ``solution(points)`` with points (N, dim[+1]), time as the last column."""

    differentiable = False  # whether ``field`` exists (network solutions)

    def __init__(self, problem: Problem, stats: dict[str, Any] | None = None) -> None:
        self.problem = problem
        self.stats: dict[str, Any] = dict(stats or {})

    def __call__(self, points: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def field(self, points: np.ndarray) -> tuple[Any, Any]:
        """The solution at points (N, dim[+1]) as a field differentiable by autograd (a system's ``Unknowns``),
        with the coordinates the problem's functions see: the form residuals are evaluated on. Only where
        ``differentiable``; grid and mesh solutions have none."""
        raise NotImplementedError

    def arrays(self) -> dict[str, np.ndarray]:
        """What goes into ``solution.npz``."""
        raise NotImplementedError

    def final_snapshot(self) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray]]]:
        """(points, values, cells) at the final time, for meshio export and plots."""
        raise NotImplementedError


class GridSolution(Solution):
    """Values on a grid, at one time (stationary) or at ``times`` (evolution: values[k] at times[k])."""

    def __init__(
        self,
        problem: Problem,
        grid: Grid,
        values: np.ndarray,
        times: np.ndarray | None = None,
        stats: dict[str, Any] | None = None,
        interpolation: str = "linear",
    ) -> None:
        super().__init__(problem, stats)
        self.grid = grid
        self.values = np.asarray(values, dtype=float)
        self.times = None if times is None else np.asarray(times, dtype=float)
        expected = grid.shape if times is None else (len(self.times), *grid.shape)
        if self.values.shape != expected:
            raise ValueError(f"solution values have shape {self.values.shape}, expected {expected}")
        self.interpolation = interpolation

    def _interpolator(self) -> RegularGridInterpolator:
        """Built once (cubic splines solve a large system) and reused until ``values`` is replaced."""
        key = (id(self.values), self.interpolation)
        if getattr(self, "_cached", (None, None))[0] != key:
            self._cached = (key, self._build_interpolator())
        return self._cached[1]

    def _build_interpolator(self) -> RegularGridInterpolator:
        axes, values = list(self.grid.axes), self.values
        offset = 0 if self.times is None else 1
        for k, periodic in enumerate(self.grid.periodic):
            if periodic:
                axes[k] = np.append(axes[k], self.grid.upper[k])
                values = np.concatenate([values, np.take(values, [0], axis=k + offset)], axis=k + offset)
        if self.times is not None:
            axes = [self.times, *axes]
            if len(self.times) == 1:  # a single snapshot: constant in time
                axes[0] = np.array([self.times[0], self.times[0] + 1.0])
                values = np.concatenate([values, values])
        method = self.interpolation if all(len(a) > 3 for a in axes) else "linear"
        return RegularGridInterpolator(axes, values, method=method, bounds_error=False, fill_value=None)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, dtype=float)).copy()
        for k, periodic in enumerate(self.grid.periodic):
            if periodic:
                lo, hi = self.grid.lower[k], self.grid.upper[k]
                points[:, k] = lo + np.mod(points[:, k] - lo, hi - lo)
        if self.times is not None:  # the interpolator wants time first
            points = np.column_stack([points[:, -1], points[:, :-1]])
        return self._interpolator()(points)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {f"axis_{name}": axis for name, axis in zip(self.grid.names, self.grid.axes)}
        out["u"] = self.values
        if self.times is not None:
            out["t"] = self.times
        return out

    def final_snapshot(self) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray]]]:
        values = self.values if self.times is None else self.values[-1]
        return self.grid.points(), values.ravel(), grid_cells(self.grid.shape)


def grid_cells(shape: tuple[int, ...]) -> list[tuple[str, np.ndarray]]:
    """meshio cells (lines, quads or hexahedra) connecting the nodes of a C-ordered grid."""
    index = np.arange(int(np.prod(shape))).reshape(shape)
    if len(shape) == 1:
        return [("line", np.column_stack([index[:-1], index[1:]]))]
    if len(shape) == 2:
        a, b, c, e = index[:-1, :-1], index[1:, :-1], index[1:, 1:], index[:-1, 1:]
        return [("quad", np.stack([a, b, c, e], axis=-1).reshape(-1, 4))]
    corners = [
        index[i : i + shape[0] - 1, j : j + shape[1] - 1, k : k + shape[2] - 1]
        for (i, j, k) in [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]
    ]
    return [("hexahedron", np.stack(corners, axis=-1).reshape(-1, 8))]
