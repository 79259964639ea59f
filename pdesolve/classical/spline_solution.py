"""Grid solutions read by cubic B-splines (Unser 1999) with :func:`scipy.ndimage.map_coordinates`.

The spline coefficients are computed once per axis and points are then evaluated locally, so
evaluation stays fast on large space-time grids, where a global cubic ``RegularGridInterpolator``
rebuilds splines over the whole array. Periodic axes wrap; other axes are first extended by cubic
extrapolation, so that the mirror condition of the spline filter acts away from the data and the
ends keep fourth-order accuracy. Time uses the index of the stored snapshots: exact at the stored
times, a cubic spline in between when they are evenly spaced.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import map_coordinates, spline_filter1d

from pdesolve.solvers.solution import GridSolution

ORDER = 3
EXTENSION = 8  # extrapolated samples beyond each non-periodic end (boundary effects decay like 0.27^k)


def _extrapolation_weights() -> np.ndarray:
    """Cubic Lagrange weights on samples 0..3 for the values at -1, ..., -EXTENSION (rows)."""
    nodes = np.arange(4.0)
    targets = -np.arange(1.0, EXTENSION + 1)
    weights = np.ones((EXTENSION, 4))
    for i in range(4):
        for m in range(4):
            if m != i:
                weights[:, i] *= (targets - nodes[m]) / (nodes[i] - nodes[m])
    return weights


def _extend(values: np.ndarray, axis: int) -> np.ndarray:
    """``values`` with EXTENSION cubic-extrapolated samples added at both ends of ``axis``."""
    moved = np.moveaxis(values, axis, 0)
    weights = _extrapolation_weights()
    before = np.tensordot(weights, moved[:4], axes=1)[::-1]
    after = np.tensordot(weights, moved[::-1][:4], axes=1)
    return np.moveaxis(np.concatenate([before, moved, after]), 0, axis)


class SplineGridSolution(GridSolution):
    """A :class:`GridSolution` whose values between nodes (and stored times) are cubic B-splines."""

    def _coefficients(self) -> np.ndarray:
        """Spline coefficients, padded by ``ORDER`` on every axis so that no lookup leaves the array."""
        cached = getattr(self, "_spline", None)
        if cached is not None and cached[0] is self.values:
            return cached[1]
        coefficients = self.values
        for axis, wraps in enumerate(self._periodic()):
            if self._extended(axis):
                coefficients = _extend(coefficients, axis)
            if coefficients.shape[axis] > 1:
                mode = "grid-wrap" if wraps else "mirror"
                coefficients = spline_filter1d(coefficients, ORDER, axis=axis, mode=mode, output=np.float64)
        widths = [(ORDER, ORDER)] * coefficients.ndim
        for axis, wraps in enumerate(self._periodic()):
            edge = "wrap" if wraps else ("reflect" if coefficients.shape[axis] > 1 else "edge")
            pad = [(0, 0)] * coefficients.ndim
            pad[axis] = widths[axis]
            coefficients = np.pad(coefficients, pad, mode=edge)
        self._spline = (self.values, coefficients)
        return coefficients

    def _periodic(self) -> list[bool]:
        """Per axis of the stored values (time first, if any), whether it wraps."""
        return list(self.grid.periodic) if self.times is None else [False, *self.grid.periodic]

    def _extended(self, axis: int) -> bool:
        return not self._periodic()[axis] and self.values.shape[axis] >= 4

    def __call__(self, points: np.ndarray) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, dtype=float))
        index = []
        if self.times is not None:
            index.append(np.interp(points[:, -1], self.times, np.arange(len(self.times), dtype=float)))
        for k in range(self.grid.dim):
            lo, n = self.grid.lower[k], self.grid.shape[k]
            position = (points[:, k] - lo) / self.grid.spacing[k]
            index.append(np.mod(position, n) if self.grid.periodic[k] else np.clip(position, 0, n - 1))
        offsets = [ORDER + (EXTENSION if self._extended(axis) else 0) for axis in range(len(index))]
        coordinates = np.array(index) + np.array(offsets)[:, None]
        return map_coordinates(self._coefficients(), coordinates, order=ORDER, prefilter=False, mode="nearest")
