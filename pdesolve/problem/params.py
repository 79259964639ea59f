"""Problem parameters with attribute access (``p.nu``)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any


class Params(SimpleNamespace):
    """The parameters a problem's functions receive; ``replace`` returns a changed copy."""

    def replace(self, **changes: Any) -> Params:
        return Params(**{**vars(self), **changes})

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))
