"""Fields sampled on a :class:`~pdesolve.problem.grid.Grid`.

Values are numpy arrays or torch tensors of shape ``(*batch, *grid.shape)``, or an
:class:`~pdesolve.problem.affine.AffineMap` while a linear residual is assembled. Derivatives come from the
grid's calculus (:mod:`pdesolve.problem.grid_calculus`): sparse stencils on finite-difference grids, FFTs on
spectral ones. ``grad`` on a finite-difference
grid lives on faces (``stagger``); multiplying by a coefficient array averages it to the faces, and
combining with a node-located field brings the faces back to the nodes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.fft
import scipy.sparse as sp

from pdesolve.errors import NotLinearError
from pdesolve.problem.affine import AffineMap
from pdesolve.problem.field import Field, VectorField
from pdesolve.problem.grid import Grid
from pdesolve.problem.tensors import tensor_library


def _torch_operator(matrix: sp.csr_matrix, like: Any) -> Any:
    """The torch copy of a grid operator, cached on the matrix itself (an ``id`` key could be reused)."""
    torch = tensor_library(like)
    copies = matrix.__dict__.setdefault("_torch_copies", {})
    key = (like.device, like.dtype)
    if key not in copies:
        copies[key] = torch.sparse_csr_tensor(
            torch.as_tensor(matrix.indptr, dtype=torch.int64),
            torch.as_tensor(matrix.indices, dtype=torch.int64),
            torch.as_tensor(matrix.data, dtype=like.dtype),
            size=matrix.shape,
        ).to(like.device)
    return copies[key]


def apply_operator(matrix: sp.csr_matrix, values: Any, grid_shape: tuple[int, ...]) -> Any:
    """Apply a flattened-grid operator to values of shape ``(*batch, *grid_shape)``."""
    if isinstance(values, AffineMap):
        return values.left_multiply(matrix)
    size = int(np.prod(grid_shape))
    if tensor_library(values):
        flat = values.reshape(-1, size).T
        return (_torch_operator(matrix, values) @ flat).T.reshape(values.shape)
    values = np.asarray(values, dtype=float)
    if values.ndim == 0:  # a constant
        values = np.full(grid_shape, float(values))
    flat = values.reshape(-1, size).T
    return np.asarray(matrix @ flat).T.reshape(values.shape)


class GridField(Field):
    """A field on a grid; ``stagger`` is the axis whose faces it lives on, or None for nodes."""

    def __init__(self, values: Any, grid: Grid, stagger: int | None = None) -> None:
        self.values = values
        self.grid = grid
        self.stagger = stagger
        self._rfft: tuple[Any, Any] | None = None  # (values, their rfftn) once a spectral derivative needs it

    def with_values(self, values: Any) -> GridField:
        return GridField(values, self.grid, self.stagger)

    def map(self, function: Callable[[Any], Any]) -> GridField:
        if isinstance(self.values, AffineMap):
            raise NotLinearError("the residual applies a nonlinear function to the unknown")
        return self.with_values(function(self.values))

    # --- locations ------------------------------------------------------------------------
    def _apply(self, kind: str, axis: int, values: Any | None = None) -> Any:
        target = self.values if values is None else values
        return apply_operator(self.grid.operator(kind, axis), target, self.grid.shape)

    def at_nodes(self) -> GridField:
        """Bring face values back to the nodes (second-order average)."""
        if self.stagger is None:
            return self
        return GridField(self._apply("center", self.stagger), self.grid, None)

    def _binary(self, other: Any, op: Callable[[Any, Any], Any]) -> GridField:
        if isinstance(other, GridField):
            if other.stagger == self.stagger:
                return GridField(op(self.values, other.values), self.grid, self.stagger)
            a, b = self.at_nodes(), other.at_nodes()
            return GridField(op(a.values, b.values), self.grid, None)
        if isinstance(other, Field):
            raise TypeError(f"cannot combine a grid field with a {type(other).__name__}")
        if self.stagger is not None and np.ndim(other) > 0:  # a coefficient array at the nodes
            other = self._apply("average", self.stagger, other)
        return GridField(op(self.values, other), self.grid, self.stagger)

    # --- derivatives (the grid's calculus: finite differences or Fourier symbols) ----------
    def _transform(self, values: Any, axes: tuple[int, ...]) -> Any:
        """``rfftn`` of ``values``, kept on the field so that its several derivatives share one transform."""
        if self._rfft is None or self._rfft[0] is not values:
            torch = tensor_library(values)
            hat = torch.fft.rfftn(values, dim=axes) if torch else scipy.fft.rfftn(values, axes=axes)
            self._rfft = (values, hat)
        return self._rfft[1]

    def derivative(self, axis: str, order: int = 1) -> GridField:
        k = self.grid.axis_index(axis)
        return GridField(self.grid.calculus.derivative(self.at_nodes(), k, order), self.grid)

    def gradient(self) -> VectorField:
        parts = self.grid.calculus.gradient(self.at_nodes())
        return VectorField([GridField(values, self.grid, stagger=stagger) for values, stagger in parts])

    def divergence_of(self, vector: VectorField) -> GridField:
        total = None
        for k, component in enumerate(vector.components):
            if not isinstance(component, GridField):
                raise TypeError("div() of a grid vector needs grid fields")
            if component.stagger == k:
                term = GridField(component._apply("backward", k), self.grid)
            else:
                term = component.at_nodes().derivative(self.grid.names[k])
            total = term if total is None else total + term
        return total

    def laplacian(self) -> GridField:
        return GridField(self.grid.calculus.laplacian(self.at_nodes()), self.grid)

    def inverse_laplacian(self) -> GridField:
        return GridField(self.grid.calculus.inverse_laplacian(self.at_nodes()), self.grid)
