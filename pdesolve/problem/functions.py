"""Elementary functions that work on numpy arrays, torch tensors and fields alike.

A problem file is written once and evaluated on grids (numpy), at sample points
(torch) and on fields; ``sin(x)`` dispatches on the type of its argument.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pdesolve.problem.tensors import tensor_library

pi = math.pi


def _dispatch(name: str, x: Any) -> Any:
    if hasattr(x, "map"):  # a field: apply to its values
        return x.map(lambda v: _dispatch(name, v))
    return getattr(tensor_library(x) or np, name)(x)


def sin(x: Any) -> Any:
    return _dispatch("sin", x)


def cos(x: Any) -> Any:
    return _dispatch("cos", x)


def tan(x: Any) -> Any:
    return _dispatch("tan", x)


def exp(x: Any) -> Any:
    return _dispatch("exp", x)


def log(x: Any) -> Any:
    return _dispatch("log", x)


def sqrt(x: Any) -> Any:
    return _dispatch("sqrt", x)


def tanh(x: Any) -> Any:
    return _dispatch("tanh", x)


def sinh(x: Any) -> Any:
    return _dispatch("sinh", x)


def cosh(x: Any) -> Any:
    return _dispatch("cosh", x)


def abs(x: Any) -> Any:  # noqa: A001 - mirrors numpy's name on purpose
    return _dispatch("abs", x)


def where(condition: Any, a: Any, b: Any) -> Any:
    """Pick ``a`` where ``condition`` holds, else ``b`` (numpy or torch)."""
    return (tensor_library(condition) or np).where(condition, a, b)


def zeros_like(x: Any) -> Any:
    torch = tensor_library(x)
    return torch.zeros_like(x) if torch else np.zeros_like(x, dtype=float)


def ones_like(x: Any) -> Any:
    torch = tensor_library(x)
    return torch.ones_like(x) if torch else np.ones_like(x, dtype=float)
