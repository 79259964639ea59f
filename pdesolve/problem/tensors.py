"""Torch tensors recognised without importing torch.

A tensor exists only once torch has been imported, so the problem layer asks ``sys.modules`` instead of
importing it: problem files load (and ``pdesolve list`` runs) without torch's import time.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any


def tensor_library(x: Any) -> ModuleType | None:
    """``torch`` when ``x`` is a torch tensor, else None."""
    torch = sys.modules.get("torch")
    return torch if torch is not None and torch.is_tensor(x) else None
