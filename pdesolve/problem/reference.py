"""Reference data files (``../shared/data`` and friends) and the points errors are measured on."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pdesolve.errors import ProblemError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def data_directories() -> list[Path]:
    """Where reference files are looked for: $PDESOLVE_DATA, the catalogue's own data (``problems/data``),
    then the shared data beside the project."""
    candidates = [os.environ.get("PDESOLVE_DATA"), str(PROJECT_ROOT / "problems" / "data")]
    candidates += [PROJECT_ROOT.parent / "shared" / "data", PROJECT_ROOT / "shared" / "data", Path.cwd() / "data"]
    return [Path(c) for c in candidates if c]


def find_data_file(name: str) -> Path:
    for folder in data_directories():
        if (folder / name).is_file():
            return folder / name
    searched = ", ".join(str(f) for f in data_directories())
    raise ProblemError(f"reference file {name} not found (searched {searched}; set PDESOLVE_DATA)")


@dataclass(frozen=True)
class ReferenceData:
    """A data file of reference values; ``loader(npz)`` returns (points, values), time as last column."""

    file: str
    loader: Callable[[dict], tuple[np.ndarray, np.ndarray]]
    description: str = ""

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        path = find_data_file(self.file)
        with np.load(path) as data:
            points, values = self.loader(dict(data))
        return np.asarray(points, dtype=float), np.asarray(values, dtype=float).ravel()

    def available(self) -> bool:
        try:
            find_data_file(self.file)
        except ProblemError:
            return False
        return True
