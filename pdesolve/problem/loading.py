"""Find a problem by catalogue name or load it from any Python file."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from pdesolve.errors import ProblemError
from pdesolve.problem.problem import Problem
from pdesolve.shipped import catalogue_directory


def catalogue_names() -> list[str]:
    folder = catalogue_directory()
    return sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith("_"))


def load_problem(spec: str) -> Problem:
    """``spec`` is a catalogue name (``poisson2d``) or a path to a ``.py`` file defining ``problem``."""
    path = Path(spec)
    if path.suffix != ".py":
        path = catalogue_directory() / f"{spec}.py"
        if not path.is_file():
            names = ", ".join(catalogue_names())
            raise ProblemError(f"unknown problem {spec!r}: not a .py file and not in the catalogue ({names})")
    elif not path.is_file():
        raise ProblemError(f"problem file {spec} does not exist")
    module_name = f"pdesolve_problem_{path.stem}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except ProblemError as error:
        raise ProblemError(f"{path}: {error}") from None
    except BaseException as error:  # any failure of user code, SyntaxError included
        if isinstance(error, KeyboardInterrupt):
            raise
        line = getattr(error, "lineno", None) or _user_line(error, path)
        at = f" (line {line})" if line else ""
        raise ProblemError(f"{path}{at} does not import: {type(error).__name__}: {error}") from None
    problem = getattr(module, "problem", None)
    if not isinstance(problem, Problem):
        raise ProblemError(f"{path} defines no `problem = Problem(...)`")
    return problem


def _user_line(error: BaseException, path: Path) -> int | None:
    frame = error.__traceback__
    line = None
    while frame is not None:
        if Path(frame.tb_frame.f_code.co_filename) == path:
            line = frame.tb_lineno
        frame = frame.tb_next
    return line
