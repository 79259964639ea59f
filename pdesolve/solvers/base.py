"""Solvers, their options and the registry the command line reads.

Every solver takes ``(problem, settings, options)`` and returns a :class:`~pdesolve.solvers.solution.Solution`.
A solver says whether it applies to a problem (``not_applicable`` returns the reason when not), and
which option sets ``compare`` should run (``compare_variants``, e.g. two resolutions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from pdesolve.errors import NotApplicableError, PdesolveError
from pdesolve.problem import Problem
from pdesolve.solvers.available import SOLVER_TABLE


@dataclass(frozen=True)
class Settings:
    """Options shared by all solvers."""

    device: str = "cpu"
    dtype: str = "float64"
    seed: int = 0
    progress: bool = False
    folder: str = ""  # the run folder: where checkpoints go unless an option names another file


class Solver:
    """Base class: subclasses set ``name`` (with a line in ``SOLVER_TABLE`` giving ``family`` and ``summary``),
    ``options`` (the defaults of ``--set``) with one line of ``option_help`` each, and implement ``solve``.
    Numeric options are finite and non-negative (0 often means "the default"); those named in ``positive`` must
    be above 0."""

    name: ClassVar[str]
    family: ClassVar[str]
    summary: ClassVar[str]
    options: ClassVar[dict[str, Any]] = {}
    option_help: ClassVar[dict[str, str]] = {}
    positive: ClassVar[frozenset[str]] = frozenset()
    systems: ClassVar[bool] = False  # solves problems of several unknowns (``unknowns=``)

    def __init__(self, settings: Settings | None = None, **options: Any) -> None:
        self.settings = settings or Settings()
        unknown = set(options) - set(self.options)
        if unknown:
            valid = ", ".join(sorted(self.options)) or "none"
            raise PdesolveError(f"solver {self.name!r} has no option(s) {sorted(unknown)} (valid: {valid})")
        self.given = dict(options)  # what the user chose, apart from the defaults
        self.config = {**self.options, **options}

    @classmethod
    def not_applicable(cls, problem: Problem) -> str | None:
        """Why this solver cannot solve ``problem``, or None when it can."""
        return None

    @classmethod
    def compare_variants(cls, problem: Problem) -> list[dict[str, Any]]:
        """Option sets that ``pdesolve compare`` runs (default: the solver's defaults)."""
        return [{}]

    def check(self, problem: Problem) -> None:
        reason = self.not_applicable(problem)
        if reason:
            raise NotApplicableError(f"solver {self.name!r} does not apply to {problem.name!r}: {reason}")

    def solve(self, problem: Problem):
        raise NotImplementedError


SOLVERS: dict[str, type[Solver]] = {}


def register(cls: type[Solver]) -> type[Solver]:
    """Class decorator: make a solver known to ``pdesolve list/solve/compare`` by its name (with the family and
    summary of its line in :data:`~pdesolve.solvers.available.SOLVER_TABLE`).

    A solver without ``systems = True`` is not applicable to a system of several unknowns.
    """
    entry = SOLVER_TABLE.get(cls.name)
    if entry is not None:
        cls.family, cls.summary = entry.family, entry.summary
    if not cls.systems:
        scalar_only = cls.not_applicable

        def not_applicable(solver: type[Solver], problem: Problem) -> str | None:
            if problem.is_system:
                return f"it solves problems of one unknown; this one has {len(problem.unknowns)} {problem.unknowns}"
            return scalar_only(problem)

        cls.not_applicable = classmethod(not_applicable)
    SOLVERS[cls.name] = cls
    return cls


def coerce_option(solver: type[Solver], key: str, text: str, where: str | None = None) -> Any:
    """Turn ``--set key=text`` into the type of the option's default and check its range; one-line error
    when it cannot. ``where`` names the source in errors (default ``--set key=text``)."""
    where = where or f"--set {key}={text}"
    if key not in solver.options:
        valid = ", ".join(sorted(solver.options)) or "none"
        raise PdesolveError(
            f"{where}: solver {solver.name!r} has no option {key!r} (valid: {valid}; `pdesolve list {solver.name}`)"
        )
    default = solver.options[key]
    try:
        if isinstance(default, bool):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return text.lower() in ("true", "1", "yes")
        if isinstance(default, int):
            value: Any = int(text)
        elif isinstance(default, float):
            value = float(text)
        else:
            return text
    except ValueError:
        kind = (
            "true or false" if isinstance(default, bool) else "an integer" if isinstance(default, int) else "a number"
        )
        raise PdesolveError(f"{where}: expected {kind}") from None
    if not math.isfinite(value):
        raise PdesolveError(f"{where}: expected a finite number")
    if value < 0 or (value == 0 and key in solver.positive):
        bound = "above 0" if key in solver.positive else "0 or more"
        raise PdesolveError(f"{where}: {solver.name}'s {key} must be {bound} ({solver.option_help.get(key, key)})")
    return value
