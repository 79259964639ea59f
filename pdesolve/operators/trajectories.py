"""Trajectory data of evolution problems: each member's solution at a list of output times.

The FNO paper's Navier–Stokes data (Li et al. 2021, §5.3) store the vorticity at t = 1, 2, …, 50; a model
reads the first levels and predicts the rest (:mod:`pdesolve.operators.rollout`). Members of a family that
differ only in their initial condition are marched together by a classical solver's ``solve_batch``
(the spectral solver: batched FFTs, one process or one GPU for a whole shard), on the data grid or on a
finer grid that is then subsampled.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pdesolve.errors import PdesolveError
from pdesolve.operators.pairs import data_grid, register_solvers, solve_stride
from pdesolve.problem import Problem
from pdesolve.solvers.base import SOLVERS, Settings, option_fields


def parse_times(text: str) -> tuple[float, ...]:
    """``start:stop:step`` (``stop`` left out, as ``range``) or a comma-separated list: ``1:51:1`` is 1, …, 50."""
    try:
        if ":" in text:
            start, stop, step = (float(part) for part in text.split(":"))
            if step <= 0:
                raise ValueError
            count = int(round((stop - start) / step))
            times = tuple(float(round(start + k * step, 12)) for k in range(count))
        else:
            times = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise PdesolveError(f"--times {text!r}: give start:stop:step (step > 0) or t1,t2,...") from None
    if len(times) < 2 or any(b <= a for a, b in zip(times, times[1:])):
        raise PdesolveError(f"--times {text!r}: give at least two increasing times")
    return times


def check_times(problem: Problem, times: tuple[float, ...]) -> None:
    """Trajectories need an evolution problem and times from its start time on (the end time may be later)."""
    if not problem.is_evolution:
        raise PdesolveError(f"--times: problem {problem.name!r} is stationary (no rhs=): it has no trajectory")
    if times[0] < problem.time[0]:
        raise PdesolveError(f"--times: the first time {times[0]} is before the start time t0 = {problem.time[0]}")


def batch_solver(name: str, settings: Settings):
    """The registered classical solver ``name``, which must march a batch of members (``solve_batch``)."""
    register_solvers()
    cls = SOLVERS.get(name)
    if cls is None or not hasattr(cls, "solve_batch"):
        raise PdesolveError(f"trajectory data need a solver that marches a batch of members (spectral), not {name!r}")
    return cls


def solve_trajectories(
    members: list[Problem],
    times: tuple[float, ...],
    resolution: int,
    solve_resolution: int | None,
    solver: str,
    settings: Settings,
) -> np.ndarray:
    """Values of ``members`` at ``times`` on the data grid, shape (members, times, *grid), float64."""
    problem = members[0]
    fine = solve_resolution or resolution
    cls = batch_solver(solver, settings)
    options = {"n": data_grid(problem, fine).shape[0]} if "n" in option_fields(cls.Options) else {}
    extended = [replace(member, time=(member.time[0], times[-1])) for member in members]
    values = cls(settings, **options).solve_batch(extended, np.asarray(times))
    if solve_resolution is not None:
        strides = solve_stride(problem, resolution, fine)
        values = values[(Ellipsis, *[slice(None, None, s) for s in strides])]
    return np.ascontiguousarray(values)


def history_and_future(trajectories: np.ndarray, history: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``history`` levels (model input) and the rest (targets) of (N, times, *grid) trajectories."""
    if not 0 < history < trajectories.shape[1]:
        raise PdesolveError(f"--history {history}: the trajectories hold {trajectories.shape[1]} time levels")
    return trajectories[:, :history], trajectories[:, history:]
