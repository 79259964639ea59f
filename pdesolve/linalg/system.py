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

from pdesolve.errors import NotApplicableError, PdesolveError
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


class HostCSR:
    """A CSR matrix held by scipy on the host: on the CPU scipy's product is an order of magnitude faster than
    torch's. ``matrix`` has the operator's dtype, ``matrix64`` the float64 values (for true residuals)."""

    def __init__(self, matrix: sp.spmatrix | torch.Tensor, device: torch.device, dtype: torch.dtype) -> None:
        self.device, self.dtype = device, dtype
        self.matrix64 = _to_scipy(matrix)
        self.matrix = self.matrix64.astype(_NUMPY[dtype]) if dtype != torch.float64 else self.matrix64

    def matvec(self, x: torch.Tensor, out: torch.Tensor | None) -> torch.Tensor:
        y = torch.from_numpy(np.asarray(self.matrix @ x.numpy()))
        return y if out is None else out.copy_(y)

    def matvec64(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self.matrix64 @ x.numpy()))

    def diagonal(self) -> torch.Tensor:
        return torch.from_numpy(self.matrix64.diagonal().astype(_NUMPY[self.dtype]))

    def transpose64(self) -> sp.csr_matrix:
        return self.matrix64.T.tocsr()

    def to_dense(self) -> torch.Tensor:
        return torch.from_numpy(self.matrix64.toarray())

    def csr64(self) -> torch.Tensor:
        return csr_tensor(self.matrix64, self.device, torch.float64)

    def from_coo(
        self, rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]
    ) -> sp.csr_matrix:
        return sp.csr_matrix((values.numpy(), (rows.numpy(), cols.numpy())), shape=shape)

    def compact(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        return None


class DeviceCSR:
    """A CSR matrix as torch sparse tensors on the device (cuSPARSE on CUDA): ``matrix`` in the operator's dtype,
    ``matrix64`` in float64."""

    def __init__(self, matrix: sp.spmatrix | torch.Tensor, device: torch.device, dtype: torch.dtype) -> None:
        self.device, self.dtype = device, dtype
        self.matrix64 = (
            matrix.to(device=device, dtype=torch.float64)
            if isinstance(matrix, torch.Tensor)
            else csr_tensor(matrix, device, torch.float64)
        )
        self.matrix = (
            self.matrix64
            if dtype == torch.float64
            else _with_values(self.matrix64, self.matrix64.values().to(dtype), torch.int64)
        )

    def matvec(self, x: torch.Tensor, out: torch.Tensor | None) -> torch.Tensor:
        if out is None:
            return self.matrix @ x
        return torch.mv(self.matrix, x, out=out) if x.dim() == 1 else torch.mm(self.matrix, x, out=out)

    def matvec64(self, x: torch.Tensor) -> torch.Tensor:
        return self.matrix64 @ x

    def diagonal(self) -> torch.Tensor:
        crow, col = self.matrix64.crow_indices(), self.matrix64.col_indices()
        rows = torch.repeat_interleave(torch.arange(self.matrix64.shape[0], device=self.device), crow.diff())
        on_diagonal = rows == col
        diagonal = torch.zeros(self.matrix64.shape[0], dtype=torch.float64, device=self.device)
        diagonal.index_put_((rows[on_diagonal],), self.matrix64.values()[on_diagonal], accumulate=True)
        return diagonal.to(self.dtype)

    def transpose64(self) -> torch.Tensor:
        return self.matrix64.to_sparse_coo().t().coalesce().to_sparse_csr()

    def to_dense(self) -> torch.Tensor:
        return self.matrix64.to_dense()

    def csr64(self) -> torch.Tensor:
        return self.matrix64

    def from_coo(
        self, rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]
    ) -> torch.Tensor:
        coo = torch.sparse_coo_tensor(torch.stack([rows, cols]), values.to(torch.float64), shape)
        return coo.coalesce().to_sparse_csr()

    def compact(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """32-bit column indices on CUDA (fewer bytes per nonzero to stream); the ELLPACK form for the triton
        product when the rows are short (at most ``ELL_WIDTH`` nonzeros), else None."""
        if self.device.type != "cuda" or self.matrix64._nnz() >= 2**31 - 1:
            return None
        self.matrix = _with_values(self.matrix, self.matrix.values(), torch.int32)
        return _ellpack(self.matrix) if kernels.triton is not None else None


STORAGES: dict[str, type[HostCSR] | type[DeviceCSR]] = {"scipy": HostCSR, "torch": DeviceCSR}


def storage_name(device: torch.device, backend: str | None = None) -> str:
    """``backend`` checked against :data:`STORAGES`, or the default for ``device``: ``"scipy"`` on the CPU (torch's
    sparse kernels are an order of magnitude slower there), ``"torch"`` elsewhere."""
    name = backend or ("scipy" if device.type == "cpu" else "torch")
    if name not in STORAGES:
        raise PdesolveError(f"backend={name!r}: choose one of {', '.join(STORAGES)}")
    return name


class SparseOperator:
    """A stored sparse matrix on a device, with products, transpose and sparse-sparse products.

    Its storage is chosen once, by ``backend``: ``"torch"`` (:class:`DeviceCSR`, torch sparse CSR) by default on
    CUDA, ``"scipy"`` (:class:`HostCSR`) by default on the CPU, where torch's CSR product is an order of
    magnitude slower; ``backend="torch"`` forces torch (tests use it on CPU). ``matvec64`` uses float64 values
    kept beside float32 ones, for true residuals.
    """

    def __init__(
        self,
        matrix: sp.spmatrix | torch.Tensor,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float64,
        backend: str | None = None,
    ) -> None:
        self.device, self.dtype = torch.device(device), dtype
        self.backend = storage_name(self.device, backend)
        self.storage = STORAGES[self.backend](matrix, self.device, dtype)
        self.shape = tuple(self.storage.matrix.shape)
        self.ell: tuple[torch.Tensor, torch.Tensor] | None = None

    def matvec(self, x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        if self.ell is not None and x.dim() == 1 and kernels.usable(x):
            y = x.new_empty(self.shape[0]) if out is None else out
            kernels.ell_matvec(*self.ell, x, y)
            return y
        return self.storage.matvec(x, out)

    def matvec64(self, x: torch.Tensor) -> torch.Tensor:
        return self.storage.matvec64(x.to(torch.float64))

    def diagonal(self) -> torch.Tensor:
        return self.storage.diagonal()

    def csr64(self) -> torch.Tensor:
        """The float64 matrix as a CSR tensor on the operator's device (the stored one when torch holds it)."""
        return self.storage.csr64()

    # --- building hierarchies (always from the float64 values) -----------------------------
    def _like(self, matrix: sp.spmatrix | torch.Tensor) -> SparseOperator:
        return SparseOperator(matrix, self.device, self.dtype, self.backend)

    def transpose(self) -> SparseOperator:
        return self._like(self.storage.transpose64())

    def __matmul__(self, other: SparseOperator) -> SparseOperator:
        """The sparse product ``self @ other`` (float64 values)."""
        try:
            return self._like(self.storage.matrix64 @ other.storage.matrix64)
        except RuntimeError:  # a device without sparse-sparse products: form it with scipy
            return self._like(csr_tensor(self.to_scipy() @ other.to_scipy(), self.device, torch.float64))

    def to_dense(self) -> torch.Tensor:
        return self.storage.to_dense()

    def to_scipy(self) -> sp.csr_matrix:
        return _to_scipy(self.storage.matrix64)

    def compact(self) -> SparseOperator:
        """The same operator in its most compact device form (see :meth:`DeviceCSR.compact`; scipy: unchanged)."""
        self.ell = self.storage.compact()
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
        return like._like(like.storage.from_coo(rows, cols, values, shape))


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
