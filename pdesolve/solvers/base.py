"""Solvers, their options and the registry the command line reads.

Every solver takes ``(problem, settings, options)`` and returns a :class:`~pdesolve.solvers.solution.Solution`.
A solver's options are a frozen dataclass (``Options``) of :func:`option` fields: their types, defaults, help,
choices and bounds are what ``--set``, config files, the Python API and ``pdesolve list SOLVER`` read. A solver
says whether it applies to a problem (``not_applicable`` returns the reason when not), and which option sets
``compare`` should run (``compare_variants``, e.g. two resolutions).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import Field, dataclass, field, fields
from functools import cache
from typing import Any, ClassVar, get_args, get_type_hints

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


@dataclass(frozen=True)
class NoOptions:
    """The options of a solver that has none."""


def option(default: Any, help: str, *, choices: Sequence[str] = (), positive: bool = False) -> Any:
    """A field of a solver's ``Options``: its default (``None``: chosen from the problem), one line of ``help``,
    the ``choices`` of a text option and, for a number, whether it must be above 0 (else 0 or more)."""
    return field(default=default, metadata={"help": help, "choices": tuple(choices), "positive": positive})


def option_fields(options: type) -> dict[str, Field]:
    """The fields of an ``Options`` class by name, in their order."""
    return {item.name: item for item in fields(options)}


@cache
def option_types(options: type) -> dict[str, Any]:
    """The annotated type of every field (``int | None`` for one chosen from the problem when None)."""
    return get_type_hints(options)


class Solver:
    """Base class: subclasses set ``name`` (with a line in ``SOLVER_TABLE`` giving ``family`` and ``summary``),
    ``Options`` (a frozen dataclass whose fields, made by :func:`option`, are the keys of ``--set``) and
    implement ``solve``; ``self.config`` is an instance of ``Options``. Numeric options are finite and
    non-negative, those marked ``positive`` above 0; a field that defaults to ``None`` is chosen from the problem
    (:meth:`from_problem`), and 0 given for it means the same."""

    name: ClassVar[str]
    family: ClassVar[str]
    summary: ClassVar[str]
    Options: ClassVar[type] = NoOptions
    systems: ClassVar[bool] = False  # solves problems of several unknowns (``unknowns=``)

    def __init__(self, settings: Settings | None = None, **options: Any) -> None:
        self.settings = settings or Settings()
        known = option_fields(self.Options)
        unknown = set(options) - set(known)
        if unknown:
            valid = ", ".join(sorted(known)) or "none"
            raise PdesolveError(f"solver {self.name!r} has no option(s) {sorted(unknown)} (valid: {valid})")
        self.given = {key: check_option(type(self), key, value) for key, value in options.items()}
        self.config = self.Options(**self.given)  # the user's choices over the defaults

    def from_problem(self, key: str, problem: Problem, fallback: Any) -> Any:
        """Option ``key``, or when it is None the problem's default (``defaults[solver][key]``, else
        ``defaults[key]``), else ``fallback``."""
        return problem_default(getattr(self.config, key), problem, self.name, key, fallback)

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


def problem_default(value: Any, problem: Problem, solver: str, key: str, fallback: Any) -> Any:
    """``value`` unless it is None; then ``problem.defaults[solver][key]``, ``problem.defaults[key]`` or
    ``fallback`` (the one place where options chosen from the problem are resolved)."""
    if value is not None:
        return value
    per_solver = problem.defaults.get(solver, {})
    if isinstance(per_solver, dict) and per_solver.get(key):
        return per_solver[key]
    return problem.defaults.get(key) or fallback


def _base_type(kind: Any) -> Any:
    """``int`` for ``int | None`` (and ``int`` itself)."""
    args = [arg for arg in get_args(kind) if arg is not type(None)]
    return args[0] if args else kind


def coerce_option(solver: type[Solver], key: str, text: str, where: str | None = None) -> Any:
    """Turn ``--set key=text`` into the type of the option's field and check it (:func:`check_option`);
    one-line error when it cannot. ``where`` names the source in errors (default ``--set key=text``)."""
    where = where or f"--set {key}={text}"
    known = option_fields(solver.Options)
    if key not in known:
        valid = ", ".join(sorted(known)) or "none"
        raise PdesolveError(
            f"{where}: solver {solver.name!r} has no option {key!r} (valid: {valid}; `pdesolve list {solver.name}`)"
        )
    kind = _base_type(option_types(solver.Options)[key])
    optional = known[key].default is None
    if optional and text.strip().lower() in ("", "none"):
        return None
    try:
        if kind is bool:
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return text.lower() in ("true", "1", "yes")
        if kind is int:
            value: Any = int(text)
        elif kind is float:
            value = float(text)
        else:
            value = text
    except ValueError:
        expected = "true or false" if kind is bool else "an integer" if kind is int else "a number"
        raise PdesolveError(f"{where}: expected {expected}") from None
    return check_option(solver, key, value, where)


def check_option(solver: type[Solver], key: str, value: Any, where: str | None = None) -> Any:
    """``value`` for option ``key`` as the solver keeps it (0 for a field chosen from the problem becomes None),
    or a one-line error: a text option outside its ``choices``, a number that is not finite, negative, or 0
    where it must be positive."""
    item = option_fields(solver.Options)[key]
    prefix = f"{where}: " if where else ""
    choices = item.metadata.get("choices", ())
    if choices and value is not None and value not in choices:
        listed = ", ".join(map(str, choices))
        raise PdesolveError(f"{prefix}{solver.name}'s {key} must be one of {listed}, not {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if not math.isfinite(value):
        raise PdesolveError(f"{where or f'{solver.name} {key}={value}'}: expected a finite number")
    positive = item.metadata.get("positive", False)
    if value < 0 or (value == 0 and positive):
        bound = "above 0" if positive else "0 or more"
        raise PdesolveError(f"{prefix}{solver.name}'s {key} must be {bound} ({item.metadata.get('help', key)})")
    return None if value == 0 and item.default is None else value
