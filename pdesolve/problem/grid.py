"""Uniform tensor-product grids and their difference operators.

Non-periodic axes include both end points; periodic axes leave out the right end. Finite
differences are second order: central first derivatives, and a staggered pair (forward difference
to faces, backward difference back to nodes) so that ``div(a * grad(u))`` is the compact,
symmetric conservative stencil of variable-coefficient diffusion (``a`` averaged to faces).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import scipy.sparse as sp

from pdesolve.problem.coords import SPACE_NAMES
from pdesolve.problem.grid_calculus import CALCULI, FiniteDifferences, Fourier

Method = Literal["fd", "spectral"]


def _first_difference(n: int, h: float, periodic: bool) -> sp.csr_matrix:
    """Central ``(u[i+1] - u[i-1]) / 2h``; second-order one-sided rows at non-periodic ends."""
    if periodic:
        return sp.diags([-1, 1, 1, -1], [-1, 1, 1 - n, n - 1], shape=(n, n), dtype=float, format="lil").tocsr() / (
            2 * h
        )
    m = sp.diags([-1, 1], [-1, 1], shape=(n, n), dtype=float, format="lil")
    m[0, :3] = [-3, 4, -1]
    m[n - 1, n - 3 :] = [1, -4, 3]
    return m.tocsr() / (2 * h)


def _second_difference(n: int, h: float, periodic: bool) -> sp.csr_matrix:
    """``(u[i+1] - 2u[i] + u[i-1]) / h²``; second-order one-sided rows at non-periodic ends."""
    if periodic:
        return sp.diags([1, -2, 1, 1, 1], [-1, 0, 1, 1 - n, n - 1], shape=(n, n), dtype=float, format="csr") / h**2
    m = sp.diags([1, -2, 1], [-1, 0, 1], shape=(n, n), dtype=float, format="lil")
    m[0, :4] = [2, -5, 4, -1]
    m[n - 1, n - 4 :] = [-1, 4, -5, 2]
    return m.tocsr() / h**2


def _forward_difference(n: int, h: float, periodic: bool) -> sp.csr_matrix:
    """``(u[i+1] - u[i]) / h`` located at the face ``i + 1/2`` (last row empty if not periodic)."""
    m = sp.diags([-1, 1], [0, 1], shape=(n, n), dtype=float, format="lil")
    if periodic:
        m[n - 1, 0] = 1
    else:
        m[n - 1, :] = 0
    return m.tocsr() / h


def _backward_difference(n: int, h: float, periodic: bool) -> sp.csr_matrix:
    """``(F[i+1/2] - F[i-1/2]) / h`` back at node ``i`` (first row empty if not periodic)."""
    m = sp.diags([-1, 1], [-1, 0], shape=(n, n), dtype=float, format="lil")
    if periodic:
        m[0, n - 1] = -1
    else:
        m[0, :] = 0
    return m.tocsr() / h


def _face_to_node(n: int, periodic: bool) -> sp.csr_matrix:
    """``(F[i-1/2] + F[i+1/2]) / 2`` back at node ``i`` (one-sided at non-periodic ends)."""
    m = sp.diags([0.5, 0.5], [-1, 0], shape=(n, n), dtype=float, format="lil")
    if periodic:
        m[0, n - 1] = 0.5
    else:
        m[0, 0] = 1.0
        m[n - 1, n - 1] = 0.0
        m[n - 1, n - 2] = 1.0
    return m.tocsr()


def _face_average(n: int, periodic: bool) -> sp.csr_matrix:
    """``(a[i] + a[i+1]) / 2`` at the face ``i + 1/2``."""
    m = sp.diags([0.5, 0.5], [0, 1], shape=(n, n), dtype=float, format="lil")
    if periodic:
        m[n - 1, 0] = 0.5
    else:
        m[n - 1, n - 1] = 1.0
    return m.tocsr()


@dataclass(frozen=True)
class Grid:
    """A uniform grid on ``[lower, upper]`` per axis with ``shape`` nodes.

    >>> Grid((0.0,), (1.0,), (5,)).axes[0]
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """

    lower: tuple[float, ...]
    upper: tuple[float, ...]
    shape: tuple[int, ...]
    periodic: tuple[bool, ...] = ()
    method: Method = "fd"
    _cache: dict = field(default_factory=dict, compare=False, repr=False, hash=False)
    calculus: FiniteDifferences | Fourier = field(init=False, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        """Resolve ``method`` to its calculus, once."""
        if not self.periodic:
            object.__setattr__(self, "periodic", (False,) * len(self.shape))
        calculus = CALCULI.get(self.method)
        if calculus is None:
            raise ValueError(f"grid method={self.method!r}: choose one of {', '.join(CALCULI)}")
        if calculus.periodic_only and not all(self.periodic):
            raise ValueError(f"a {self.method} grid needs every axis periodic")
        object.__setattr__(self, "calculus", calculus)

    @property
    def dim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def names(self) -> tuple[str, ...]:
        return SPACE_NAMES[: self.dim]

    @cached_property
    def axes(self) -> list[np.ndarray]:
        return [
            np.linspace(lo, hi, n, endpoint=not per)
            for lo, hi, n, per in zip(self.lower, self.upper, self.shape, self.periodic)
        ]

    @cached_property
    def spacing(self) -> tuple[float, ...]:
        return tuple(
            (hi - lo) / (n if per else n - 1)
            for lo, hi, n, per in zip(self.lower, self.upper, self.shape, self.periodic)
        )

    def coordinates(self) -> list[np.ndarray]:
        """Coordinate arrays of shape ``self.shape`` (``ij`` indexing)."""
        return np.meshgrid(*self.axes, indexing="ij")

    def points(self) -> np.ndarray:
        """All nodes as an array of shape (size, dim), in C order."""
        return np.stack([c.ravel() for c in self.coordinates()], axis=1)

    def boundary_mask(self) -> np.ndarray:
        """True on nodes that lie on a non-periodic end of some axis."""
        mask = np.zeros(self.shape, dtype=bool)
        for k, per in enumerate(self.periodic):
            if not per:
                index = [slice(None)] * self.dim
                index[k] = [0, self.shape[k] - 1]
                mask[tuple(index)] = True
        return mask

    def axis_index(self, name: str) -> int:
        if name not in self.names:
            raise ValueError(f"no axis {name!r} on a {self.dim}D grid")
        return self.names.index(name)

    def wavenumbers(self, axis: int) -> np.ndarray:
        """Angular wavenumbers of ``numpy.fft.fft`` along one periodic axis."""
        n = self.shape[axis]
        length = self.upper[axis] - self.lower[axis]
        return 2 * np.pi * np.fft.fftfreq(n, d=length / n)

    def operator(self, kind: str, axis: int) -> sp.csr_matrix:
        """A difference operator on the flattened grid: kind is first, second, forward, backward, average, center."""
        key = (kind, axis)
        if key not in self._cache:
            builders = {
                "first": lambda n, h, p: _first_difference(n, h, p),
                "second": lambda n, h, p: _second_difference(n, h, p),
                "forward": lambda n, h, p: _forward_difference(n, h, p),
                "backward": lambda n, h, p: _backward_difference(n, h, p),
                "average": lambda n, h, p: _face_average(n, p),
                "center": lambda n, h, p: _face_to_node(n, p),
            }
            one_d = builders[kind](self.shape[axis], self.spacing[axis], self.periodic[axis])
            factors = [sp.identity(n, format="csr") for n in self.shape]
            factors[axis] = one_d
            full = factors[0]
            for f in factors[1:]:
                full = sp.kron(full, f, format="csr")
            self._cache[key] = full.tocsr()
        return self._cache[key]
