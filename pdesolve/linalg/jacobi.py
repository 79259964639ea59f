"""The Jacobi (diagonal) preconditioner ``M⁻¹ r = D⁻¹ r``, with the inverse diagonal precomputed."""

from __future__ import annotations

import torch

from pdesolve.errors import NotApplicableError
from pdesolve.linalg.system import LinearOperator


def inverse_diagonal(operator: LinearOperator) -> torch.Tensor:
    """``1 / diag(A)``; refuses a diagonal with non-positive entries (not SPD)."""
    diagonal = operator.diagonal()
    if not bool((diagonal > 0).all()):
        raise NotApplicableError("the matrix has non-positive diagonal entries: it is not SPD")
    return 1.0 / diagonal


def columns(vector: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``vector`` (n,) viewed so that it scales every column of ``like`` (n,) or (n, k)."""
    return vector if like.dim() == 1 else vector[:, None]


class Jacobi:
    """``z = D⁻¹ r`` in one fused multiply (``uniform``: a constant diagonal, which CG's kernels exploit)."""

    capturable = True

    def __init__(self, operator: LinearOperator) -> None:
        self.inverse = inverse_diagonal(operator)
        self.uniform = bool((self.inverse == self.inverse[0]).all())

    def apply(self, r: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        return torch.mul(r, columns(self.inverse, r), out=out) if out is not None else r * columns(self.inverse, r)
