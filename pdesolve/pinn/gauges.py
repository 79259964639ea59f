"""The mean-value gauge of an unknown known up to a constant (a pressure with no other condition).

No loss term can see that constant, so it is dropped from the loss and set when the model is evaluated without
autograd, ``p ← p + c − mean_Q p`` over fixed quadrature points Q; in an evolution system at every time,
``p(·, t) ← p(·, t) + c − mean_Q p(·, t)``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from pdesolve.problem import Dirichlet, Gauge, Periodic, Problem

GAUGE_POINTS = 8192
GAUGE_BATCH = 2**18  # points per evaluation of the gauge of an evolution system (Q × times)


class MeanGauge(nn.Module):
    """``mean(u_j) = c`` over ``GAUGE_POINTS`` Hammersley points of the domain, for an unknown that every loss
    term sees only up to a constant: outside autograd (evaluation) the constant is set; inside it (training) the
    output is left as it is, so that no row couples the points (the per-sample Gauss–Newton Jacobian stays exact)."""

    def __init__(self, problem: Problem, gauge: Gauge) -> None:
        super().__init__()
        self.gauge = gauge
        self.column = problem.unknowns.index(gauge.unknown)
        self.evolution = problem.is_evolution
        points = problem.domain.sample_interior(GAUGE_POINTS, seed=0, method="Hammersley")
        self.register_buffer("points", torch.as_tensor(points, dtype=torch.float64))

    def shift(self, evaluate: Any, points: torch.Tensor) -> torch.Tensor:
        """``c − mean_Q u_j`` with ``evaluate(points) -> outputs`` (the model before this gauge): a scalar, or in
        time one value per point, the mean in space at its time (one pass over Q per distinct time)."""
        space = self.points.to(points)
        if not self.evolution:
            return self.gauge.value - evaluate(space).mean(dim=0)[self.column]
        times, index = torch.unique(points[:, -1], return_inverse=True)
        chunk = max(1, GAUGE_BATCH // len(space))
        means = [points.new_zeros(0)]  # no points, no times
        for start in range(0, len(times), chunk):
            some = times[start : start + chunk]
            grid = torch.cat([space.repeat(len(some), 1), some.repeat_interleave(len(space))[:, None]], dim=1)
            means.append(evaluate(grid)[:, self.column].reshape(len(some), len(space)).mean(dim=1))
        return self.gauge.value - torch.cat(means)[index]


def exact_gauges(problem: Problem, free: tuple[str, ...]) -> list[Gauge]:
    """The mean-value gauges whose unknown no other condition fixes (no Dirichlet value anywhere, no outflow),
    and is not among ``free``: each residual sees it only through its derivatives."""
    fixed = {name for c in problem.boundary if isinstance(c, Dirichlet) for name in c.names or ()}
    if any(not isinstance(c, (Dirichlet, Gauge, Periodic)) for c in problem.boundary):
        fixed = set(problem.unknowns)  # an outflow (or any natural condition) sees the level
    gauges = [c for c in problem.boundary if isinstance(c, Gauge)]
    return [g for g in gauges if g.at is None and g.unknown not in fixed | set(free) and len(gauges) == 1]
