"""Float64 host-side pieces of the linear-algebra stack: the definiteness
sign CG needs, the IC(0) factor (Meijerink & van der Vorst 1977) and ``r -> M⁻¹ r`` preconditioners in numpy.

No torch here: the preconditioners act on numpy arrays (:class:`pdesolve.linalg.assembled.HostApplied` hands
them the CG's CPU tensors), and ``fd``/``fem``'s direct solves need nothing more.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from pdesolve.errors import NotApplicableError

HostPreconditioner = Callable[[np.ndarray], np.ndarray]


def definiteness_sign(matrix: sp.csr_matrix, remedy: str = "use linsolve=direct") -> float:
    """+1 or -1 so that ``sign * A`` may be SPD; refuse matrices that cannot be (CG needs SPD), naming ``remedy``."""
    scale = abs(matrix).max() if matrix.nnz else 0.0
    asymmetry = abs(matrix - matrix.T).max() if matrix.nnz else 0.0
    if asymmetry > 1e-10 * scale:
        raise NotApplicableError(
            f"CG needs a symmetric matrix, this one has |A - Aᵀ| = {asymmetry:.3g} (|A| = {scale:.3g}), "
            f"e.g. from first-derivative terms; {remedy}"
        )
    diagonal = matrix.diagonal()
    for sign in (1.0, -1.0):
        if np.all(sign * diagonal > 0):
            return sign
    raise NotApplicableError(
        f"CG needs a definite matrix, but the diagonal has entries of both signs or zeros; {remedy}"
    )


def incomplete_cholesky(matrix: sp.spmatrix) -> sp.csr_matrix:
    """Lower factor ``L`` of IC(0): ``L Lᵀ ≈ A`` with ``L`` on the pattern of ``tril(A)`` (zero fill-in).

    Row-oriented: ``L[i,k] = (A[i,k] - Σ_j L[i,j] L[k,j]) / L[k,k]`` over the common pattern ``j < k``,
    ``L[i,i] = sqrt(A[i,i] - Σ_j L[i,j]²)``. A non-positive pivot raises :class:`NotApplicableError`.
    """
    lower = sp.tril(sp.csr_matrix(matrix, dtype=np.float64), format="csr")
    lower.sum_duplicates()
    lower.sort_indices()
    n = lower.shape[0]
    indptr, indices, data = lower.indptr.tolist(), lower.indices.tolist(), lower.data.tolist()
    if any(indptr[i + 1] == indptr[i] or indices[indptr[i + 1] - 1] != i for i in range(n)):
        raise NotApplicableError("IC(0) needs every diagonal entry of the matrix in its sparsity pattern")
    position = [-1] * n  # where column j sits in the current row i
    for i in range(n):
        start, diagonal = indptr[i], indptr[i + 1] - 1
        for entry in range(start, diagonal):
            position[indices[entry]] = entry
        for entry in range(start, diagonal):
            k = indices[entry]
            total = data[entry]
            for other in range(indptr[k], indptr[k + 1] - 1):
                j = position[indices[other]]
                if j >= 0:
                    total -= data[j] * data[other]
            data[entry] = total / data[indptr[k + 1] - 1]
        pivot = data[diagonal] - sum(value * value for value in data[start:diagonal])
        if not pivot > 0:
            raise NotApplicableError(
                f"IC(0) broke down at row {i} (pivot {pivot:.3g}): the matrix is not SPD enough for an "
                "incomplete Cholesky factor; use precond=jacobi or amg"
            )
        data[diagonal] = math.sqrt(pivot)
        for entry in range(start, diagonal):
            position[indices[entry]] = -1
    return sp.csr_matrix((np.array(data), lower.indices, lower.indptr), shape=lower.shape)


class IncompleteCholesky:
    """The IC(0) preconditioner ``M⁻¹ r = L⁻ᵀ L⁻¹ r``; triangular solves by SuperLU on ``L`` itself (no fill)."""

    def __init__(self, matrix: sp.spmatrix) -> None:
        self.factor = incomplete_cholesky(matrix)
        # LU of a triangular matrix in natural order without pivoting is the matrix itself: fast C solves
        self._triangular = splu(
            self.factor.tocsc(), permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
        )

    def apply(self, r: np.ndarray) -> np.ndarray:
        return self._triangular.solve(self._triangular.solve(r), trans="T")


def host_none(matrix: sp.csr_matrix) -> HostPreconditioner:
    return lambda r: r.copy()


def host_jacobi(matrix: sp.csr_matrix) -> HostPreconditioner:
    inverse = 1.0 / matrix.diagonal()
    return lambda r: inverse * r


def host_ic0(matrix: sp.csr_matrix) -> HostPreconditioner:
    return IncompleteCholesky(matrix).apply


def host_amg(matrix: sp.csr_matrix) -> HostPreconditioner:
    """PyAMG smoothed aggregation (Vaněk, Mandel & Brezina 1996), one V-cycle per application."""
    import pyamg

    hierarchy = pyamg.smoothed_aggregation_solver(matrix, symmetry="symmetric")
    operator = hierarchy.aspreconditioner(cycle="V")
    return lambda r: np.asarray(operator @ r).ravel()
