"""Multigrid-preconditioned CG: iteration counts that do not grow with the grid, symmetric cycles."""

from __future__ import annotations

import numpy as np
import torch

from pdesolve.linalg.amg import algebraic_multigrid
from pdesolve.linalg.cg import cg
from pdesolve.linalg.multigrid import geometric_multigrid
from pdesolve.linalg.system import SparseOperator
from tests.linalg.conftest import diffusion, interior_mask, laplacian


def _mg_iterations(operator, matrix: SparseOperator, nodes: int, smoother: str = "chebyshev") -> int:
    M = geometric_multigrid(operator, matrix, (nodes, nodes), interior_mask(nodes), smoother=smoother, coarse_size=200)
    result = cg(operator, torch.ones(matrix.shape[0], dtype=torch.float64), M, tol=1e-8)
    assert result.converged and result.residual <= 1e-8
    return result.iterations


def test_mg_pcg_iterations_are_grid_independent_on_poisson() -> None:
    counts = []
    for nodes in (33, 65, 129, 257):
        matrix = SparseOperator(laplacian(nodes))
        counts.append(_mg_iterations(matrix, matrix, nodes))
    assert max(counts) - min(counts) <= 2 and max(counts) <= 10, counts


def test_mg_pcg_on_jumping_coefficients_with_a_matrix_free_fine_level() -> None:
    counts = []
    for nodes in (33, 65, 129):
        stencil = diffusion(nodes, low=1e-4)  # contrast 1e4 on fixed 8×8 blocks
        counts.append(_mg_iterations(stencil, SparseOperator(stencil.to_csr()), nodes))
    assert max(counts) - min(counts) <= 3 and max(counts) <= 16, counts


def test_v_cycle_is_symmetric_and_positive_definite() -> None:
    nodes = 17
    stencil = diffusion(nodes, low=1e-2)
    matrix = SparseOperator(stencil.to_csr())
    for M in (
        geometric_multigrid(stencil, matrix, (nodes, nodes), interior_mask(nodes), smoother="jacobi", coarse_size=20),
        algebraic_multigrid(matrix, stencil.to_csr(), coarse_size=20),
    ):
        dense = M.apply(torch.eye(matrix.shape[0], dtype=torch.float64)).numpy()
        assert np.abs(dense - dense.T).max() <= 1e-12 * np.abs(dense).max()
        assert np.linalg.eigvalsh((dense + dense.T) / 2)[0] > 0
