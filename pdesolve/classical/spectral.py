"""Fourier pseudo-spectral solver for evolution problems periodic in every axis, ETDRK4 in time.

The problem's ``rhs(u, x, p)`` is evaluated on a spectral :class:`GridField` (FFT derivatives) and
split automatically into a stiff diagonal part ``L`` (probed, see :mod:`pdesolve.classical.splitting`)
and the rest ``N``, integrated by ETDRK4 (Cox & Matthews 2002; Kassam & Trefethen 2005). ``N`` is
de-aliased by padding (Orszag's 3/2 rule, :mod:`pdesolve.classical.dealiasing`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from pdesolve.classical.assembly import box_grid
from pdesolve.classical.dealiasing import Padding
from pdesolve.classical.etdrk4 import ETDRK4
from pdesolve.classical.evolution import check_finite, output_times, time_bar
from pdesolve.classical.footprint import check_time_grid
from pdesolve.classical.fourier_backend import FourierBackend
from pdesolve.classical.spline_solution import SplineGridSolution
from pdesolve.classical.splitting import explicit_rate, linear_symbol
from pdesolve.errors import PdesolveError, ProblemError
from pdesolve.problem import Box, Coords, Grid, GridField, Problem
from pdesolve.problem.field import VectorField
from pdesolve.solvers.base import Solver, option, problem_default, register

DEFAULT_MODES = {1: 512, 2: 128, 3: 48}
STEP_SAFETY = 0.5  # dt = STEP_SAFETY / ‖dN/du‖ at the start ...
MIN_STEPS = 200  # ... and at least this many steps over the whole interval


class PeriodicRHS:
    """``F(u, t)`` of a problem on a spectral grid, on arrays of the backend (physical space)."""

    def __init__(self, problem: Problem, grid: Grid, backend: FourierBackend) -> None:
        self.problem, self.grid, self.backend = problem, grid, backend
        self.coords = [backend.real_array(c) for c in grid.coordinates()]
        self.p = problem.p

    def initial(self) -> Any:
        values = self.problem.initial(Coords(self.coords, t=self.backend.real_array(self.problem.time[0])), self.p)
        return self._on_grid(values, "initial")

    def __call__(self, u: Any, t: float) -> Any:
        x = Coords(self.coords, t=self.backend.real_array(t))
        return self._on_grid(self.problem.rhs(GridField(u, self.grid), x, self.p), "rhs")

    def _on_grid(self, values: Any, label: str) -> Any:
        if isinstance(values, VectorField):
            raise ProblemError(f"problem {self.problem.name!r}: {label} must be a scalar expression, not a vector")
        if isinstance(values, GridField):
            values = values.at_nodes().values
        values = self.backend.real_array(values)
        if tuple(values.shape) != self.grid.shape:
            values = values + self.backend.real_array(np.zeros(self.grid.shape))
        return values


class FourierSplit:
    """``F(u) = L u + N(u)`` on a spectral grid: ``L`` probed at the start time, ``N`` the exact rest.

    With ``dealias``, ``F`` inside ``N`` is formed on the 3/2-padded grid and the Nyquist modes are left out.
    """

    def __init__(self, problem: Problem, grid: Grid, backend: FourierBackend, dealias: bool) -> None:
        self.grid, self.backend = grid, backend
        self.rhs = PeriodicRHS(problem, grid, backend)
        self.symbol = linear_symbol(lambda u: self.rhs(u, problem.time[0]), grid.shape, backend)
        self._symbol = backend.complex_array(self.symbol)
        self.padding = Padding(grid.shape, backend) if dealias else None
        if self.padding is not None:
            fine_grid = Grid(grid.lower, grid.upper, self.padding.fine_shape, grid.periodic, "spectral")
            self.fine_rhs = PeriodicRHS(problem, fine_grid, backend)

    def coefficients(self, u: Any) -> Any:
        """The state in Fourier space (rfft layout)."""
        v = self.backend.rfftn(u, self.grid.dim)
        return v if self.padding is None else self.padding.drop_nyquist(v)

    def nonlinear_hat(self, v: Any, t: float) -> Any:
        """``N = F(u) - L u`` in Fourier space."""
        if self.padding is None:
            f = self.backend.rfftn(self.rhs(self.backend.irfftn(v, self.grid.shape), t), self.grid.dim)
        else:
            u = self.backend.irfftn(self.padding.pad(v), self.padding.fine_shape)
            f = self.padding.truncate(self.backend.rfftn(self.fine_rhs(u, t), self.grid.dim))
        return f - self._symbol * v

    def nonlinear(self, u: Any, t: float) -> Any:
        """``N`` in physical space (on the grid itself)."""
        lu = self.backend.irfftn(self._symbol * self.backend.rfftn(u, self.grid.dim), self.grid.shape)
        return self.rhs(u, t) - lu


@register
class SpectralSolver(Solver):
    name = "spectral"

    @dataclass(frozen=True)
    class Options:
        n: int | None = option(None, "Fourier modes per axis (None: the problem's default)")
        dt: float | None = option(
            None, "ETDRK4 time step (None: the problem's default, else a fraction of the explicit part's rate)"
        )
        dealias: bool = option(True, "form the nonlinear term on the 3/2-padded grid (Orszag's rule)")
        outputs: int = option(
            50, "stored time levels after t0 (a data file's own times when the problem has one)", positive=True
        )
        backend: str = option(
            "auto",
            "FFTs by numpy | torch | auto (torch on accelerators, numpy on the CPU)",
            choices=("auto", "numpy", "torch"),
        )

    @classmethod
    def not_applicable(cls, problem: Problem) -> str | None:
        if not problem.is_evolution:
            return "it integrates evolution problems (rhs=); use fd or fem for stationary ones"
        if not isinstance(problem.domain, Box):
            return "Fourier modes need a box-shaped domain"
        if not problem.is_fully_periodic:
            return "Fourier modes need periodic conditions on every axis (use mol for Dirichlet boundaries)"
        return None

    @classmethod
    def compare_variants(cls, problem: Problem) -> list[dict[str, Any]]:
        n = problem_default(None, problem, cls.name, "n", DEFAULT_MODES.get(problem.dim, 32))
        return [{"n": max(n // 2, 8)}, {"n": n}]

    def solve(self, problem: Problem) -> SplineGridSolution:
        self.check(problem)
        grid, backend, split = self._setup(problem)
        u0 = split.rhs.initial()
        times = output_times(problem, self.config.outputs)
        march = ETDRK4March(split.symbol, split.nonlinear_hat, backend, grid)
        with time_bar(self.settings.progress, problem, self.name) as bar:
            values, steps, largest = march(split.coefficients(u0), times, self._step(problem, split, u0), bar)
        stats = {
            "steps": steps,
            "dt": largest,
            "modes": grid.shape[0],
            "backend": "torch" if backend.use_torch else "numpy",
        }
        return SplineGridSolution(problem, grid, values, times, stats=stats, interpolation="cubic")

    def solve_batch(self, members: list[Problem], times: np.ndarray) -> np.ndarray:
        """Members of one family that differ only in their initial condition, marched together (batched FFTs).

        Returns the values at ``times`` (increasing, none before ``t0``; the problems' own ``t1`` is ignored),
        shape ``(len(members), len(times), *grid)``. The right-hand side is the first member's: a family
        whose members also differ in ``rhs`` is refused.
        """
        t0 = members[0].time[0] if members and members[0].is_evolution else 0.0
        times = np.asarray(times, dtype=float)
        if not members or len(times) == 0 or times[0] < t0 or np.any(np.diff(times) <= 0):
            raise PdesolveError(f"spectral: a batch needs members and increasing output times from t0 = {t0}")
        problem = replace(members[0], time=(t0, float(times[-1])))
        self.check(problem)
        grid, backend, split = self._setup(problem)
        initial = [PeriodicRHS(member, grid, backend).initial() for member in members]
        u0 = torch.stack(initial) if backend.use_torch else np.stack(initial)
        if len(members) > 1:
            other = PeriodicRHS(replace(members[1], time=problem.time), grid, backend)
            same = backend.to_numpy(split.rhs(u0[0], t0)) == backend.to_numpy(other(u0[0], t0))
            if not np.all(same):
                raise PdesolveError(
                    f"spectral: members of {problem.name!r} differ in more than u(t0); solve them one by one"
                )
        marched = np.concatenate([[t0], times]) if times[0] > t0 else times
        march = ETDRK4March(split.symbol, split.nonlinear_hat, backend, grid)
        with time_bar(self.settings.progress, problem, self.name) as bar:
            values, _, _ = march(split.coefficients(u0), marched, self._step(problem, split, u0), bar)
        return np.moveaxis(values[len(marched) - len(times) :], 0, 1)

    def _setup(self, problem: Problem) -> tuple[Grid, FourierBackend, FourierSplit]:
        n = int(self.from_problem("n", problem, DEFAULT_MODES[problem.dim]))
        check_time_grid(self.name, n, problem.dim, self.config.outputs, self.settings.device)
        grid = box_grid(problem, n, method="spectral")
        backend = FourierBackend.for_settings(self.config.backend, self.settings.device, self.settings.dtype)
        return grid, backend, FourierSplit(problem, grid, backend, self.config.dealias)

    def _step(self, problem: Problem, split: FourierSplit, u0: Any) -> float:
        """The option or problem default ``dt``, else a fraction of the explicit part's rate at the start."""
        t0, t1 = problem.time
        dt = self.from_problem("dt", problem, None)
        if dt is None:
            rate = explicit_rate(lambda u: split.nonlinear(u, t0), u0, split.backend, self.settings.seed)
            dt = min(STEP_SAFETY / rate if rate > 0 else np.inf, (t1 - t0) / MIN_STEPS)
        return float(dt)


class ETDRK4March:
    """ETDRK4 through a list of output times, with equal steps ``≤ dt`` between consecutive ones."""

    def __init__(self, symbol: np.ndarray, nonlinear_hat: Any, backend: FourierBackend, grid: Grid) -> None:
        self.symbol, self.nonlinear_hat, self.backend, self.grid = symbol, nonlinear_hat, backend, grid
        self.steppers: dict[float, ETDRK4] = {}

    def stepper(self, h: float) -> ETDRK4:
        """Coefficients for step ``h`` (cached; steps equal to 12 digits share them)."""
        key = float(f"{h:.12g}")
        if key not in self.steppers:
            self.steppers[key] = ETDRK4(self.symbol, key, self.nonlinear_hat, self.backend)
        return self.steppers[key]

    def snapshot(self, v: Any) -> np.ndarray:
        return self.backend.to_numpy(self.backend.irfftn(v, self.grid.shape))

    def __call__(self, v: Any, times: np.ndarray, dt: float, bar: Any) -> tuple[np.ndarray, int, float]:
        """Values at every time of ``times`` (the first is the start), steps taken and the largest step."""
        snapshots = [self.snapshot(v)]
        steps, largest = 0, 0.0
        with np.errstate(all="ignore"):
            for start, stop in zip(times[:-1], times[1:]):
                count = max(1, math.ceil((stop - start) / dt - 1e-9))
                stepper = self.stepper((stop - start) / count)
                for k in range(count):
                    v = stepper.step(v, start + k * stepper.h)
                    steps += 1
                    check_finite(self.backend.all_finite(v), steps, start + (k + 1) * stepper.h, "try a smaller dt")
                    bar.update(stepper.h)
                largest = max(largest, stepper.h)
                snapshots.append(self.snapshot(v))
        return np.stack(snapshots), steps, largest
