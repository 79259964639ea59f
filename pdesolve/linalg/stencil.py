"""Matrix-free nearest-neighbour stencils on a box of unknowns (5-point in 2D, 7-point in 3D).

``(A x)_i = d_i x_i + Σ_k [c_k(i) x_{i+e_k} + c_k(i-e_k) x_{i-e_k}]``: a symmetric operator given by
its diagonal ``d`` and, per axis, the coupling ``c_k(i)`` of node ``i`` with ``i + e_k`` (the face
``i + ½ e_k``). For ``-∇·(a∇u)`` on a uniform grid, ``c_k = -a_{i+½} / h_k²`` and ``d`` is minus the sum
of the couplings of the node's faces — the conservative 5-/7-point scheme. Constant coefficients are
kept as scalars, so a Poisson product streams only ``x`` and ``y``. Periodic axes wrap around.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import torch

from pdesolve.errors import NotApplicableError
from pdesolve.linalg import kernels

Coefficient = float | np.ndarray


def _constant_or_array(values: np.ndarray) -> Coefficient:
    """A scalar when ``values`` is constant to rounding, else the array itself."""
    values = np.asarray(values, dtype=np.float64)
    if values.size and np.ptp(values) <= 1e-14 * np.abs(values).max():
        return float(values.flat[0])
    return values


class StencilOperator:
    """The symmetric stencil operator on unknowns of grid ``shape`` (C order), on a torch device."""

    def __init__(
        self,
        shape: Sequence[int],
        diagonal: Coefficient,
        couplings: Sequence[Coefficient],
        periodic: Sequence[bool] | None = None,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float64,
    ) -> None:
        self.grid_shape = tuple(int(n) for n in shape)
        self.periodic = tuple(periodic) if periodic else (False,) * len(self.grid_shape)
        size = int(np.prod(self.grid_shape))
        self.shape = (size, size)
        self.device, self.dtype = torch.device(device), dtype
        self._source = (diagonal, list(couplings))
        for axis, (coupling, periodic_axis) in enumerate(zip(couplings, self.periodic)):
            if not periodic_axis and not np.isscalar(coupling):
                last = np.take(coupling, [-1], axis=axis)
                if np.any(last != 0):
                    raise ValueError(f"couplings along axis {axis} past the last node must be zero (not periodic)")
        self._coefficients = {dtype: self._on_device(dtype)}

    # --- construction ---------------------------------------------------------------------
    @classmethod
    def from_faces(
        cls,
        faces: Sequence[Coefficient],
        spacing: Sequence[float],
        shape: Sequence[int],
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float64,
    ) -> StencilOperator:
        """``-∇·(a∇u)`` on the interior nodes ``shape`` of a Dirichlet box.

        ``faces[k]`` holds ``a`` on the faces normal to axis ``k``: a scalar, or an array with
        ``shape[k] + 1`` entries along axis ``k`` (the first and last faces touch the boundary).
        """
        dim = len(shape)
        diagonal: Coefficient = 0.0
        couplings = []
        for k, (a, h) in enumerate(zip(faces, spacing)):
            if np.isscalar(a):
                a = np.full([n + 1 if j == k else n for j, n in enumerate(shape)], float(a))
            a = np.asarray(a, dtype=np.float64) / h**2
            n = shape[k]
            lower, upper = np.take(a, range(n), axis=k), np.take(a, range(1, n + 1), axis=k)
            diagonal = diagonal + lower + upper
            coupling = -upper.copy()
            index = [slice(None)] * dim
            index[k] = -1
            coupling[tuple(index)] = 0.0
            couplings.append(_constant_or_interior(coupling, k))
        return cls(shape, _constant_or_array(diagonal), couplings, None, device, dtype)

    @classmethod
    def from_matrix(
        cls,
        matrix: sp.spmatrix,
        shape: Sequence[int],
        periodic: Sequence[bool] | None = None,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float64,
    ) -> StencilOperator:
        """Read the stencil off an assembled symmetric matrix on the box ``shape``; refuse anything else."""
        shape = tuple(shape)
        periodic = tuple(periodic) if periodic else (False,) * len(shape)
        coo = sp.coo_matrix(matrix)
        coo.sum_duplicates()
        if coo.shape != (int(np.prod(shape)),) * 2:
            raise NotApplicableError(f"a {coo.shape} matrix is not an operator on a {shape} grid")
        rows = np.unravel_index(coo.row, shape)
        cols = np.unravel_index(coo.col, shape)
        steps = [c - r for r, c in zip(rows, cols)]
        moved = sum((s != 0).astype(int) for s in steps)
        diagonal = np.zeros(shape)
        on_diagonal = moved == 0
        diagonal[tuple(r[on_diagonal] for r in rows)] = coo.data[on_diagonal]
        used = on_diagonal.copy()
        couplings = []
        for k, n in enumerate(shape):
            wrap = periodic[k] and n > 2
            forward = (moved == 1) & ((steps[k] == 1) | (wrap & (steps[k] == 1 - n)))
            backward = (moved == 1) & ((steps[k] == -1) | (wrap & (steps[k] == n - 1)))
            coupling = np.zeros(shape)
            coupling[tuple(r[forward] for r in rows)] = coo.data[forward]
            mirror = coupling[tuple(c[backward] for c in cols)]
            if not np.allclose(mirror, coo.data[backward], rtol=1e-12, atol=0):
                raise NotApplicableError("the matrix is not symmetric: no symmetric stencil represents it")
            used |= forward | backward
            couplings.append(_constant_or_interior(coupling, k) if not periodic[k] else _constant_or_array(coupling))
        if not used.all():
            raise NotApplicableError(
                "the matrix couples nodes that are not grid neighbours: it is not a 5-/7-point stencil"
            )
        return cls(shape, _constant_or_array(diagonal), couplings, periodic, device, dtype)

    def to_csr(self) -> sp.csr_matrix:
        """The same operator as a scipy CSR matrix (float64)."""
        shape, size = self.grid_shape, self.shape[0]
        index = np.arange(size).reshape(shape)
        diagonal, couplings = self._source
        rows, cols, values = [index.ravel()], [index.ravel()], [np.broadcast_to(diagonal, shape).ravel()]
        for k, coupling in enumerate(couplings):
            c = np.broadcast_to(coupling, shape)
            n = shape[k]
            stop = n if self.periodic[k] else n - 1
            here = np.take(index, range(stop), axis=k)
            there = np.roll(index, -1, axis=k).take(range(stop), axis=k)
            value = np.take(c, range(stop), axis=k)
            rows += [here.ravel(), there.ravel()]
            cols += [there.ravel(), here.ravel()]
            values += [value.ravel(), value.ravel()]
        matrix = sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), (size, size))
        matrix.eliminate_zeros()
        return matrix

    # --- products -------------------------------------------------------------------------
    def _on_device(self, dtype: torch.dtype) -> tuple:
        def convert(c: Coefficient) -> float | torch.Tensor:
            return c if np.isscalar(c) else torch.as_tensor(c, dtype=dtype).to(self.device)

        diagonal, couplings = self._source
        return convert(diagonal), [convert(c) for c in couplings]

    def _coefficients_in(self, dtype: torch.dtype) -> tuple:
        if dtype not in self._coefficients:
            self._coefficients[dtype] = self._on_device(dtype)
        return self._coefficients[dtype]

    def _kernel_form(self, dtype: torch.dtype) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Coefficients as contiguous device tensors (scalars as one-element tensors) for the triton kernel."""
        key = ("kernel", dtype)
        if key not in self._coefficients:
            diagonal, couplings = self._coefficients_in(dtype)

            def tensor(c: float | torch.Tensor) -> torch.Tensor:
                return torch.tensor([c], dtype=dtype, device=self.device) if isinstance(c, float) else c.contiguous()

            self._coefficients[key] = (tensor(diagonal), [tensor(c) for c in couplings])
        return self._coefficients[key]

    def _apply(self, x: torch.Tensor, out: torch.Tensor | None) -> torch.Tensor:
        batch = x.shape[1:]
        grid = self.grid_shape
        y = torch.empty_like(x) if out is None else out
        if not batch and len(grid) in (2, 3) and not any(self.periodic) and kernels.usable(x, y):
            diagonal, couplings = self._kernel_form(x.dtype)
            kernels.star_stencil(x, y, grid, diagonal, couplings)
            return y
        diagonal, couplings = self._coefficients_in(x.dtype)
        X = x.view(*grid, *batch)
        Y = y.view(*grid, *batch)

        def field(c: torch.Tensor) -> torch.Tensor:  # coefficients broadcast over the batch columns
            return c.view(*grid, *(1,) * len(batch))

        if isinstance(diagonal, float):
            torch.mul(X, diagonal, out=Y)
        else:
            torch.mul(X, field(diagonal), out=Y)
        for k, c in enumerate(couplings):
            n = grid[k]
            lower_y, upper_y = Y.narrow(k, 0, n - 1), Y.narrow(k, 1, n - 1)
            lower_x, upper_x = X.narrow(k, 0, n - 1), X.narrow(k, 1, n - 1)
            if isinstance(c, float):
                lower_y.add_(upper_x, alpha=c)
                upper_y.add_(lower_x, alpha=c)
                if self.periodic[k]:
                    Y.select(k, n - 1).add_(X.select(k, 0), alpha=c)
                    Y.select(k, 0).add_(X.select(k, n - 1), alpha=c)
                continue
            cf = field(c)
            inner = cf.narrow(k, 0, n - 1)
            lower_y.addcmul_(inner, upper_x)
            upper_y.addcmul_(inner, lower_x)
            if self.periodic[k]:
                wrap = cf.select(k, n - 1)
                Y.select(k, n - 1).addcmul_(wrap, X.select(k, 0))
                Y.select(k, 0).addcmul_(wrap, X.select(k, n - 1))
        return Y.view(x.shape)

    def matvec(self, x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        return self._apply(x, out)

    def matvec64(self, x: torch.Tensor) -> torch.Tensor:
        return self._apply(x.to(torch.float64), None)

    def diagonal(self) -> torch.Tensor:
        diagonal = self._coefficients_in(self.dtype)[0]
        if isinstance(diagonal, float):
            return torch.full((self.shape[0],), diagonal, dtype=self.dtype, device=self.device)
        return diagonal.reshape(-1).clone()


def _constant_or_interior(coupling: np.ndarray, axis: int) -> Coefficient:
    """A scalar when the couplings inside the box (all but the last slice along ``axis``) are constant."""
    n = coupling.shape[axis]
    inner = np.take(coupling, range(n - 1), axis=axis)
    if inner.size and np.ptp(inner) <= 1e-14 * np.abs(inner).max():
        return float(inner.flat[0])
    return coupling
