"""The solution of a TENG run: the network with its parameters at every time step.

Between two stored times ``t_k < t < t_{k+1}`` the value is the cubic Hermite interpolant in time of
the two network outputs and their time derivatives ``u_t = F(u)`` (the problem's right-hand side,
evaluated on the network by autograd): its error is ``O(Δt⁴)``, so it keeps the step's accuracy
between steps (``interpolation="linear"`` uses the network outputs only, error ``O(Δt²)``).
``field`` is the same interpolant in torch, differentiable in x and t (the rates differentiated through).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pdesolve.ngd import FlatModule
from pdesolve.problem import Coords, NetworkField, Problem
from pdesolve.problem.coords import SPACE_NAMES
from pdesolve.problem.field import Field
from pdesolve.solvers.solution import Solution, grid_cells
from pdesolve.teng.model import SampledModel

GRID_POINTS_PER_AXIS = {1: 201, 2: 81, 3: 25}
OUTPUT_TIMES = 11


def hermite_basis(s: Any) -> tuple[Any, Any, Any, Any]:
    """``h00, h10, h01, h11`` of cubic Hermite interpolation at fractions ``s`` of an interval."""
    return 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, 3 * s**2 - 2 * s**3, s**3 - s**2


Ends = tuple[Any, Any]  # the network outputs at the interval's two ends (numpy, or torch in the graph)


class TimeInterpolation:
    """How a solution's values between ``t_k`` and ``t_{k+1}`` come from the networks at the two ends."""

    def values(self, solution: TengSolution, k: int, space: np.ndarray, w: np.ndarray, ends: Ends) -> np.ndarray:
        """At fractions ``w`` of ``[t_k, t_{k+1}]`` and the points ``space``."""
        raise NotImplementedError

    def field(self, solution: TengSolution, k: int, space: dict, s: torch.Tensor, h: float, ends: Ends) -> Any:
        """The same in torch at fractions ``s`` of the step ``h``, differentiable in ``space`` and ``s``."""
        raise NotImplementedError


class LinearInTime(TimeInterpolation):
    """``(1 − s) u_k + s u_{k+1}``: the network outputs only, error ``O(Δt²)``."""

    def values(self, solution: TengSolution, k: int, space: np.ndarray, w: np.ndarray, ends: Ends) -> np.ndarray:
        return (1 - w) * ends[0] + w * ends[1]

    def field(self, solution: TengSolution, k: int, space: dict, s: torch.Tensor, h: float, ends: Ends) -> Any:
        return (1 - s) * ends[0] + s * ends[1]


class HermiteInTime(TimeInterpolation):
    """The cubic Hermite interpolant of the outputs and their rates ``u_t = F(u)``, error ``O(Δt⁴)``."""

    def values(self, solution: TengSolution, k: int, space: np.ndarray, w: np.ndarray, ends: Ends) -> np.ndarray:
        left, right = ends
        out = np.where(w < 0.5, left, right)  # exact at the stored times (w = 0 or 1)
        inner = (w > 0) & (w < 1)
        if inner.any():
            s, x, h = w[inner], space[inner], solution.times[k + 1] - solution.times[k]
            h00, h10, h01, h11 = hermite_basis(s)
            rates = h10 * solution.rate(k, x) + h11 * solution.rate(k + 1, x)
            out[inner] = h00 * left[inner] + h01 * right[inner] + h * rates
        return out

    def field(self, solution: TengSolution, k: int, space: dict, s: torch.Tensor, h: float, ends: Ends) -> Any:
        times = solution.times
        rates = [solution.field_rate(u, space, float(times[j])) for u, j in zip(ends, (k, k + 1))]
        h00, h10, h01, h11 = hermite_basis(s)
        return h00 * ends[0] + h01 * ends[1] + h * (h10 * rates[0] + h11 * rates[1])


INTERPOLATIONS: dict[str, TimeInterpolation] = {"hermite": HermiteInTime(), "linear": LinearInTime()}


class TengSolution(Solution):
    """``solution(points)`` with points (N, dim + 1), time in the last column; ``thetas[k]`` at ``times[k]``."""

    differentiable = True

    def __init__(
        self,
        problem: Problem,
        fn: FlatModule,
        times: np.ndarray,
        thetas: torch.Tensor,
        stats: dict[str, Any] | None = None,
        chunk_size: int = 65536,
        interpolation: str = "hermite",
    ) -> None:
        super().__init__(problem, stats)
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation {interpolation!r}: choose 'hermite' or 'linear'")
        self.interpolation = INTERPOLATIONS[interpolation]
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

    def rate(self, k: int, points: np.ndarray) -> np.ndarray:
        """``u_t = F(u)`` of the network with parameters ``thetas[k]`` at spatial points (N, dim)."""
        theta = self.thetas[k]
        x = torch.as_tensor(points, dtype=theta.dtype, device=theta.device)
        return SampledModel(self.fn, self.problem, x, self.chunk_size).rhs(theta, self.times[k]).cpu().numpy()

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
            out[rows] = self._between(interval, space[rows], w[rows])
        return out

    def _between(self, k: int, space: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Values at fractions ``w`` of the interval ``[t_k, t_{k+1}]``."""
        return self.interpolation.values(self, k, space, w, (self.network(k, space), self.network(k + 1, space)))

    def field(self, points: np.ndarray) -> tuple[NetworkField, Coords]:
        """The interpolant in time of the networks at points (N, dim + 1) as a field of (x, t), derivatives by
        autograd: ``u_t`` is the interpolant's own time derivative, not ``F(u)``."""
        theta = self.thetas[0]
        points = np.atleast_2d(np.asarray(points, dtype=float))
        names = SPACE_NAMES[: self.problem.dim] + ("t",)
        tensor = torch.as_tensor(points, dtype=theta.dtype, device=theta.device)
        coords = {name: tensor[:, k].clone().requires_grad_(True) for k, name in enumerate(names)}
        t = np.clip(points[:, -1], self.times[0], self.times[-1])
        k = np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, max(len(self.times) - 2, 0))
        order = np.argsort(k, kind="stable")
        pieces = [
            self._piece(interval, coords, torch.as_tensor(order[k[order] == interval])) for interval in np.unique(k)
        ]
        values = torch.cat(pieces)[torch.as_tensor(np.argsort(order))]
        return NetworkField(values, coords), Coords([coords[name] for name in names[:-1]], t=coords["t"])

    def _piece(self, k: int, coords: dict[str, torch.Tensor], rows: torch.Tensor) -> torch.Tensor:
        """The interpolant on ``[t_k, t_{k+1}]`` at the given rows of ``coords``, differentiable in them."""
        space = {name: value[rows] for name, value in coords.items() if name != "t"}
        stacked = torch.stack(list(space.values()), dim=1)
        left = self.fn(self.thetas[k], stacked)
        if len(self.times) == 1:
            return left
        h = float(self.times[k + 1] - self.times[k])
        s = (coords["t"][rows] - float(self.times[k])) / h
        right = self.fn(self.thetas[k + 1], stacked)
        return self.interpolation.field(self, k, space, s, h, (left, right))

    def field_rate(self, u: torch.Tensor, space: dict[str, torch.Tensor], t: float) -> torch.Tensor:
        """``F(u)`` of network values ``u`` at the coordinates ``space`` (kept in the graph)."""
        x = Coords(list(space.values()), t=torch.full_like(u, t))
        out = self.problem.rhs(NetworkField(u, space), x, self.problem.p)
        values = out.values if isinstance(out, Field) else out
        return torch.broadcast_to(torch.as_tensor(values, dtype=u.dtype, device=u.device), u.shape)

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
