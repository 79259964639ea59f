"""The field abstraction: the unknown as a residual sees it.

A problem's equation is written once with the operators of :mod:`pdesolve.problem.operators`.
They dispatch on the kind of field they receive: a network field differentiates by automatic
differentiation, a grid field by stencils or FFTs, and each kind implements the three hooks
below. Arithmetic is shared: it acts on the values and keeps the kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class Field:
    """Values of one unknown plus what is needed to differentiate them."""

    __array_ufunc__ = None  # numpy defers `array * field` to Field.__rmul__

    values: Any

    def with_values(self, values: Any) -> Field:
        """A field of the same kind and location holding other values."""
        raise NotImplementedError

    def derivative(self, axis: str, order: int = 1) -> Field:
        raise NotImplementedError

    def gradient(self) -> VectorField:
        raise NotImplementedError

    def map(self, function: Callable[[Any], Any]) -> Field:
        return self.with_values(function(self.values))

    # --- arithmetic on values -------------------------------------------------------------
    def _binary(self, other: Any, op: Callable[[Any, Any], Any]) -> Field:
        """``op(self, other)`` on values; subclasses align locations (e.g. staggered grids)."""
        return self.with_values(op(self.values, other.values if isinstance(other, Field) else other))

    def _reflected(self, other: Any, op: Callable[[Any, Any], Any]) -> Field:
        return self._binary(other, lambda a, b: op(b, a))

    def __add__(self, other: Any) -> Field:
        return self._binary(other, lambda a, b: a + b)

    def __radd__(self, other: Any) -> Field:
        return self._reflected(other, lambda a, b: a + b)

    def __sub__(self, other: Any) -> Field:
        return self._binary(other, lambda a, b: a - b)

    def __rsub__(self, other: Any) -> Field:
        return self._reflected(other, lambda a, b: a - b)

    def __mul__(self, other: Any) -> Field:
        if isinstance(other, VectorField):
            return other * self
        return self._binary(other, lambda a, b: a * b)

    def __rmul__(self, other: Any) -> Field:
        return self._reflected(other, lambda a, b: a * b)

    def __truediv__(self, other: Any) -> Field:
        return self._binary(other, lambda a, b: a / b)

    def __rtruediv__(self, other: Any) -> Field:
        return self._reflected(other, lambda a, b: a / b)

    def __pow__(self, exponent: Any) -> Field:
        values = self.values
        if isinstance(values, np.ndarray) and isinstance(exponent, int) and 2 <= exponent <= 4:
            power = values  # products: numpy's pow() of negative bases is ~100x slower (u**3 of Allen–Cahn)
            for _ in range(exponent - 1):
                power = power * values
            return self.with_values(power)
        return self.with_values(values**exponent)

    def __neg__(self) -> Field:
        return self.with_values(-self.values)

    def __pos__(self) -> Field:
        return self


class VectorField:
    """A vector of fields, such as ``grad(u)``; ``div`` turns it back into a field."""

    __array_ufunc__ = None

    def __init__(self, components: Sequence[Any]) -> None:
        self.components = list(components)

    def __len__(self) -> int:
        return len(self.components)

    def __getitem__(self, index: int) -> Any:
        return self.components[index]

    def _zip(self, other: Any, op: Callable[[Any, Any], Any]) -> VectorField:
        if isinstance(other, (tuple, list)):  # a constant vector such as a body force (0.0, -1.0)
            other = VectorField(other)
        if isinstance(other, VectorField):
            if len(other) != len(self):
                raise ValueError(f"vector sizes differ: {len(self)} and {len(other)}")
            return VectorField([op(a, b) for a, b in zip(self.components, other.components)])
        return VectorField([op(a, other) for a in self.components])

    def __add__(self, other: Any) -> VectorField:
        return self._zip(other, lambda a, b: a + b)

    __radd__ = __add__

    def __sub__(self, other: Any) -> VectorField:
        return self._zip(other, lambda a, b: a - b)

    def __rsub__(self, other: Any) -> VectorField:
        return self._zip(other, lambda a, b: b - a)

    def __mul__(self, other: Any) -> VectorField:
        return self._zip(other, lambda a, b: a * b)

    def __rmul__(self, other: Any) -> VectorField:
        return self._zip(other, lambda a, b: b * a)

    def __truediv__(self, other: Any) -> VectorField:
        return self._zip(other, lambda a, b: a / b)

    def __neg__(self) -> VectorField:
        return VectorField([-a for a in self.components])

    def divergence(self) -> Any:
        """``∇·v`` of a vector; of a matrix (a vector of rows, such as ``grad(w)``) the vector of row divergences."""
        first = self.components[0]
        if isinstance(first, VectorField):
            return VectorField([row.divergence() for row in self.components])
        if not hasattr(first, "divergence_of"):
            raise TypeError("div() needs a vector of fields")
        return first.divergence_of(self)

    def gradient(self) -> VectorField:
        """``∇w`` as the matrix of rows ``∇w_i`` (entry ``[i][j]`` is ``∂w_i/∂x_j``)."""
        return VectorField([component.gradient() for component in self.components])

    def laplacian(self) -> VectorField:
        from pdesolve.problem.operators import laplacian

        return VectorField([laplacian(component) for component in self.components])

    def transpose(self) -> VectorField:
        """The transposed matrix of a vector of rows."""
        return VectorField([VectorField(list(column)) for column in zip(*(row.components for row in self.components))])

    def dot(self, other: VectorField) -> Any:
        total = self.components[0] * other.components[0]
        for a, b in zip(self.components[1:], other.components[1:]):
            total = total + a * b
        return total
