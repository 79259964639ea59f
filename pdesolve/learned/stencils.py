"""Compact stencils of a sparse matrix on a box grid, as channels of an image: the input of grid networks.

A matrix whose unknowns fill a box in C order and couple only nodes at most one apart per axis (5/9-point in
2D, 7/27-point in 3D, and Galerkin coarse operators of such) is a field of 3^d coefficients per node.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from pdesolve.errors import NotApplicableError


def box_stencils(matrix: sp.spmatrix, shape: tuple[int, ...]) -> np.ndarray:
    """``S[o, i] = A[i, i + offset_o]`` shaped ``(3^d, *shape)``, zero where the neighbour lies outside."""
    coo = sp.coo_matrix(matrix)
    dim = len(shape)
    rows = np.stack(np.unravel_index(coo.row, shape))
    cols = np.stack(np.unravel_index(coo.col, shape))
    delta = cols - rows
    if np.abs(delta).max(initial=0) > 1:
        raise NotApplicableError("the matrix couples nodes more than one grid step apart: not a compact stencil")
    number = np.ravel_multi_index(delta + 1, (3,) * dim)
    stencils = np.zeros((3**dim, int(np.prod(shape))))
    stencils[number, coo.row] = coo.data
    return stencils.reshape((3**dim, *shape))
