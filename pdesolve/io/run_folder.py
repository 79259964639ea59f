"""Run folders: atomic file writes and ``metrics.json``.

Every file is written to a temporary name beside its target and moved into place with
``os.replace``, so an interrupted run never leaves a complete-looking half file. ``metrics.json``
is written last: a folder that has it holds a finished run.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from pdesolve.errors import PdesolveError
from pdesolve.io.interrupts import deferred

METRICS = "metrics.json"


def umask() -> int:
    """The process's umask (read without changing it for longer than the call)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target`` (same suffix) that replaces ``target`` only if the block succeeds.

    The file gets the permissions of any new file (0666 less the umask), not ``mkstemp``'s 0600. A failed write
    (a full disk, a folder that cannot be written) leaves no temporary file and raises a one-line
    :class:`PdesolveError` naming ``target``. Ctrl-C and SIGTERM are held back until the file is in place: a
    writer cut off in the middle (``torch.save``'s zip writer) would hide the interrupt behind its own error."""
    with deferred(), _replaced_on_success(Path(target)) as temporary:
        yield temporary


@contextmanager
def _replaced_on_success(target: Path) -> Iterator[Path]:
    temporary: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
        os.close(handle)
        temporary = Path(name)
        yield temporary
        os.chmod(temporary, 0o666 & ~umask())
        os.replace(temporary, target)
    except OSError as error:
        raise PdesolveError(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def atomic_write(target: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)`` and move the result to ``target``."""
    with atomic_path(target) as temporary:
        write(temporary)
    return Path(target)


def atomic_write_text(target: Path, text: str) -> Path:
    return atomic_write(target, lambda path: path.write_text(text, encoding="utf-8"))


def jsonable(value: Any) -> Any:
    """Plain JSON values for numpy scalars and arrays, paths, tuples; non-finite floats become null."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def write_json(target: Path, value: Any) -> Path:
    """``value`` as JSON (:func:`jsonable`), written atomically."""
    return atomic_write_text(Path(target), json.dumps(jsonable(value), indent=2, allow_nan=False) + "\n")


def write_metrics(folder: Path, metrics: dict[str, Any]) -> Path:
    """Write ``metrics.json`` (last, atomically): from now on the folder holds a finished run."""
    return write_json(Path(folder) / METRICS, metrics)


def read_metrics(folder: Path) -> dict[str, Any]:
    path = Path(folder) / METRICS
    if not Path(folder).is_dir():
        raise PdesolveError(f"run folder {folder} does not exist")
    if not path.is_file():
        raise PdesolveError(f"{folder} has no {METRICS}: not a finished run")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PdesolveError(f"{path} is not valid JSON: {error}") from None


def default_folder(problem: str, label: str, root: Path = Path("runs")) -> Path:
    """``runs/<problem>-<label>-<timestamp>``, with a counter when that name is taken."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{problem}-{label}-{stamp}"
    folder, count = base, 1
    while folder.exists():
        count += 1
        folder = base.with_name(f"{base.name}-{count}")
    return folder


def run_folder_name(index: int, solver: str, options: dict[str, Any], limit: int = 80) -> str:
    """``NN-solver-key=value-...`` of one run of a comparison: whole options while the name fits in ``limit``
    characters, then a short hash of all the options in place of the rest (a value is never cut)."""

    def clean(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9=._-]", "_", text)

    name = clean(f"{index:02d}-{solver}")
    parts = [clean(f"{key}={value}") for key, value in options.items()]
    if len("-".join([name, *parts])) <= limit:
        return "-".join([name, *parts])
    digest = "-" + hashlib.sha1(json.dumps(options, sort_keys=True, default=str).encode()).hexdigest()[:8]
    for part in parts:
        if len(name) + 1 + len(part) + len(digest) > limit:
            break
        name += "-" + part
    return name + digest
