"""Multigrid V-cycle preconditioner, and its geometric hierarchy on (masked) tensor-product grids.

The cycle (Briggs, Henson & McCormick, *A Multigrid Tutorial*, ch. 3): smooth from zero, restrict
the residual with ``R = Pᵀ``, recurse, add ``P`` times the coarse correction, smooth again with the
same smoother, and solve the coarsest level with a precomputed dense inverse (a single matrix
product, fit for CUDA graphs). With Galerkin coarse operators ``Aᶜ = Pᵀ A P`` and a symmetric
smoother the cycle is a symmetric positive definite preconditioner for plain CG.

The geometric hierarchy coarsens the node grid by two per axis (coarse node ``I`` on fine node
``2I``) with linear/bilinear/trilinear interpolation, restricted to the unknown nodes of a mask, so
variable coefficients, L-shapes and periodic axes all get their operators from ``Pᵀ A P``. It is
built with sparse products on the operator's device.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import scipy.linalg
import torch

from pdesolve.errors import NotApplicableError
from pdesolve.linalg.smoothers import make_smoother
from pdesolve.linalg.system import LinearOperator, SparseOperator


class Transfer(Protocol):
    def restrict(self, fine: torch.Tensor) -> torch.Tensor: ...

    def prolong_add(self, coarse: torch.Tensor, fine: torch.Tensor) -> torch.Tensor: ...


class MatrixTransfer:
    """A stored prolongation ``P`` and its transpose as a :class:`Transfer`."""

    def __init__(self, prolongation: SparseOperator) -> None:
        self.prolongation, self.restriction = prolongation, prolongation.transpose().compact()

    def restrict(self, fine: torch.Tensor) -> torch.Tensor:
        return self.restriction.matvec(fine)

    def prolong_add(self, coarse: torch.Tensor, fine: torch.Tensor) -> torch.Tensor:
        return fine.add_(self.prolongation.matvec(coarse))


@dataclass
class Level:
    """One level above the coarsest: its operator, smoother and transfers to the next coarser level."""

    operator: LinearOperator
    smoother: Any
    transfer: Transfer


def coarse_inverse(matrix: Any, dtype: torch.dtype) -> torch.Tensor:
    """The dense inverse of the (small, SPD) coarsest matrix, by Cholesky on the host in float64."""
    dense = (matrix.to_scipy() if isinstance(matrix, SparseOperator) else matrix.to_csr()).toarray()
    try:
        factor = scipy.linalg.cho_factor((dense + dense.T) / 2)
    except np.linalg.LinAlgError:
        raise NotApplicableError(
            "the coarsest multigrid matrix is not positive definite: the matrix is not SPD"
        ) from None
    inverse = scipy.linalg.cho_solve(factor, np.identity(dense.shape[0]))
    return torch.as_tensor(inverse, dtype=dtype).to(matrix.device)


class Multigrid:
    """The V-cycle ``z = V(r)`` as a CG preconditioner (``apply``).

    ``prolongations`` are stored matrices (restriction by their transpose) or :class:`Transfer` objects;
    ``coarse`` is the coarsest operator (a stored matrix or anything with ``to_csr``).
    """

    capturable = True

    def __init__(
        self,
        operators: Sequence[LinearOperator],
        prolongations: Sequence[SparseOperator | Transfer],
        coarse: Any,
        smoother: str = "chebyshev",
        steps: int = 2,
    ) -> None:
        self.levels = [
            Level(
                operator,
                make_smoother(smoother, operator, steps),
                MatrixTransfer(prolongation) if isinstance(prolongation, SparseOperator) else prolongation,
            )
            for operator, prolongation in zip(operators, prolongations)
        ]
        self.coarse = coarse_inverse(coarse, coarse.dtype)
        self.sizes = [operator.shape[0] for operator in operators] + [coarse.shape[0]]

    def _cycle(self, index: int, b: torch.Tensor) -> torch.Tensor:
        if index == len(self.levels):
            return self.coarse @ b
        level = self.levels[index]
        x = level.smoother.smooth(b)
        residual = level.operator.matvec(x)
        torch.sub(b, residual, out=residual)
        level.transfer.prolong_add(self._cycle(index + 1, level.transfer.restrict(residual)), x)
        return level.smoother.smooth(b, x)

    def apply(self, r: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        z = self._cycle(0, r)
        return z if out is None else out.copy_(z)

    def describe(self) -> dict[str, Any]:
        return {"levels": len(self.sizes), "level_sizes": self.sizes}


# --- the geometric hierarchy ---------------------------------------------------------------
def _interpolation_1d(n: int, periodic: bool, device: torch.device) -> tuple[torch.Tensor, ...]:
    """COO of 1D linear interpolation from ``coarse`` nodes (fine ``2I``) to ``n`` fine nodes."""
    coarse = n // 2 if periodic else (n + 1) // 2
    fine = torch.arange(n, device=device)
    left = fine // 2
    odd = fine % 2 == 1
    right = left + 1
    if periodic:
        right = right % coarse
    keep_right = odd & (right < coarse)
    rows = torch.cat([fine, fine[keep_right]])
    cols = torch.cat([left, right[keep_right]])
    values = torch.cat([torch.where(odd, 0.5, 1.0), torch.full((int(keep_right.sum()),), 0.5, device=device)])
    values = values.to(torch.float64)
    order = torch.argsort(rows * coarse + cols)
    return rows[order], cols[order], values[order], coarse


def _kron(factors: Sequence[tuple[torch.Tensor, ...]], shape: Sequence[int]) -> tuple[torch.Tensor, ...]:
    """COO of the Kronecker product of 1D interpolations (C order, rows sorted)."""
    rows, cols, values, coarse = factors[0]
    coarse_shape = [coarse]
    for (r, c, v, m), n in zip(factors[1:], shape[1:]):
        rows = (rows[:, None] * n + r[None, :]).reshape(-1)
        cols = (cols[:, None] * m + c[None, :]).reshape(-1)
        values = (values[:, None] * v[None, :]).reshape(-1)
        coarse_shape.append(m)
    return rows, cols, values, tuple(coarse_shape)


def coarsenable(shape: Sequence[int], periodic: Sequence[bool]) -> bool:
    return all((n % 2 == 0 and n >= 4) if p else n >= 5 for n, p in zip(shape, periodic))


def grid_prolongation(
    shape: Sequence[int], mask: torch.Tensor, periodic: Sequence[bool], like: SparseOperator
) -> tuple[SparseOperator, tuple[int, ...], torch.Tensor]:
    """``P`` from the coarse unknowns to the fine unknowns ``mask`` of a node grid ``shape``.

    Coarse unknowns are the coarse nodes whose fine node is an unknown. Returns
    ``(P, coarse shape, coarse mask)``.
    """
    device = mask.device
    factors = [_interpolation_1d(n, p, device) for n, p in zip(shape, periodic)]
    rows, cols, values, coarse_shape = _kron(factors, shape)
    fine_mask = mask.reshape(-1)
    coarse_index = [torch.arange(m, device=device) * 2 for m in coarse_shape]
    coarse_mask = mask[torch.meshgrid(*coarse_index, indexing="ij")]
    flat_coarse = coarse_mask.reshape(-1)
    keep = fine_mask[rows] & flat_coarse[cols]
    fine_number = torch.cumsum(fine_mask, 0) - 1
    coarse_number = torch.cumsum(flat_coarse, 0) - 1
    size = (int(fine_mask.sum()), int(flat_coarse.sum()))
    prolongation = SparseOperator.from_coo(fine_number[rows[keep]], coarse_number[cols[keep]], values[keep], size, like)
    return prolongation, coarse_shape, coarse_mask


def geometric_multigrid(
    operator: LinearOperator,
    matrix: SparseOperator,
    shape: Sequence[int],
    mask: np.ndarray | None = None,
    periodic: Sequence[bool] | None = None,
    smoother: str = "chebyshev",
    steps: int = 2,
    coarse_size: int = 256,
) -> Multigrid:
    """Geometric multigrid for ``matrix`` on the unknowns ``mask`` of the node grid ``shape``.

    ``operator`` is the fine-level operator the smoother uses (the matrix itself or a matrix-free
    stencil of it); Galerkin products of ``matrix`` give every coarser level.
    """
    periodic = tuple(periodic) if periodic else (False,) * len(shape)
    device = matrix.device
    mask_t = (
        torch.ones(tuple(shape), dtype=torch.bool, device=device)
        if mask is None
        else torch.as_tensor(np.asarray(mask), device=device)
    )
    if int(mask_t.sum()) != matrix.shape[0]:
        raise ValueError(f"the mask has {int(mask_t.sum())} unknowns, the matrix {matrix.shape[0]} rows")
    operators: list[LinearOperator] = []
    prolongations: list[SparseOperator] = []
    current, shape = matrix, tuple(shape)
    while current.shape[0] > coarse_size and coarsenable(shape, periodic):
        prolongation, shape, mask_t = grid_prolongation(shape, mask_t, periodic, current)
        if prolongation.shape[1] == 0:
            break
        operators.append(operator if not operators else current.compact())
        prolongations.append(prolongation.compact())
        current = prolongation.transpose() @ (current @ prolongation)
    if current.shape[0] > 8 * coarse_size:
        raise NotApplicableError(
            f"geometric multigrid cannot coarsen a grid of shape {shape} below {current.shape[0]} unknowns; "
            "use precond=amg"
        )
    return Multigrid(operators, prolongations, current, smoother, steps)
