"""Elementary functions that work on numpy arrays, torch tensors and fields alike.

A problem file is written once and evaluated on grids (numpy), at sample points
(torch) and on fields; ``sin(x)`` dispatches on the type of its argument.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

pi = math.pi


def _dispatch(name: str, x: Any) -> Any:
    if hasattr(x, "map"):  # a field: apply to its values
        return x.map(lambda v: _dispatch(name, v))
    if torch.is_tensor(x):
        return getattr(torch, name)(x)
    return getattr(np, name)(x)


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
    if torch.is_tensor(condition):
        return torch.where(condition, a, b)
    return np.where(condition, a, b)


def zeros_like(x: Any) -> Any:
    return torch.zeros_like(x) if torch.is_tensor(x) else np.zeros_like(x, dtype=float)


def ones_like(x: Any) -> Any:
    return torch.ones_like(x) if torch.is_tensor(x) else np.ones_like(x, dtype=float)
