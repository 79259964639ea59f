"""The torch CG's builders of the registered preconditioners (:mod:`pdesolve.linalg.registry`): none, jacobi,
mg, amg, ic0; :func:`make_preconditioner` builds one by name."""

from __future__ import annotations

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
from pdesolve.linalg.registry import GridLayout, Setup, resolve
from pdesolve.linalg.stencil import StencilOperator
from pdesolve.linalg.system import LinearOperator, SparseOperator
from pdesolve.problem import Problem


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
    problem: Problem | None = None,
) -> Preconditioner | None:
    """The registered preconditioner (or preconditioner file) ``kind`` for the SPD float64 ``matrix`` that
    ``operator`` applies on its device (``amg_setup``: torch or pyamg builds the AMG hierarchy)."""
    setup = Setup(operator, matrix, layout, smoother, steps, coarse_size, backend, amg_setup, problem)
    return resolve(kind).device(setup)


def build_none(setup: Setup) -> None:
    return None


def build_jacobi(setup: Setup) -> Preconditioner:
    return Jacobi(setup.operator)


def build_ic0(setup: Setup) -> Preconditioner:
    return IncompleteCholeskyCPU(setup.matrix)


def build_amg(setup: Setup) -> Preconditioner:
    return algebraic_multigrid(
        setup.operator, setup.matrix, setup.smoother, setup.steps, setup.coarse_size, setup.backend, setup.amg_setup
    )


def build_mg(setup: Setup) -> Preconditioner:
    """Box multigrid when the operator is a nearest-neighbour stencil on a box, else the sparse hierarchy."""
    operator, matrix, layout = setup.operator, setup.matrix, setup.layout
    if layout is None:
        raise PdesolveError("precond=mg needs a grid (a finite-difference system); use precond=amg on meshes")
    stencil = box_stencil_of(operator, matrix, layout)
    if stencil is not None:
        probe = operator if isinstance(operator, StencilOperator) else stencil
        return box_multigrid(operator, stencil, probe, setup.smoother, setup.steps, setup.coarse_size)
    stored = (
        operator
        if isinstance(operator, SparseOperator)
        else SparseOperator(matrix, operator.device, operator.dtype, setup.backend)
    )
    return geometric_multigrid(
        operator, stored, layout.shape, layout.mask, layout.periodic, setup.smoother, setup.steps, setup.coarse_size
    )


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
    if isinstance(operator, SparseOperator):
        stored = operator.csr64()
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
