"""The three ways a constrained FNO meets its rows (Chalapathi et al. 2024), one class each.

``soft``: one output channel, the rows in the loss; ``hard``: ``basis`` channels combined by one expert's
Levenberg–Marquardt layer; ``moe``: the same per expert of a partition, which alone may couple its experts
(``interfaces``, ``blend``). The trainer and :class:`~pdesolve.constraints.training.ConstrainedOperator` ask the
strategy instead of testing the name.
"""

from __future__ import annotations

from typing import Any

from pdesolve.constraints.gauss_newton import LMOptions
from pdesolve.constraints.grid_system import GridConstraintSystem
from pdesolve.constraints.layer import GridHardConstraint
from pdesolve.errors import PdesolveError


class Soft:
    """The rows enter the loss as ``soft_weight`` times their relative residual; the output is the field."""

    name = "soft"
    fits_output_scale = True  # the backbone's output statistics come from the data (or the inputs)

    def experts(self, config: Any) -> int | tuple[int, ...]:
        return 1

    def couples_experts(self, config: Any) -> bool:
        """Whether the experts' interface rows and blending (``interfaces``, ``blend``) apply."""
        return False

    def outputs(self, config: Any, system: GridConstraintSystem) -> int:
        return 1

    def layer(self, system: GridConstraintSystem, options: LMOptions, group: Any) -> GridHardConstraint | None:
        return None

    def physics_loss(self, config: Any) -> bool:
        """Whether the rows' relative residual is part of the loss."""
        return True


class Hard(Soft):
    """One expert: ``basis`` (plus trace) channels combined so that the rows hold, the data in the loss."""

    name = "hard"
    fits_output_scale = False

    def outputs(self, config: Any, system: GridConstraintSystem) -> int:
        return config.basis + system.trace_channels

    def layer(self, system: GridConstraintSystem, options: LMOptions, group: Any) -> GridHardConstraint:
        return GridHardConstraint(system, options, group)

    def physics_loss(self, config: Any) -> bool:
        return not config.data_weight  # physics-informed only when no data weigh in


class MixtureOfExperts(Hard):
    """``experts`` hard constraints on a partition of the grid (their rows sharded over ranks under torchrun)."""

    name = "moe"

    def experts(self, config: Any) -> int | tuple[int, ...]:
        return config.experts

    def couples_experts(self, config: Any) -> bool:
        return True


STRATEGIES = {strategy.name: strategy for strategy in (Soft(), Hard(), MixtureOfExperts())}


def strategy_of(name: str) -> Soft:
    if name not in STRATEGIES:
        raise PdesolveError(f"constraint {name!r}: choose one of {', '.join(STRATEGIES)}")
    return STRATEGIES[name]
