"""The fit of ``u_0`` on a sequence of grids: each coarse grid as long as it still fits the sample points.

Nested iteration (Briggs, Henson & McCormick, "A Multigrid Tutorial", 2nd ed. 2000, ch. 3: solve on coarse grids
first; here for a network, whose Gauss–Newton iterations at ``N < P`` points cost ``O(N² width + N³)``): the early iterations of the fit do not depend on the
grid, and the fit on a coarse grid also lowers the error between its points until the network starts to use the
freedom between them. So the fit runs on grids of ``init_points · √2^k`` points, then on the sample points, and
a :class:`LevelTracker` ends each coarse level when the residual at the sample points — what the time steps are
fitted at, and one forward pass to evaluate — no longer follows the level's own residual: over the last
``window`` iterations it fell (in log) by less than ``efficiency`` times as much. The next grid, √2 times finer,
costs about twice as much per iteration, so a coarse level pays as long as it keeps half of its progress.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

RATIO = math.sqrt(2.0)  # points of a grid over those of the one before
WINDOW = 10  # iterations over which the sample points' progress is compared with the level's
EFFICIENCY = 0.5  # the share of the level's progress (in log residual) the sample points must keep


def level_sizes(first: int, n_points: int, ratio: float = RATIO) -> list[int]:
    """``first, ratio·first, ratio²·first, …`` while at least ``ratio`` below ``n_points``, then ``n_points``
    (only ``n_points`` when ``first`` is 0 or not below it)."""
    if first <= 0 or first >= n_points:
        return [n_points]
    sizes = [first]
    while sizes[-1] * ratio**2 <= n_points * (1 + 1e-9):
        sizes.append(round(sizes[-1] * ratio))
    return [*sizes, n_points]


class LevelTracker:
    """``tracker(θ, level residual) -> stop``: the relative residual at the sample points is evaluated and kept;
    stop once it is at ``tol`` (``reached``) or once it no longer follows the level's (see the module)."""

    def __init__(
        self,
        values: Callable[[torch.Tensor], torch.Tensor],
        target: torch.Tensor,
        tol: float,
        window: int = WINDOW,
        efficiency: float = EFFICIENCY,
    ) -> None:
        self.values, self.target, self.tol = values, target, tol
        self.window, self.efficiency = window, efficiency
        self.norm = max(float(torch.linalg.vector_norm(target)), 1e-300)
        self.history: list[tuple[float, float]] = []  # (level residual, sample residual) of this level

    def residual(self, theta: torch.Tensor) -> float:
        """``‖target - u_θ‖ / ‖target‖`` at the sample points."""
        return float(torch.linalg.vector_norm(self.target - self.values(theta))) / self.norm

    @property
    def reached(self) -> bool:
        return bool(self.history) and self.history[-1][1] <= self.tol

    def start_level(self) -> None:
        self.history = []

    def __call__(self, theta: torch.Tensor, level_residual: float) -> bool:
        self.history.append((level_residual, self.residual(theta)))
        if self.reached:
            return True
        if len(self.history) <= self.window:
            return False
        (level_then, sample_then), (level_now, sample_now) = self.history[-1 - self.window], self.history[-1]
        level_gain = math.log(level_then / level_now)
        return level_gain <= 0 or math.log(sample_then / sample_now) < self.efficiency * level_gain
