"""Solver aliases: ``classical`` stands for the first applicable of spectral, fd, fem, fem_newton, mol and fem_mol.

``pdesolve compare burgers1d --solvers classical,pinn`` then runs whichever classical method fits
the problem. The command line resolves an alias to its target before options are read, so
``--set`` keys are those of the target.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pdesolve.errors import NotApplicableError
from pdesolve.problem import Problem
from pdesolve.solvers.base import SOLVERS, Settings, Solver, register
from pdesolve.solvers.solution import Solution


class Alias(Solver):
    """A name for the first solver of ``targets`` that applies to a problem."""

    family: ClassVar[str] = "alias"
    systems: ClassVar[bool] = True  # its targets decide
    targets: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: Settings | None = None, **options: Any) -> None:
        self.settings = settings or Settings()
        self.given = dict(options)  # checked by the target when it is built

    @classmethod
    def _choose(cls, problem: Problem) -> tuple[type[Solver] | None, list[str]]:
        reasons = []
        for name in cls.targets:
            solver = SOLVERS.get(name)
            if solver is None:
                reasons.append(f"{name}: not installed")
                continue
            reason = solver.not_applicable(problem)
            if reason is None:
                return solver, reasons
            reasons.append(f"{name}: {reason}")
        return None, reasons

    @classmethod
    def target(cls, problem: Problem) -> type[Solver]:
        """The solver this alias stands for on ``problem``."""
        solver, _ = cls._choose(problem)
        if solver is None:
            raise NotApplicableError(
                f"solver {cls.name!r} does not apply to {problem.name!r}: {cls.not_applicable(problem)}"
            )
        return solver

    @classmethod
    def not_applicable(cls, problem: Problem) -> str | None:
        solver, reasons = cls._choose(problem)
        return None if solver is not None else f"none of {', '.join(cls.targets)} applies ({'; '.join(reasons)})"

    @classmethod
    def explain(cls, problem: Problem) -> str:
        """The solver the alias stands for on ``problem``, or why none of its targets applies."""
        solver, reasons = cls._choose(problem)
        return solver.name if solver is not None else f"none ({'; '.join(reasons)})"

    @classmethod
    def compare_variants(cls, problem: Problem) -> list[dict[str, Any]]:
        return cls.target(problem).compare_variants(problem)

    def solve(self, problem: Problem) -> Solution:
        solution = self.target(problem)(self.settings, **self.given).solve(problem)
        solution.stats.setdefault("solver", self.target(problem).name)
        return solution


@register
class ClassicalAlias(Alias):
    name = "classical"
    targets = ("spectral", "fd", "fem", "fem_newton", "mol", "fem_mol")


def resolve(solver: type[Solver], problem: Problem) -> tuple[type[Solver], str | None]:
    """(the concrete solver, the alias name or None) for ``solver`` on ``problem``."""
    if issubclass(solver, Alias):
        return solver.target(problem), solver.name
    return solver, None
