"""Compact stencils on a box of unknowns: every node coupled to its ``3^d - 1`` nearest neighbours.

``(A x)_i = Σ_δ C[δ, i] x_{i+δ}`` over ``δ ∈ {-1, 0, 1}^d`` with zero (Dirichlet) values outside the
box. This is the operator class that Galerkin coarsening ``Pᵀ A P`` of 5-/7-point stencils with
tensor-product-support interpolation produces (9-point in 2D, 27-point in 3D; Dendy 1982, "Black box
multigrid"), so a whole geometric hierarchy stays in stencil form: no sparse matrices, no SpGEMM.
Offsets are numbered in C order, ``t = Σ_k (δ_k + 1) 3^{d-1-k}``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import torch

from pdesolve.errors import NotApplicableError
from pdesolve.linalg import kernels
from pdesolve.linalg.stencil import StencilOperator

Offset = tuple[int, ...]


def offsets(dim: int) -> list[Offset]:
    """All ``δ ∈ {-1, 0, 1}^dim`` in C order (the centre is number ``(3^dim - 1) / 2``)."""
    return list(itertools.product((-1, 0, 1), repeat=dim))


def offset_index(delta: Sequence[int]) -> int:
    index = 0
    for d in delta:
        index = 3 * index + d + 1
    return index


def shifted(delta: Offset, shape: Sequence[int]) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
    """Slices ``(here, there)`` of the nodes ``i`` whose neighbour ``i + δ`` is in the box, and of those neighbours."""
    here = tuple(slice(max(0, -d), n - max(0, d)) for d, n in zip(delta, shape))
    there = tuple(slice(max(0, d), n - max(0, -d)) for d, n in zip(delta, shape))
    return here, there


class BoxStencil:
    """The compact stencil operator with coefficients ``C`` of shape ``(3^d, *shape)`` (float64 kept for residuals)."""

    def __init__(self, coefficients: torch.Tensor, dtype: torch.dtype | None = None) -> None:
        self.coefficients64 = coefficients.to(torch.float64).contiguous()
        self.grid_shape = tuple(coefficients.shape[1:])
        self.dim = len(self.grid_shape)
        if coefficients.shape[0] != 3**self.dim:
            raise ValueError(
                f"{coefficients.shape[0]} coefficients per node; a {self.dim}D box stencil has {3**self.dim}"
            )
        self.dtype = dtype or coefficients.dtype
        self.device = coefficients.device
        self.coefficients = self.coefficients64.to(self.dtype)
        size = int(np.prod(self.grid_shape))
        self.shape = (size, size)
        self.center = (3**self.dim - 1) // 2

    @classmethod
    def from_star(cls, star: StencilOperator) -> BoxStencil:
        """The compact form of a non-periodic :class:`~pdesolve.linalg.stencil.StencilOperator`."""
        if any(star.periodic):
            raise NotApplicableError("box stencils have Dirichlet sides; this stencil has periodic axes")
        shape, dim = star.grid_shape, len(star.grid_shape)
        diagonal, couplings = star._coefficients_in(torch.float64)
        C = torch.zeros((3**dim, *shape), dtype=torch.float64, device=star.device)
        C[(3**dim - 1) // 2] = diagonal
        for k, c in enumerate(couplings):
            step = tuple(1 if j == k else 0 for j in range(dim))
            here, there = shifted(step, shape)
            field = c if isinstance(c, float) else c[here]
            C[offset_index(step)][here] = field
            C[offset_index(tuple(-s for s in step))][there] = field
        return cls(C, star.dtype)

    @classmethod
    def from_csr(
        cls, crow: torch.Tensor, col: torch.Tensor, values: torch.Tensor, shape: Sequence[int], dtype: torch.dtype
    ) -> BoxStencil:
        """The stencil of a CSR matrix (float64 ``values``, on their device) on the box ``shape``, C order.

        Refuses a matrix that couples nodes which are not box neighbours (``|i_k - j_k| > 1``).
        """
        shape = tuple(int(n) for n in shape)
        dim, size, device = len(shape), int(np.prod(shape)), values.device
        rows = torch.repeat_interleave(torch.arange(size, device=device), crow.diff())
        number = torch.zeros_like(rows)
        near = torch.ones_like(rows, dtype=torch.bool)
        here, there = rows, col.to(rows.dtype)
        for k in reversed(range(dim)):
            step = there % shape[k] - here % shape[k]
            near &= step.abs() <= 1
            number += (step + 1) * 3 ** (dim - 1 - k)
            here, there = here // shape[k], there // shape[k]
        if not bool(near.all()):
            raise NotApplicableError("the matrix couples nodes that are not grid neighbours: it is not a box stencil")
        C = torch.zeros((3**dim, size), dtype=torch.float64, device=device)
        C.index_put_((number, rows), values.to(torch.float64), accumulate=True)
        return cls(C.view(3**dim, *shape), dtype)

    def _apply(self, C: torch.Tensor, x: torch.Tensor, out: torch.Tensor | None) -> torch.Tensor:
        y = torch.empty_like(x) if out is None else out
        batch = x.shape[1:]
        if not batch and self.dim in (2, 3) and kernels.usable(x, y, C):
            kernels.box_stencil(x, y, self.grid_shape, C)
            return y
        X = x.view(*self.grid_shape, *batch)
        Y = y.view(*self.grid_shape, *batch)
        expand = (1,) * len(batch)
        torch.mul(X, C[self.center].view(*self.grid_shape, *expand), out=Y)
        for t, delta in enumerate(offsets(self.dim)):
            if t != self.center:
                here, there = shifted(delta, self.grid_shape)
                Y[here].addcmul_(C[t].view(*self.grid_shape, *expand)[here], X[there])
        return y

    def matvec(self, x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        return self._apply(self.coefficients, x, out)

    def matvec64(self, x: torch.Tensor) -> torch.Tensor:
        return self._apply(self.coefficients64, x.to(torch.float64), None)

    def diagonal(self) -> torch.Tensor:
        return self.coefficients[self.center].reshape(-1).clone()

    def to_csr(self) -> sp.csr_matrix:
        """The same operator as a scipy CSR matrix (float64)."""
        C = self.coefficients64.cpu().numpy()
        index = np.arange(self.shape[0]).reshape(self.grid_shape)
        rows, cols, values = [], [], []
        for t, delta in enumerate(offsets(self.dim)):
            here, there = shifted(delta, self.grid_shape)
            rows.append(index[here].ravel())
            cols.append(index[there].ravel())
            values.append(C[t][here].ravel())
        matrix = sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), self.shape)
        matrix.eliminate_zeros()
        return matrix

    def symmetrized(self) -> BoxStencil:
        """``(A + Aᵀ) / 2``: ``C[δ, i]`` averaged with ``C[-δ, i + δ]`` (removes rounding asymmetry)."""
        C = self.coefficients64
        S = C.clone()
        for t, delta in enumerate(offsets(self.dim)):
            here, there = shifted(delta, self.grid_shape)
            mirror = offset_index(tuple(-d for d in delta))
            S[t][here] = 0.5 * (C[t][here] + C[mirror][there])
        return BoxStencil(S, self.dtype)
