"""Choose and build a preconditioner for the torch CG by name: none, jacobi, mg, amg, ic0."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from pdesolve.errors import PdesolveError
from pdesolve.linalg.amg import algebraic_multigrid
from pdesolve.linalg.cg import Preconditioner
from pdesolve.linalg.ic0 import IncompleteCholeskyCPU
from pdesolve.linalg.jacobi import Jacobi
from pdesolve.linalg.multigrid import geometric_multigrid
from pdesolve.linalg.system import LinearOperator, SparseOperator

PRECONDITIONERS = ("none", "jacobi", "mg", "amg", "ic0")


@dataclass
class GridLayout:
    """Where the unknowns sit: the node grid ``shape``, the unknown ``mask`` and the periodic axes."""

    shape: tuple[int, ...]
    mask: np.ndarray
    periodic: tuple[bool, ...]


def make_preconditioner(
    kind: str,
    operator: LinearOperator,
    matrix: sp.csr_matrix,
    layout: GridLayout | None = None,
    smoother: str = "chebyshev",
    steps: int = 2,
    coarse_size: int = 256,
    backend: str | None = None,
) -> Preconditioner | None:
    """The preconditioner ``kind`` for the SPD float64 ``matrix`` that ``operator`` applies on its device."""
    if kind == "none":
        return None
    if kind == "jacobi":
        return Jacobi(operator)
    if kind == "ic0":
        return IncompleteCholeskyCPU(matrix)
    if kind == "amg":
        return algebraic_multigrid(operator, matrix, smoother, steps, coarse_size, backend)
    if kind == "mg":
        if layout is None:
            raise PdesolveError("precond=mg needs a grid (a finite-difference system); use precond=amg on meshes")
        stored = (
            operator
            if isinstance(operator, SparseOperator)
            else SparseOperator(matrix, operator.device, operator.dtype, backend)
        )
        return geometric_multigrid(
            operator, stored, layout.shape, layout.mask, layout.periodic, smoother, steps, coarse_size
        )
    raise PdesolveError(f"precond={kind!r}: choose one of {', '.join(PRECONDITIONERS)}")


def describe(preconditioner: Any) -> dict[str, Any]:
    """Facts about a preconditioner for the run's stats (multigrid levels)."""
    return preconditioner.describe() if hasattr(preconditioner, "describe") else {}
