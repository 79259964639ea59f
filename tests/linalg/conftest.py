"""Small SPD systems built directly (no catalogue files): Laplacians and variable-coefficient diffusion."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from pdesolve.linalg.stencil import StencilOperator


def laplacian(nodes: int, dim: int = 2, periodic: bool = False) -> sp.csr_matrix:
    """``-Δ`` on the interior (or, periodic, all) nodes of a unit box with ``nodes`` nodes per axis."""
    m = nodes if periodic else nodes - 2
    h = 1.0 / (nodes if periodic else nodes - 1)
    one = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(m, m), format="lil")
    if periodic:
        one[0, m - 1] = one[m - 1, 0] = -1.0
    one = one.tocsr() / h**2
    total = sp.csr_matrix((m**dim, m**dim))
    for axis in range(dim):
        factors = [one if k == axis else sp.identity(m) for k in range(dim)]
        term = factors[0]
        for f in factors[1:]:
            term = sp.kron(term, f)
        total = total + term
    return total.tocsr()


def diffusion(nodes: int, low: float = 1e-2, seed: int = 0) -> StencilOperator:
    """``-∇·(a∇u)`` on the unit square, ``a`` a fixed random piecewise-constant field on 8×8 blocks."""
    rng = np.random.default_rng(seed)
    blocks = np.where(rng.random((8, 8)) < 0.5, low, 1.0)
    x = np.linspace(0, 1, nodes)
    cell = np.minimum((x * 8).astype(int), 7)
    a = blocks[cell[:, None], cell[None, :]]
    m = nodes - 2
    faces = [0.5 * (a[:-1, 1:-1] + a[1:, 1:-1]), 0.5 * (a[1:-1, :-1] + a[1:-1, 1:])]
    h = 1.0 / (nodes - 1)
    return StencilOperator.from_faces(faces, [h, h], (m, m))


def interior_mask(nodes: int, dim: int = 2) -> np.ndarray:
    mask = np.zeros((nodes,) * dim, dtype=bool)
    mask[(slice(1, -1),) * dim] = True
    return mask
