"""pdesolve: define a PDE once; solve it with any method; compare.

``import pdesolve as ps`` stays light: ``ps.solve``, ``ps.compare``, ``ps.load_problem`` and ``ps.Problem``
are imported on first use (:mod:`pdesolve.api`), so that the command line's ``--help`` needs no torch.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "solve": "pdesolve.api",
    "compare": "pdesolve.api",
    "load_problem": "pdesolve.problem",
    "Problem": "pdesolve.problem",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'pdesolve' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
