"""De-aliasing by padding (Orszag's 3/2 rule): products are formed on a grid 3/2 times finer.

The coefficients of ``u`` are zero-padded to the fine grid, the right-hand side is evaluated there,
and its coefficients are truncated back. Quadratic products then carry no aliasing error, as with
the 2/3 truncation rule, while every one of the ``n`` modes stays in use. Nyquist modes (even ``n``)
are dropped, as usual, since they have no real partner on the fine grid.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pdesolve.classical.fourier_backend import FourierBackend


def padded_size(n: int) -> int:
    """The smallest even size of at least ``3n/2``."""
    m = -(-3 * n // 2)
    return m + m % 2


def _axis_modes(n: int, m: int, half: bool) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the modes ``|k| < n/2`` in the layouts of sizes ``n`` and ``m`` (rfft when ``half``)."""
    top = (n - 1) // 2
    positive = np.arange(top + 1)
    if half:
        return positive, positive
    negative = np.arange(1, top + 1)
    return np.concatenate([positive, n - negative]), np.concatenate([positive, m - negative])


class Padding:
    """Zero-padding and truncation between the rfft layouts of ``shape`` and its 3/2-finer grid.

    Coefficients may carry leading batch axes: ``(*batch, *half-spectrum)``.
    """

    def __init__(self, shape: tuple[int, ...], backend: FourierBackend) -> None:
        self.shape = shape
        self.fine_shape = tuple(padded_size(n) for n in shape)
        self.backend = backend
        half_coarse = (*shape[:-1], shape[-1] // 2 + 1)
        half_fine = (*self.fine_shape[:-1], self.fine_shape[-1] // 2 + 1)
        pairs = [_axis_modes(n, m, k == len(shape) - 1) for k, (n, m) in enumerate(zip(shape, self.fine_shape))]
        coarse = np.ravel_multi_index(np.ix_(*[c for c, _ in pairs]), half_coarse).ravel()
        fine = np.ravel_multi_index(np.ix_(*[f for _, f in pairs]), half_fine).ravel()
        self.half_coarse, self.half_fine = half_coarse, half_fine
        self.coarse_index, self.fine_index = backend.index(coarse), backend.index(fine)
        self.ratio = float(np.prod(self.fine_shape)) / float(np.prod(shape))

    def pad(self, v: Any) -> Any:
        """Coefficients on the coarse grid -> the same function's coefficients on the fine grid."""
        batch = self._batch(v)
        out = self.backend.complex_zeros((*batch, *self.half_fine))
        out.reshape(*batch, -1)[..., self.fine_index] = v.reshape(*batch, -1)[..., self.coarse_index] * self.ratio
        return out

    def drop_nyquist(self, v: Any) -> Any:
        """Coefficients without the Nyquist modes that padding leaves out (they would stay frozen)."""
        batch = self._batch(v)
        out = self.backend.complex_zeros((*batch, *self.half_coarse))
        out.reshape(*batch, -1)[..., self.coarse_index] = v.reshape(*batch, -1)[..., self.coarse_index]
        return out

    def truncate(self, w: Any) -> Any:
        """Coefficients on the fine grid -> those of its modes that the coarse grid holds."""
        batch = self._batch(w)
        out = self.backend.complex_zeros((*batch, *self.half_coarse))
        out.reshape(*batch, -1)[..., self.coarse_index] = w.reshape(*batch, -1)[..., self.fine_index] / self.ratio
        return out

    def _batch(self, v: Any) -> tuple[int, ...]:
        """The leading (batch) axes of coefficients ``v``."""
        return tuple(v.shape[: v.ndim - len(self.shape)])
