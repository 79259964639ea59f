"""Sparse symmetric positive definite systems on a torch device.

A :class:`LinearOperator` is anything with ``matvec(x, out)`` (``x`` of shape (n,) or (n, k)), its
``diagonal()`` and a float64 product ``matvec64`` for true residuals. :class:`SparseOperator` stores
the matrix in CSR.
:func:`spd_form` turns an assembled system into the form CG needs (``sign * A`` SPD) or refuses it.
"""

from __future__ import annotations

import warnings
from typing import Protocol

import numpy as np
import scipy.sparse as sp
import torch

from pdesolve.errors import NotApplicableError
from pdesolve.linalg import kernels
from pdesolve.linalg.host import definiteness_sign

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")


class LinearOperator(Protocol):
    shape: tuple[int, int]
    dtype: torch.dtype
    device: torch.device

    def matvec(self, x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor: ...

    def matvec64(self, x: torch.Tensor) -> torch.Tensor: ...

    def diagonal(self) -> torch.Tensor: ...


def csr_tensor(
    matrix: sp.spmatrix, device: torch.device | str, dtype: torch.dtype, index_dtype: torch.dtype = torch.int64
) -> torch.Tensor:
    """A scipy matrix as a torch sparse CSR tensor on ``device``."""
    matrix = sp.csr_matrix(matrix)
    matrix.sort_indices()
    return torch.sparse_csr_tensor(
        torch.as_tensor(matrix.indptr, dtype=index_dtype),
        torch.as_tensor(matrix.indices, dtype=index_dtype),
        torch.as_tensor(matrix.data, dtype=dtype),
        size=matrix.shape,
        check_invariants=False,
    ).to(device)


def _with_values(matrix: torch.Tensor, values: torch.Tensor, index_dtype: torch.dtype) -> torch.Tensor:
    return torch.sparse_csr_tensor(
        matrix.crow_indices().to(index_dtype),
        matrix.col_indices().to(index_dtype),
        values,
        size=matrix.shape,
        check_invariants=False,
    )


class SparseOperator:
    """A stored sparse matrix on a device, with products, transpose and sparse-sparse products.

    The backend is torch sparse CSR (cuSPARSE) on CUDA and scipy on the CPU, where torch's CSR
    product is an order of magnitude slower; ``backend="torch"`` forces torch (tests use it on CPU).
    ``matvec64`` uses float64 values kept beside float32 ones, for true residuals.
    """

    def __init__(
        self,
        matrix: sp.spmatrix | torch.Tensor,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float64,
        backend: str | None = None,
    ) -> None:
        self.device, self.dtype = torch.device(device), dtype
        self.backend = backend or ("scipy" if self.device.type == "cpu" else "torch")
        if self.backend == "scipy":
            source = _to_scipy(matrix)
            self.matrix64 = source
            self.matrix = source.astype(_NUMPY[dtype]) if dtype != torch.float64 else source
        else:
            source = (
                matrix.to(device=self.device, dtype=torch.float64)
                if isinstance(matrix, torch.Tensor)
                else csr_tensor(matrix, self.device, torch.float64)
            )
            self.matrix64 = source
            self.matrix = (
                source if dtype == torch.float64 else _with_values(source, source.values().to(dtype), torch.int64)
            )
        self.shape = tuple(self.matrix.shape)
        self.ell: tuple[torch.Tensor, torch.Tensor] | None = None

    def matvec(self, x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        if self.ell is not None and x.dim() == 1 and kernels.usable(x):
            y = x.new_empty(self.shape[0]) if out is None else out
            kernels.ell_matvec(*self.ell, x, y)
            return y
        if self.backend == "scipy":
            y = torch.from_numpy(np.asarray(self.matrix @ x.numpy()))
            return y if out is None else out.copy_(y)
        if out is None:
            return self.matrix @ x
        return torch.mv(self.matrix, x, out=out) if x.dim() == 1 else torch.mm(self.matrix, x, out=out)

    def matvec64(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(torch.float64)
        if self.backend == "scipy":
            return torch.from_numpy(np.asarray(self.matrix64 @ x.numpy()))
        return self.matrix64 @ x

    def diagonal(self) -> torch.Tensor:
        if self.backend == "scipy":
            return torch.from_numpy(self.matrix64.diagonal().astype(_NUMPY[self.dtype]))
        crow, col = self.matrix64.crow_indices(), self.matrix64.col_indices()
        rows = torch.repeat_interleave(torch.arange(self.shape[0], device=self.device), crow.diff())
        on_diagonal = rows == col
        diagonal = torch.zeros(self.shape[0], dtype=torch.float64, device=self.device)
        diagonal.index_put_((rows[on_diagonal],), self.matrix64.values()[on_diagonal], accumulate=True)
        return diagonal.to(self.dtype)

    # --- building hierarchies (always from the float64 values) -----------------------------
    def _like(self, matrix: sp.spmatrix | torch.Tensor) -> SparseOperator:
        return SparseOperator(matrix, self.device, self.dtype, self.backend)

    def transpose(self) -> SparseOperator:
        if self.backend == "scipy":
            return self._like(self.matrix64.T.tocsr())
        return self._like(self.matrix64.to_sparse_coo().t().coalesce().to_sparse_csr())

    def __matmul__(self, other: SparseOperator) -> SparseOperator:
        """The sparse product ``self @ other`` (float64 values)."""
        try:
            return self._like(self.matrix64 @ other.matrix64)
        except RuntimeError:  # a device without sparse-sparse products: form it with scipy
            return self._like(csr_tensor(self.to_scipy() @ other.to_scipy(), self.device, torch.float64))

    def to_dense(self) -> torch.Tensor:
        if self.backend == "scipy":
            return torch.from_numpy(self.matrix64.toarray())
        return self.matrix64.to_dense()

    def to_scipy(self) -> sp.csr_matrix:
        return _to_scipy(self.matrix64)

    def compact(self) -> SparseOperator:
        """The same operator with 32-bit column indices on CUDA (fewer bytes per nonzero to stream), and
        in ELLPACK form for the triton product when its rows are short (at most ``ELL_WIDTH`` nonzeros)."""
        if self.backend == "torch" and self.device.type == "cuda" and self.matrix64._nnz() < 2**31 - 1:
            self.matrix = _with_values(self.matrix, self.matrix.values(), torch.int32)
            if kernels.triton is not None:
                self.ell = _ellpack(self.matrix)
        return self

    @classmethod
    def from_coo(
        cls,
        rows: torch.Tensor,
        cols: torch.Tensor,
        values: torch.Tensor,
        shape: tuple[int, int],
        like: SparseOperator,
    ) -> SparseOperator:
        """A matrix from COO triplets (on ``like``'s device), in ``like``'s backend and dtype."""
        if like.backend == "scipy":
            matrix = sp.csr_matrix((values.numpy(), (rows.numpy(), cols.numpy())), shape=shape)
            return like._like(matrix)
        coo = torch.sparse_coo_tensor(torch.stack([rows, cols]), values.to(torch.float64), shape)
        return like._like(coo.coalesce().to_sparse_csr())


ELL_WIDTH = 32


def _ellpack(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(values, columns)`` of shape (width, rows), padded with zeros (at column 0); None if too wide."""
    crow = matrix.crow_indices().long()
    lengths = crow.diff()
    width = int(lengths.max()) if lengths.numel() else 0
    if not 0 < width <= ELL_WIDTH or width * lengths.numel() > 1.5 * matrix._nnz():
        return None
    rows = torch.repeat_interleave(torch.arange(lengths.numel(), device=crow.device), lengths)
    slot = torch.arange(rows.numel(), device=crow.device) - crow[rows]
    values = torch.zeros((width, lengths.numel()), dtype=matrix.values().dtype, device=crow.device)
    columns = torch.zeros((width, lengths.numel()), dtype=torch.int32, device=crow.device)
    values[slot, rows] = matrix.values()
    columns[slot, rows] = matrix.col_indices().to(torch.int32)
    return values, columns


_NUMPY = {torch.float64: np.float64, torch.float32: np.float32}


def _to_scipy(matrix: sp.spmatrix | torch.Tensor) -> sp.csr_matrix:
    if isinstance(matrix, torch.Tensor):
        matrix = matrix.to("cpu", torch.float64)
        return sp.csr_matrix(
            (matrix.values().numpy(), matrix.col_indices().numpy(), matrix.crow_indices().numpy()), shape=matrix.shape
        )
    return sp.csr_matrix(matrix, dtype=np.float64)


def spd_form(matrix: sp.spmatrix, rhs: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """``(sign A, sign b)`` with ``sign A`` symmetric with a positive diagonal, else NotApplicableError.

    Also refuses a matrix with a constant null vector (``A 1 = 0``: pure Neumann or periodic
    Laplacians), whose system has no unique solution.
    """
    matrix = sp.csr_matrix(matrix, dtype=np.float64)
    if matrix.shape[0] != matrix.shape[1]:
        raise NotApplicableError(f"CG needs a square matrix, got {matrix.shape}")
    sign = definiteness_sign(matrix, remedy="solve it with fd or fem, whose linsolve=direct takes such matrices")
    scale = abs(matrix).sum(axis=1).max()
    if np.abs(matrix @ np.ones(matrix.shape[0])).max() <= 1e-12 * scale:
        raise NotApplicableError(
            "the matrix is singular: constants are in its null space (only Neumann or periodic conditions), "
            "so the solution is not unique"
        )
    return (matrix if sign > 0 else -matrix).tocsr(), sign * np.asarray(rhs, dtype=np.float64)
