"""Tables that name a family's function without importing the family: ``lazy("module:function")``.

Used where a lower layer lists what a higher one adds (the preconditioner registry's file loaders, the model
builders of :mod:`pdesolve.operators.model_file`), so that no import cycle and no heavy import arises.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy(target: str) -> Callable[..., Any]:
    """The function ``module:function``, imported when first called."""
    module, name = target.split(":")
    return lambda *args, **kwargs: getattr(importlib.import_module(module), name)(*args, **kwargs)
