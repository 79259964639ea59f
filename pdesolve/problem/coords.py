"""Named coordinates handed to the functions of a problem file (``x.x``, ``x.y``, ``x.t``, ``x[0]``)."""

from __future__ import annotations

from typing import Any

from pdesolve.errors import ProblemError

SPACE_NAMES = ("x", "y", "z")


class CoordinateError(ProblemError, AttributeError):
    """A problem's function asked for a coordinate its domain does not have (``x.z`` in 2D)."""


class Coords:
    """Spatial coordinates (and time, when the problem evolves) as numpy arrays or torch tensors."""

    def __init__(self, space: list[Any], t: Any = None) -> None:
        self._space = list(space)
        self.t = t

    @property
    def dim(self) -> int:
        return len(self._space)

    @property
    def names(self) -> tuple[str, ...]:
        return SPACE_NAMES[: self.dim]

    def __getitem__(self, index: int) -> Any:
        return self._space[index]

    def __iter__(self):
        return iter(self._space)

    def __len__(self) -> int:
        return self.dim

    def __getattr__(self, name: str) -> Any:
        if name in SPACE_NAMES:
            index = SPACE_NAMES.index(name)
            if index < len(self._space):
                return self._space[index]
        if name in SPACE_NAMES:
            have = ", ".join(f"x.{n}" for n in self.names) + (", x.t" if self.t is not None else "")
            raise CoordinateError(f"x.{name}: no coordinate {name!r} in {self.dim} dimension(s) (there are {have})")
        raise AttributeError(f"no coordinate {name!r} in {self.dim} dimension(s)")
