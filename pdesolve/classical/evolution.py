"""What the classical time steppers share: output times, progress and blow-up checks."""

from __future__ import annotations

import numpy as np

from pdesolve.errors import DivergenceError
from pdesolve.problem import Problem
from pdesolve.report.progress import progress_bar


def output_times(problem: Problem, outputs: int) -> np.ndarray:
    """The times of the reference data when the problem has a data file, else ``outputs`` even steps.

    The start time is always included, and every time lies in the problem's ``time`` interval.
    """
    t0, t1 = problem.time
    times = np.linspace(t0, t1, max(int(outputs), 1) + 1)
    if problem.reference is not None and problem.reference.available():
        points, _ = problem.reference_set()
        times = np.unique(points[:, -1])
        times = np.unique(np.concatenate([[t0], times[(times >= t0) & (times <= t1)]]))
    return times


def check_finite(finite: bool, step: int, t: float, hint: str) -> None:
    """Raise :class:`DivergenceError` (one line) when a step produced NaN or infinite values."""
    if not finite:
        raise DivergenceError(f"the solution became NaN or infinite at step {step} (t = {t:.6g}); {hint}")


def time_bar(enabled: bool, problem: Problem, label: str):
    """A progress bar over the simulated time interval (quiet unless ``enabled``)."""
    t0, t1 = problem.time
    return progress_bar(
        enabled,
        total=t1 - t0,
        desc=f"{label} {problem.name}",
        bar_format="{l_bar}{bar}| t = {n:.4g}/{total:.4g} [{elapsed}<{remaining}]",
        leave=False,
    )
