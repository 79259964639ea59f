"""Every preconditioner by name, for the torch CG: the ``cg`` solver, and ``fd``/``fem`` with ``linsolve=cg``.

An :class:`Entry` holds a one-line description and its factories: ``device(setup)`` builds it for the torch CG
on the operator's device, ``host(matrix)`` gives ``r -> M⁻¹ r`` in numpy, what ``fd`` and ``fem`` apply on the CPU
(None where the kind has no such form: ``mg`` needs the grid). A name that is not registered is offered to the file loaders (a learned
preconditioner's checkpoint, :mod:`pdesolve.learned.hook`), which return an entry or None. Factories are named
``module:function`` and imported when first used, so this table imports neither torch nor any family.

A new preconditioner is one :func:`register` call (``Entry(name, description, device=..., host=...)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from pdesolve.errors import PdesolveError
from pdesolve.plugins import lazy


@dataclass
class GridLayout:
    """Where the unknowns sit: the node grid ``shape``, the unknown ``mask`` and the periodic axes."""

    shape: tuple[int, ...]
    mask: np.ndarray
    periodic: tuple[bool, ...]


@dataclass(frozen=True)
class Setup:
    """What a device factory may use: the operator on its device, the SPD float64 ``matrix`` it applies, the
    grid layout (None on meshes), the multigrid settings and the problem (learned kinds check their family)."""

    operator: Any  # a pdesolve.linalg.system.LinearOperator
    matrix: sp.csr_matrix
    layout: GridLayout | None = None
    smoother: str = "chebyshev"
    steps: int = 2
    coarse_size: int = 256
    backend: str | None = None
    amg_setup: str = "torch"
    problem: Any = None  # a pdesolve.problem.Problem


@dataclass(frozen=True)
class Entry:
    name: str
    description: str
    device: Callable[[Setup], Any] | None = None  # -> a Preconditioner of pdesolve.linalg.cg, or None for none
    host: Callable[[sp.csr_matrix], Callable[[np.ndarray], np.ndarray]] | None = None


REGISTRY: dict[str, Entry] = {}
Loader = Callable[[str], Entry | None]
LOADERS: dict[str, Loader] = {}  # what a file may hold -> its loader


def register(entry: Entry) -> Entry:
    REGISTRY[entry.name] = entry
    return entry


def register_loader(what: str, loader: Loader) -> None:
    """``loader(name)``: the entry of the file ``name`` when it is one of ``what``, else None."""
    LOADERS[what] = loader


def names(where: str = "device") -> tuple[str, ...]:
    """The registered names with a ``device`` (torch tensors) or ``host`` (numpy arrays) factory."""
    return tuple(name for name, entry in REGISTRY.items() if getattr(entry, where) is not None)


def help_text(where: str = "device") -> str:
    """``precond``'s option help: every name with its description, then the files the loaders take."""
    kinds = "; ".join(f"{name}: {REGISTRY[name].description}" for name in names(where))
    files = "; ".join(f"FILE: {what}" for what in LOADERS) if where == "device" else ""
    return "; ".join(part for part in (kinds, files) if part)


def resolve(name: str, where: str = "device") -> Entry:
    """The entry of ``name``: a registered preconditioner, or a file one of the loaders takes."""
    entry = REGISTRY.get(name)
    if entry is None and where == "device":
        entry = next((found for load in LOADERS.values() if (found := load(name)) is not None), None)
    if entry is None or getattr(entry, where) is None:
        files = f" or a file ({', '.join(LOADERS)})" if where == "device" and LOADERS else ""
        raise PdesolveError(f"precond={name!r}: choose one of {', '.join(names(where))}{files}")
    return entry


def host_preconditioner(name: str, matrix: sp.csr_matrix) -> Callable[[np.ndarray], np.ndarray]:
    """``r -> M⁻¹ r`` in float64 numpy for the SPD ``matrix`` (``fd`` and ``fem``'s CG on the CPU)."""
    return resolve(name, "host").host(matrix)


register(
    Entry(
        "none",
        "no preconditioner",
        lazy("pdesolve.linalg.preconditioners:build_none"),
        lazy("pdesolve.linalg.host:host_none"),
    )
)
register(
    Entry(
        "jacobi",
        "diagonal scaling",
        lazy("pdesolve.linalg.preconditioners:build_jacobi"),
        lazy("pdesolve.linalg.host:host_jacobi"),
    )
)
register(Entry("mg", "geometric multigrid V-cycle (grids only)", lazy("pdesolve.linalg.preconditioners:build_mg")))
register(
    Entry(
        "amg",
        "smoothed-aggregation algebraic multigrid",
        lazy("pdesolve.linalg.preconditioners:build_amg"),
        lazy("pdesolve.linalg.host:host_amg"),
    )
)
register(
    Entry(
        "ic0",
        "incomplete Cholesky IC(0), triangular solves on the CPU",
        lazy("pdesolve.linalg.preconditioners:build_ic0"),
        lazy("pdesolve.linalg.host:host_ic0"),
    )
)
register_loader(
    "a learned preconditioner's checkpoint (pdesolve train precond PROBLEM --model gnn|dcdm|mg)",
    lazy("pdesolve.learned.hook:load"),
)
