"""Algebraic multigrid: PyAMG's smoothed-aggregation hierarchy, built on the CPU, cycled on the device.

Smoothed aggregation (Vaněk, Mandel & Brezina 1996) through :func:`pyamg.smoothed_aggregation_solver`;
its levels' ``A`` and ``P`` become sparse operators on the device and run the same symmetric V-cycle
as geometric multigrid (:class:`~pdesolve.linalg.multigrid.Multigrid`) with Jacobi or Chebyshev
smoothing, which parallelises where PyAMG's default Gauss–Seidel does not.
"""

from __future__ import annotations

import pyamg
import scipy.sparse as sp

from pdesolve.linalg.multigrid import Multigrid
from pdesolve.linalg.system import LinearOperator, SparseOperator


def algebraic_multigrid(
    operator: LinearOperator,
    matrix: sp.spmatrix,
    smoother: str = "chebyshev",
    steps: int = 2,
    coarse_size: int = 256,
    backend: str | None = None,
) -> Multigrid:
    """The SA hierarchy of the float64 ``matrix``; ``operator`` (the same matrix on the device) is level 0."""
    hierarchy = pyamg.smoothed_aggregation_solver(
        sp.csr_matrix(matrix), symmetry="symmetric", max_coarse=coarse_size, keep=False
    )
    device, dtype = operator.device, operator.dtype
    operators: list[LinearOperator] = [operator]
    operators += [SparseOperator(level.A, device, dtype, backend).compact() for level in hierarchy.levels[1:-1]]
    prolongations = [SparseOperator(level.P, device, dtype, backend).compact() for level in hierarchy.levels[:-1]]
    coarse = SparseOperator(hierarchy.levels[-1].A, device, dtype, backend)
    return Multigrid(operators, prolongations, coarse, smoother, steps)
