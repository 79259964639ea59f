"""One checkpoint format for every family: a header that says what the file is for, then the family's state.

A checkpoint (or model file, :func:`save_model`: with its card beside it) is plain data: tensors, numbers, strings, lists and dicts, written atomically
(:func:`~pdesolve.io.run_folder.atomic_path`) and read with ``torch.load(..., weights_only=True)`` only, so a
crafted file whose unpickling would run code is refused, never run. The header records

- ``kind``: what the file holds (``pinn``, ``teng``, ``fno-training``, ``fno-model``, ...),
- ``problem``: the problem's name and a fingerprint of its definition and parameters (:func:`fingerprint`),
- ``solver`` and ``shaping``: the options that shape the model (width, depth, scheme, architecture, ...),
- ``versions`` and ``format``.

:func:`load` with an ``expected`` header refuses a file made for another problem, solver or model shape with one
line naming what differs. The last path saved is kept in :data:`last_saved`, so that an interrupted command can
say where its final checkpoint is.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import pickle
import platform
import re
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pdesolve.errors import PdesolveError
from pdesolve.io.interrupts import deferred, last_saved
from pdesolve.io.run_folder import atomic_path, atomic_write_text

FORMAT = 2  # the format of this header; files without one are refused
MAX_DEPTH = 8  # of nested objects described in a fingerprint


def describe(value: Any, depth: int = 0) -> str:
    """A stable text for ``value``: functions by their source (or bytecode), dataclasses and other objects by their
    fields, arrays by their bytes; no memory addresses, so the same definition gives the same text in every process.
    Objects nested deeper than ``MAX_DEPTH`` are named by their class only."""
    if depth > MAX_DEPTH:
        return type(value).__name__
    if inspect.isfunction(value) or inspect.ismethod(value):
        try:
            return inspect.getsource(value).strip()
        except (OSError, TypeError):
            code = value.__code__
            return f"{value.__qualname__}:{code.co_code.hex()}:{code.co_consts!r}"
    inner = depth + 1
    if is_dataclass(value) and not isinstance(value, type):
        parts = ", ".join(f"{f.name}={describe(getattr(value, f.name), inner)}" for f in fields(value))
        return f"{type(value).__name__}({parts})"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: str(item[0]))
        return "{" + ", ".join(f"{k!r}: {describe(v, inner)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(describe(v, inner) for v in value) + "]"
    if isinstance(value, np.ndarray):
        return f"array{value.shape}:{hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()}"
    if hasattr(value, "__dict__") and not isinstance(value, type):  # e.g. a mesh: its class and its data
        return f"{type(value).__name__}({describe(vars(value), inner)})"
    return repr(value)


def fingerprint(problem: Any) -> str:
    """A hash of what defines the problem's solution: unknowns, domain, conditions, parameters, start time and the
    source of ``residual``/``rhs``/``initial``. The end time is left out: a run resumed to a later end time continues."""
    parts = [
        problem.name,
        describe(tuple(getattr(problem, "unknowns", ("u",)))),
        describe(problem.domain),
        describe(list(problem.boundary)),
        describe(dict(problem.params)),
        describe(problem.residual if problem.residual is not None else problem.rhs),
        describe(problem.initial),
        repr(None if problem.time is None else float(problem.time[0])),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def versions() -> dict[str, str]:
    try:
        own = importlib.metadata.version("pdesolve")
    except importlib.metadata.PackageNotFoundError:
        own = "unknown"
    return {"pdesolve": own, "torch": str(torch.__version__), "python": platform.python_version()}


def header(kind: str, problem: Any = None, solver: str = "", shaping: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a checkpoint of ``kind`` is for: ``problem`` (a :class:`~pdesolve.problem.Problem` or ``None``),
    ``solver`` and the ``shaping`` options, with versions and format."""
    described = None if problem is None else {"name": problem.name, "fingerprint": fingerprint(problem)}
    return {
        "format": FORMAT,
        "kind": kind,
        "problem": described,
        "solver": solver,
        "shaping": dict(shaping or {}),
        "versions": versions(),
    }


def save(path: str | Path, head: dict[str, Any], payload: dict[str, Any]) -> Path:
    """Write ``{"header": head, **payload}`` to ``path`` atomically; a failed write (a full disk) leaves the previous
    file intact, no temporary file, and raises a one-line :class:`PdesolveError`."""
    path = Path(path)
    with deferred():
        with atomic_path(path) as temporary, open(temporary, "wb") as stream:
            torch.save({"header": head, **payload}, stream)
        last_saved["path"] = path
    return path


def save_model(path: str | Path, head: dict[str, Any], payload: dict[str, Any], card: str) -> Path:
    """A model file: :func:`save` ``path`` and write ``card`` (its model card for people, Markdown) to ``path``
    with suffix ``.md``, both atomically."""
    path = save(path, head, payload)
    atomic_write_text(path.with_suffix(".md"), card)
    return path


def load(
    path: str | Path,
    kind: str,
    expected: dict[str, Any] | None = None,
    device: str | torch.device = "cpu",
    what: str = "checkpoint",
) -> dict[str, Any]:
    """The payload of the ``kind`` file at ``path`` (``"header"`` included); refused with one line when missing,
    unreadable, not plain data, of another kind or format, or (``expected`` given) made for another problem,
    solver or model shape."""
    path = Path(path)
    if not path.is_file():
        raise PdesolveError(f"{what} {path} does not exist")
    try:
        data = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        detail = f"it would import {found.group(1)}" if found else "it holds more than tensors and plain data"
        raise PdesolveError(f"{what} {path} is refused: {detail} (a checkpoint is data, never code)") from None
    except Exception as error:  # a truncated or garbage file: torch raises many kinds
        raise PdesolveError(f"{what} {path} cannot be read (truncated or not a torch file): {error}") from None
    head = data.get("header") if isinstance(data, dict) else None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise PdesolveError(f"{what} {path} is not a pdesolve checkpoint of format {FORMAT}")
    if head.get("kind") != kind:
        raise PdesolveError(f"{what} {path} holds a {head.get('kind')} checkpoint, not a {kind} one")
    if expected is not None:
        check(head, expected, f"{what} {path}")
    return data


def check(saved: dict[str, Any], expected: dict[str, Any], source: str) -> None:
    """Refuse (one line) a checkpoint whose problem, solver or shaping options differ from ``expected``."""
    differences = []
    mine, theirs = saved.get("problem") or {}, expected.get("problem") or {}
    if mine.get("name") != theirs.get("name"):
        differences.append(f"problem {mine.get('name')!r}, not {theirs.get('name')!r}")
    elif mine.get("fingerprint") != theirs.get("fingerprint"):
        differences.append(f"another definition or parameters of {theirs.get('name')!r}")
    if saved.get("solver") != expected.get("solver"):
        differences.append(f"solver {saved.get('solver')!r}, not {expected.get('solver')!r}")
    shaping, wanted = saved.get("shaping", {}), expected.get("shaping", {})
    for key in sorted(set(shaping) | set(wanted)):
        if shaping.get(key) != wanted.get(key):
            differences.append(f"{key} {shaping.get(key)!r}, not {wanted.get(key)!r}")
    if differences:
        raise PdesolveError(f"{source} was made for {'; '.join(differences)}: it cannot resume this run")
