"""Affine maps ``u -> A u + b``: the values a grid field takes while a linear residual is assembled.

Evaluating a residual ``R`` once on the affine field ``u = I u + 0`` gives ``R(u) = A u + b``,
so the linear system ``A u = -b`` comes out of the same definition that every other solver reads
(the design's ``A = R(I) - R(0)``, in one pass).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from pdesolve.errors import NotLinearError


class AffineMap:
    """``A @ u + b`` with ``A`` sparse of shape (rows, unknowns) and ``b`` of shape (rows,)."""

    __array_ufunc__ = None  # let numpy defer to our reflected operators

    def __init__(self, matrix: sp.spmatrix, offset: np.ndarray) -> None:
        self.matrix = sp.csr_matrix(matrix)
        self.offset = np.asarray(offset, dtype=float).ravel()

    @classmethod
    def identity(cls, n: int) -> AffineMap:
        return cls(sp.identity(n, format="csr"), np.zeros(n))

    @property
    def rows(self) -> int:
        return self.matrix.shape[0]

    def _vector(self, other: Any) -> np.ndarray:
        vec = (
            np.broadcast_to(np.asarray(other, dtype=float), (self.rows,))
            if np.ndim(other) == 0
            else np.asarray(other, dtype=float).ravel()
        )
        if vec.shape != (self.rows,):
            raise ValueError(f"cannot combine {vec.shape[0]} values with an affine map of {self.rows} rows")
        return vec

    def left_multiply(self, operator: sp.spmatrix) -> AffineMap:
        """Apply a linear grid operator: ``D (A u + b)``."""
        return AffineMap(operator @ self.matrix, operator @ self.offset)

    def __add__(self, other: Any) -> AffineMap:
        if isinstance(other, AffineMap):
            return AffineMap(self.matrix + other.matrix, self.offset + other.offset)
        return AffineMap(self.matrix, self.offset + self._vector(other))

    __radd__ = __add__

    def __neg__(self) -> AffineMap:
        return AffineMap(-self.matrix, -self.offset)

    def __sub__(self, other: Any) -> AffineMap:
        return self + (-other)

    def __rsub__(self, other: Any) -> AffineMap:
        return (-self) + other

    def __mul__(self, other: Any) -> AffineMap:
        if isinstance(other, AffineMap):
            raise NotLinearError("the residual multiplies the unknown by itself: it is not linear")
        scale = self._vector(other)
        return AffineMap(sp.diags(scale) @ self.matrix, scale * self.offset)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> AffineMap:
        if isinstance(other, AffineMap):
            raise NotLinearError("the residual divides by the unknown: it is not linear")
        return self * (1.0 / self._vector(other))

    def __rtruediv__(self, other: Any) -> AffineMap:
        raise NotLinearError("the residual divides by the unknown: it is not linear")

    def __pow__(self, exponent: Any) -> AffineMap:
        if exponent == 1:
            return self
        raise NotLinearError(f"the residual raises the unknown to the power {exponent}: it is not linear")
