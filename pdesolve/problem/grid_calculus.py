"""How a :class:`~pdesolve.problem.grid.Grid` differentiates: one strategy per ``Grid.method``, chosen when the
grid is made (:data:`CALCULI`), so :class:`~pdesolve.problem.grid_field.GridField` asks its grid's calculus and
tests no method name.

- :class:`FiniteDifferences` (``"fd"``): the grid's second-order sparse stencils; the gradient lives on faces
  (staggered), so ``div(a grad u)`` is the compact conservative stencil.
- :class:`Fourier` (``"spectral"``): multiplication by Fourier symbols on periodic grids (Trefethen, *Spectral
  Methods in MATLAB*, ch. 3), real transforms over the trailing grid axes; it also inverts the Laplacian.

Each method takes a field at the nodes and returns values of the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.fft

from pdesolve.errors import NotApplicableError
from pdesolve.problem.affine import AffineMap
from pdesolve.problem.tensors import tensor_library

if TYPE_CHECKING:
    from pdesolve.problem.grid_field import GridField


class FiniteDifferences:
    """Second-order differences by the grid's sparse operators (``Grid.operator``)."""

    periodic_only = False  # takes non-periodic axes
    inverts_laplacian = False

    def derivative(self, node: GridField, axis: int, order: int) -> Any:
        if order == 2:
            return node._apply("second", axis)
        values = node.values
        for _ in range(order):
            values = node._apply("first", axis, values)
        return values

    def gradient(self, node: GridField) -> list[tuple[Any, int | None]]:
        """``(values, stagger)`` per axis: forward differences on the faces of that axis."""
        return [(node._apply("forward", k), k) for k in range(node.grid.dim)]

    def laplacian(self, node: GridField) -> Any:
        return node.divergence_of(node.gradient()).values

    def inverse_laplacian(self, node: GridField) -> Any:
        raise NotApplicableError("inverse_laplacian needs a periodic spectral grid")


def _as_multiplier(symbol: np.ndarray, values: Any) -> Any:
    torch = tensor_library(values)
    if torch is None:
        return symbol
    complex_dtype = (
        torch.complex64 if values.dtype in (torch.float32, torch.bfloat16, torch.float16) else torch.complex128
    )
    return torch.as_tensor(symbol, device=values.device, dtype=complex_dtype)


def _inverse_laplacian_symbol(ks: list[np.ndarray]) -> np.ndarray:
    """``-1/|k|²``, with 0 on the mean mode (the potential of zero mean)."""
    k2 = sum(k**2 for k in ks)
    k2[(0,) * len(ks)] = 1.0
    s = -1.0 / k2
    s[(0,) * len(ks)] = 0.0
    return s


class Fourier:
    """Fourier symbols on a periodic grid: ``(ik)^order``, ``-|k|²`` and its inverse."""

    periodic_only = True
    inverts_laplacian = True

    def derivative(self, node: GridField, axis: int, order: int) -> Any:
        def symbol(ks: list[np.ndarray]) -> np.ndarray:
            s = (1j * ks[axis]) ** order
            if order % 2 == 1 and node.grid.shape[axis] % 2 == 0:  # the Nyquist mode has no odd derivative
                s = np.where(np.abs(ks[axis]) == np.abs(ks[axis]).max(), 0, s)
            return s

        return self.multiply(node, ("d", axis, order), symbol)

    def gradient(self, node: GridField) -> list[tuple[Any, int | None]]:
        return [(self.derivative(node, k, 1), None) for k in range(node.grid.dim)]

    def laplacian(self, node: GridField) -> Any:
        return self.multiply(node, ("laplacian",), lambda ks: -sum(k**2 for k in ks))

    def inverse_laplacian(self, node: GridField) -> Any:
        return self.multiply(node, ("inverse_laplacian",), _inverse_laplacian_symbol)

    def multiply(self, node: GridField, key: tuple, symbol: Callable[[list[np.ndarray]], np.ndarray]) -> Any:
        """Multiply by a Fourier symbol over the grid axes (the trailing dimensions of values).

        Real transforms (``rfftn``) halve the work; the symbol on the half spectrum is cached per grid, the
        transform of the values per field.
        """
        if isinstance(node.values, AffineMap):
            raise NotApplicableError("spectral grids are not assembled into sparse matrices")
        grid = node.grid
        torch = tensor_library(node.values)
        values = node.values if torch else np.asarray(node.values, dtype=float)
        axes = tuple(range(-grid.dim, 0))
        cache_key = ("symbol", key, (values.device, values.dtype) if torch else "numpy")
        if cache_key not in grid._cache:
            ks = [grid.wavenumbers(k) for k in range(grid.dim)]
            ks[-1] = ks[-1][: grid.shape[-1] // 2 + 1].copy()
            ks[-1][-1] = abs(ks[-1][-1])  # rfft's last mode is the (positive) Nyquist frequency
            multiplier = symbol(np.meshgrid(*ks, indexing="ij"))
            grid._cache[cache_key] = _as_multiplier(multiplier, values)
        multiplier = grid._cache[cache_key]
        if torch:
            return torch.fft.irfftn(node._transform(values, axes) * multiplier, s=grid.shape, dim=axes)
        return scipy.fft.irfftn(node._transform(values, axes) * multiplier, s=grid.shape, axes=axes)


CALCULI: dict[str, FiniteDifferences | Fourier] = {"fd": FiniteDifferences(), "spectral": Fourier()}
