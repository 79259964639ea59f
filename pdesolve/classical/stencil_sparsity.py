"""The sparsity pattern of a grid right-hand side's Jacobian, found by probing with coloured perturbations.

Nodes whose colour agrees are at least ``2 reach + 1`` apart on every axis (across the seam of periodic
axes too), so when each output depends only on nodes within ``reach`` of it (any stencil built from the
grid's difference operators, for ``reach`` large enough), perturbing one colour at a time tells exactly
which node every changed output depends on (Curtis, Powell & Reid 1974, used backwards). The probe is
taken about a random state, so that products such as ``u u_x`` do not hide their dependence.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product

import numpy as np
import scipy.sparse as sp

from pdesolve.problem import Grid

DEFAULT_REACH = 3
PROBE_SIZE = 1e-3


def _axis_colours(n: int, periodic: bool, period: int) -> np.ndarray:
    """Colours ``i mod period``; on a periodic axis, the leftover tail nodes each get a colour of their own."""
    index = np.arange(n)
    if not periodic:
        return index % period
    whole = (n // period) * period
    return np.where(index < whole, index % period, period + index - whole)


def _axis_sources(n: int, periodic: bool, colours: np.ndarray, period: int, colour: int) -> np.ndarray:
    """For every node ``i``, the node of ``colour`` within reach of it (or -1 when there is none)."""
    reach = (period - 1) // 2
    members = np.flatnonzero(colours == colour)
    index = np.arange(n)
    offset = members[None, :] - index[:, None]
    if periodic:
        offset = (offset + n // 2) % n - n // 2
    near = np.abs(offset) <= reach
    return np.where(near.any(axis=1), members[near.argmax(axis=1)], -1)


def jacobian_sparsity(
    function: Callable[[np.ndarray], np.ndarray],
    grid: Grid,
    unknown: np.ndarray,
    reach: int = DEFAULT_REACH,
    seed: int = 0,
) -> sp.csr_matrix:
    """Pattern of ``d function(u)[unknown] / d u[unknown]`` (rows and columns in C order of ``unknown``).

    ``function`` maps values of shape ``grid.shape`` to values of the same shape.
    """
    period = 2 * reach + 1
    colours = [_axis_colours(n, per, period) for n, per in zip(grid.shape, grid.periodic)]
    base = np.random.default_rng(seed).uniform(0.5, 1.5, grid.shape)
    f0 = function(base)
    number = np.full(grid.shape, -1)
    number[unknown] = np.arange(int(unknown.sum()))
    sources = [
        {c: _axis_sources(n, per, colours[k], period, c) for c in np.unique(colours[k])}
        for k, (n, per) in enumerate(zip(grid.shape, grid.periodic))
    ]
    rows, cols = [], []
    for colour in product(*[np.unique(c) for c in colours]):
        selected = np.ones(grid.shape, dtype=bool)
        for k, c in enumerate(colour):
            shape = [1] * grid.dim
            shape[k] = grid.shape[k]
            selected &= (colours[k] == c).reshape(shape)
        selected &= unknown
        if not selected.any():
            continue
        changed = (function(base + PROBE_SIZE * selected) != f0) & unknown
        if not changed.any():
            continue
        outputs = np.nonzero(changed)
        source = [sources[k][c][outputs[k]] for k, c in enumerate(colour)]
        found = np.all([s >= 0 for s in source], axis=0)
        source_number = number[tuple(np.where(found, s, 0) for s in source)]
        found &= source_number >= 0
        rows.append(number[outputs][found])
        cols.append(source_number[found])
    size = int(unknown.sum())
    rows_all = np.concatenate(rows) if rows else np.zeros(0, dtype=int)
    cols_all = np.concatenate(cols) if cols else np.zeros(0, dtype=int)
    pattern = sp.csr_matrix((np.ones(len(rows_all)), (rows_all, cols_all)), shape=(size, size))
    pattern.data[:] = 1.0
    return pattern + sp.identity(size, format="csr")
