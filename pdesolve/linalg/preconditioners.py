"""Choose and build a preconditioner for the torch CG by name: none, jacobi, mg, amg, ic0."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from pdesolve.errors import NotApplicableError, PdesolveError
from pdesolve.linalg.amg import algebraic_multigrid
from pdesolve.linalg.box_stencil import BoxStencil
from pdesolve.linalg.boxmg import box_multigrid
from pdesolve.linalg.cg import Preconditioner
from pdesolve.linalg.ic0 import IncompleteCholeskyCPU
from pdesolve.linalg.jacobi import Jacobi
from pdesolve.linalg.multigrid import geometric_multigrid
from pdesolve.linalg.stencil import StencilOperator
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
    amg_setup: str = "torch",
) -> Preconditioner | None:
    """The preconditioner ``kind`` for the SPD float64 ``matrix`` that ``operator`` applies on its device
    (``amg_setup``: torch or pyamg builds the AMG hierarchy)."""
    if kind == "none":
        return None
    if kind == "jacobi":
        return Jacobi(operator)
    if kind == "ic0":
        return IncompleteCholeskyCPU(matrix)
    if kind == "amg":
        return algebraic_multigrid(operator, matrix, smoother, steps, coarse_size, backend, amg_setup)
    if kind == "mg":
        if layout is None:
            raise PdesolveError("precond=mg needs a grid (a finite-difference system); use precond=amg on meshes")
        stencil = box_stencil_of(operator, matrix, layout)
        if stencil is not None:
            probe = operator if isinstance(operator, StencilOperator) else stencil
            return box_multigrid(operator, stencil, probe, smoother, steps, coarse_size)
        stored = (
            operator
            if isinstance(operator, SparseOperator)
            else SparseOperator(matrix, operator.device, operator.dtype, backend)
        )
        return geometric_multigrid(
            operator, stored, layout.shape, layout.mask, layout.periodic, smoother, steps, coarse_size
        )
    raise PdesolveError(f"precond={kind!r}: choose one of {', '.join(PRECONDITIONERS)}")


def box_shape(mask: np.ndarray) -> tuple[int, ...] | None:
    """The shape of the box the unknowns fill, or None when they do not fill one (an L-shape)."""
    where = np.nonzero(mask)
    shape = tuple(int(w.max() - w.min() + 1) for w in where)
    return shape if int(np.prod(shape)) == int(mask.sum()) else None


def box_stencil_of(operator: LinearOperator, matrix: sp.csr_matrix, layout: GridLayout) -> BoxStencil | None:
    """The operator as a compact stencil on its device when the unknowns fill a non-periodic box, else None."""
    shape = box_shape(layout.mask)
    if shape is None or any(layout.periodic):
        return None
    if isinstance(operator, StencilOperator):
        return BoxStencil.from_star(operator)
    if isinstance(operator, SparseOperator) and operator.backend == "torch":
        stored = operator.matrix64
        crow, col, values = stored.crow_indices(), stored.col_indices(), stored.values()
    else:
        device = operator.device
        crow, col, values = (torch.as_tensor(a, device=device) for a in (matrix.indptr, matrix.indices, matrix.data))
    try:
        return BoxStencil.from_csr(crow, col, values, shape, operator.dtype)
    except NotApplicableError:  # couplings beyond the nearest neighbours: the sparse hierarchy handles them
        return None


def describe(preconditioner: Any) -> dict[str, Any]:
    """Facts about a preconditioner for the run's stats (multigrid levels)."""
    return preconditioner.describe() if hasattr(preconditioner, "describe") else {}
