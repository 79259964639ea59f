"""One divergence test for every iterative family: a progress measure that turns non-finite or grows
by orders of magnitude over its first value stops the run with a one-line :class:`DivergenceError`.

A progress measure is a non-negative figure that a healthy run lowers: the PINN's loss, a training
loss, CG's residual. A diverging run does not only end in NaN: Adam with a learning rate of 1e20
keeps finite values while the loss grows by 30 orders of magnitude, so the test is also on growth.
Each family names what diverged and what to change (``hint``); where it checkpoints, it raises before
the next save, so the last good checkpoint stays.
"""

from __future__ import annotations

import math

from pdesolve.errors import DivergenceError

GROWTH = 1e6  # "orders of magnitude": a healthy run's measure stays well within this of its start


class DivergenceMonitor:
    """``monitor.update(value, step)`` raises when ``value`` is NaN/inf or above ``growth`` × the first value.

    ``what`` names the measure ("the PINN's loss"), ``hint`` the remedy ("lower lr").
    """

    def __init__(self, what: str, hint: str, growth: float = GROWTH, start: float | None = None) -> None:
        self.what, self.hint, self.growth = what, hint, growth
        self.start = start if start is not None and math.isfinite(start) and start > 0 else None

    def update(self, value: float, step: int | str) -> None:
        reason = self.reason(value, step)
        if reason is not None:
            raise DivergenceError(f"{reason}: the run diverges; {self.hint}")

    def reason(self, value: float, step: int | str) -> str | None:
        """What is wrong with ``value`` (None when nothing); the first positive value becomes the start."""
        if not math.isfinite(value):
            return f"{self.what} became {value} at {_where(step)}"
        if self.start is None:
            self.start = value if value > 0 else None
            return None
        if value > self.growth * self.start:
            return (
                f"{self.what} grew from {self.start:.3g} to {value:.3g} (more than {self.growth:.0e} times) "
                f"by {_where(step)}"
            )
        return None


def _where(step: int | str) -> str:
    return f"step {step}" if isinstance(step, int) else str(step)
