"""Where the files that ship beside the code live: the catalogue, its reference data, the trained preconditioners.

A wheel (``pip install .``) carries ``problems/`` (with ``problems/data/``) and ``preconditioners/`` inside the
package, as ``pdesolve/problems`` and ``pdesolve/preconditioners`` (pyproject's ``package-dir`` maps them); a
source checkout and an editable install keep them at the top of the repository, beside ``pdesolve/``.
``$PDESOLVE_PROBLEMS`` and ``$PDESOLVE_DATA`` point elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def shipped(folder: str) -> Path:
    """The installed copy of the top-level ``folder`` (``problems`` or ``preconditioners``)."""
    inside = PACKAGE / folder
    return inside if inside.is_dir() else PACKAGE.parent / folder


def catalogue_directory() -> Path:
    """``$PDESOLVE_PROBLEMS``, else the catalogue that ships with pdesolve."""
    return Path(os.environ.get("PDESOLVE_PROBLEMS") or shipped("problems"))


def data_directories() -> list[Path]:
    """Where reference files are looked for: ``$PDESOLVE_DATA``, the catalogue's ``data/`` (the user's when
    ``$PDESOLVE_PROBLEMS`` is set, then the shipped one), then ``./data``."""
    candidates = [os.environ.get("PDESOLVE_DATA"), catalogue_directory() / "data", shipped("problems") / "data"]
    candidates.append(Path.cwd() / "data")
    folders = [Path(c) for c in candidates if c]
    return [f for k, f in enumerate(folders) if f not in folders[:k]]
