"""Exponential time differencing with fourth-order Runge–Kutta stages (ETDRK4).

For ``v' = L v + N(v, t)`` with a diagonal (Fourier) ``L``, Cox & Matthews (2002, J. Comput. Phys.
176, 430) integrate ``L`` exactly and ``N`` with four stages. Their coefficients are φ-functions of
``z = hL`` that cancel catastrophically for small ``|z|``; Kassam & Trefethen (2005, SIAM J. Sci.
Comput. 26, 1214) evaluate them as means over a circle in the complex plane around each ``z``.
Here the circle has radius 2, so its points stay at least 1 away from the removable singularity at 0
for every ``|z| < 1`` (complex ``z`` included); larger ``|z|`` use the closed forms, which are
accurate there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pdesolve.classical.fourier_backend import FourierBackend

CONTOUR_POINTS = 32
CONTOUR_RADIUS = 2.0


def _closed_forms(z: np.ndarray) -> dict[str, np.ndarray]:
    """``(e^{z/2} - 1)/z`` and the three ETDRK4 weights of Cox & Matthews, divided by ``h``."""
    ez = np.exp(z)
    return {
        "q": (np.exp(z / 2) - 1) / z,
        "f1": (-4 - z + ez * (4 - 3 * z + z**2)) / z**3,
        "f2": (2 + z + ez * (z - 2)) / z**3,
        "f3": (-4 - 3 * z - z**2 + ez * (4 - z)) / z**3,
    }


def phi_weights(z: np.ndarray) -> dict[str, np.ndarray]:
    """The weights ``q, f1, f2, f3`` at ``z = hL`` (complex), by contour means where ``|z| < 1``."""
    z = np.asarray(z, dtype=complex)
    small = np.abs(z) < 1
    safe = np.where(small, 1.0, z)
    weights = _closed_forms(safe)
    if small.any():
        centres = z[small]
        means = {key: np.zeros(centres.shape, dtype=complex) for key in weights}
        for j in range(CONTOUR_POINTS):
            shift = CONTOUR_RADIUS * np.exp(2j * np.pi * (j + 0.5) / CONTOUR_POINTS)
            for key, value in _closed_forms(centres + shift).items():
                means[key] += value / CONTOUR_POINTS
        for key in weights:
            weights[key][small] = means[key]
    return weights


class ETDRK4:
    """One step size ``h`` of ETDRK4 for ``v' = L v + N(v, t)``; ``L`` is a diagonal symbol (numpy array).

    ``nonlinear(v, t)`` returns ``N`` in the same (Fourier) representation as ``v``.
    """

    def __init__(
        self,
        symbol: np.ndarray,
        h: float,
        nonlinear: Callable[[Any, float], Any],
        backend: FourierBackend,
    ) -> None:
        z = h * np.asarray(symbol, dtype=complex)
        weights = phi_weights(z)
        self.h = h
        self.nonlinear = nonlinear
        self.e = backend.complex_array(np.exp(z))
        self.e2 = backend.complex_array(np.exp(z / 2))
        self.q = backend.complex_array(h * weights["q"])
        self.f1 = backend.complex_array(h * weights["f1"])
        self.f2 = backend.complex_array(2 * h * weights["f2"])  # the weight of na + nb: 2 f2
        self.f3 = backend.complex_array(h * weights["f3"])

    def step(self, v: Any, t: float) -> Any:
        """Advance ``v`` from ``t`` to ``t + h`` (Cox & Matthews 2002, eqs. 26–29)."""
        h, half = self.h, self.h / 2
        nv = self.nonlinear(v, t)
        ev = self.e2 * v
        a = ev + self.q * nv
        na = self.nonlinear(a, t + half)
        b = ev + self.q * na
        nb = self.nonlinear(b, t + half)
        c = self.e2 * a + self.q * (2 * nb - nv)
        nc = self.nonlinear(c, t + h)
        return self.e * v + self.f1 * nv + self.f2 * (na + nb) + self.f3 * nc
