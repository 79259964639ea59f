"""The split ``F(u) = L u + N(u)`` of a periodic right-hand side, found by probing ``F``.

``L`` is the Fourier symbol of the linearisation of ``F`` at ``u = 0``: for a translation-invariant
linear part, the response to a unit impulse at the first node is the first column of its circulant
matrix, whose FFT is the symbol. The symmetric difference ``(F(εδ) − F(−εδ)) / 2ε`` removes the
constant (forcing) and quadratic terms. ``N = F − L u`` is then computed exactly, so the split stays
correct when ``L`` misses part of the linear terms (variable coefficients): it only gets stiffer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pdesolve.classical.fourier_backend import FourierBackend

PROBE_SIZE = 1e-6
POWER_ITERATIONS = 30


def linear_symbol(rhs: Callable[[Any], Any], shape: tuple[int, ...], backend: FourierBackend) -> np.ndarray:
    """The rfft-shaped symbol of ``dF/du`` at ``u = 0`` from an impulse response (complex numpy array)."""
    impulse = np.zeros(shape)
    impulse[(0,) * len(shape)] = PROBE_SIZE
    plus = rhs(backend.real_array(impulse))
    minus = rhs(backend.real_array(-impulse))
    response = backend.to_numpy((plus - minus) / (2 * PROBE_SIZE))
    return np.fft.rfftn(response, axes=tuple(range(-len(shape), 0)))


def explicit_rate(nonlinear: Callable[[Any], Any], u0: Any, backend: FourierBackend, seed: int = 0) -> float:
    """Power-iteration estimate of ``‖dN/du‖`` at ``u0``: the rate the explicit stages must resolve.

    Jacobian-vector products are symmetric differences of ``N`` (``nonlinear`` maps real arrays).
    """
    scale = max(1.0, float(np.abs(backend.to_numpy(u0)).max()))
    v = np.random.default_rng(seed).standard_normal(tuple(u0.shape))
    rate = 0.0
    for _ in range(POWER_ITERATIONS):
        v = v / np.linalg.norm(v)
        eps = PROBE_SIZE * scale
        dv = backend.real_array(eps * v)
        jv = backend.to_numpy(nonlinear(u0 + dv) - nonlinear(u0 - dv)) / (2 * eps)
        rate = float(np.linalg.norm(jv))
        if not np.isfinite(rate) or rate == 0.0:
            return rate if np.isfinite(rate) else np.inf
        v = jv
    return rate
