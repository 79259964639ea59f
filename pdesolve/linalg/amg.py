"""Algebraic multigrid: a smoothed-aggregation hierarchy cycled on the device.

Smoothed aggregation (Vaněk, Mandel & Brezina 1996), built either in torch on the operator's device
(``setup="torch"``, :mod:`pdesolve.linalg.sa_setup`: parallel MIS-2 aggregation, sparse Galerkin
products; the default) or by :func:`pyamg.smoothed_aggregation_solver` on the host
(``setup="pyamg"``). The levels' ``A`` and ``P`` become sparse operators on the device and run the
same symmetric V-cycle as geometric multigrid (:class:`~pdesolve.linalg.multigrid.Multigrid`) with
Jacobi or Chebyshev smoothing, which parallelises where PyAMG's default Gauss–Seidel does not.
"""

from __future__ import annotations

import pyamg
import scipy.sparse as sp
import torch

from pdesolve.errors import NotApplicableError, PdesolveError
from pdesolve.linalg.multigrid import Multigrid
from pdesolve.linalg.sa_setup import smoothed_aggregation
from pdesolve.linalg.system import LinearOperator, SparseOperator, csr_tensor

AMG_SETUPS = ("torch", "pyamg")
DENSE_LIMIT = 8192  # the largest coarsest level factored densely


def device_matrix(operator: LinearOperator, matrix: sp.spmatrix) -> torch.Tensor:
    """The float64 matrix as a CSR tensor on the operator's device (the operator's own when it stores one)."""
    if isinstance(operator, SparseOperator):
        return operator.csr64()
    return csr_tensor(matrix, operator.device, torch.float64)


def sa_levels(
    operator: LinearOperator, matrix: sp.spmatrix, coarse_size: int, setup: str
) -> tuple[list[torch.Tensor | sp.spmatrix], list[torch.Tensor | sp.spmatrix]]:
    """``(operators, prolongations)`` of the SA hierarchy, finest first, built by ``setup``."""
    if setup == "torch":
        hierarchy = smoothed_aggregation(device_matrix(operator, matrix), coarse_size=coarse_size)
        operators, prolongations = hierarchy.operators, hierarchy.prolongations
    elif setup == "pyamg":
        solver = pyamg.smoothed_aggregation_solver(
            sp.csr_matrix(matrix), symmetry="symmetric", max_coarse=coarse_size, keep=False
        )
        operators = [level.A for level in solver.levels]
        prolongations = [level.P for level in solver.levels[:-1]]
    else:
        raise PdesolveError(f"amg_setup={setup!r}: choose one of {', '.join(AMG_SETUPS)}")
    if operators[-1].shape[0] > DENSE_LIMIT:
        raise NotApplicableError(
            f"smoothed aggregation stopped coarsening at {operators[-1].shape[0]} unknowns: "
            "the matrix has too few strong connections for AMG"
        )
    return operators, prolongations


def algebraic_multigrid(
    operator: LinearOperator,
    matrix: sp.spmatrix,
    smoother: str = "chebyshev",
    steps: int = 2,
    coarse_size: int = 256,
    backend: str | None = None,
    setup: str = "torch",
) -> Multigrid:
    """The SA hierarchy of the float64 ``matrix``; ``operator`` (the same matrix on the device) is level 0."""
    operators, prolongations = sa_levels(operator, matrix, coarse_size, setup)
    device, dtype = operator.device, operator.dtype
    cycle: list[LinearOperator] = [operator]
    cycle += [SparseOperator(level, device, dtype, backend).compact() for level in operators[1:-1]]
    transfers = [SparseOperator(level, device, dtype, backend).compact() for level in prolongations]
    coarse = SparseOperator(operators[-1], device, dtype, backend)
    return Multigrid(cycle, transfers, coarse, smoother, steps)
