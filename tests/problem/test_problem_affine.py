"""Sparse assembly by evaluating a residual on an affine field: A and b reproduce the residual."""

import numpy as np
import pytest

from pdesolve.errors import NotLinearError
from pdesolve.problem import Grid, GridField, d, div, grad, laplacian, sin
from pdesolve.problem.affine import AffineMap


def residual(u, x, y):
    a = 1 + x**2 + 0.5 * y
    return -div(a * grad(u)) + 3 * d(u, "x") + (2 + y) * u - sin(x) * y


@pytest.mark.parametrize("periodic", [(False, False), (True, False)])
def test_assembled_map_reproduces_the_residual(periodic):
    grid = Grid((0.0, 0.0), (1.0, 2.0), (11, 13), periodic)
    x, y = grid.coordinates()
    affine = residual(GridField(AffineMap.identity(grid.size), grid), x, y).at_nodes().values
    assert isinstance(affine, AffineMap)
    rng = np.random.default_rng(0)
    for _ in range(3):
        u = rng.standard_normal(grid.shape)
        direct = residual(GridField(u, grid), x, y).values
        np.testing.assert_allclose(affine.matrix @ u.ravel() + affine.offset, direct.ravel(), atol=1e-9)


def test_laplacian_matrix_is_the_symmetric_five_point_stencil():
    grid = Grid((0.0, 0.0), (1.0, 1.0), (6, 6))
    matrix = laplacian(GridField(AffineMap.identity(grid.size), grid)).values.matrix
    inner = np.flatnonzero(~grid.boundary_mask().ravel())
    block = matrix[inner][:, inner].toarray() * grid.spacing[0] ** 2
    np.testing.assert_allclose(block, block.T)
    np.testing.assert_allclose(np.diag(block), -4.0)


@pytest.mark.parametrize(
    "nonlinear",
    [lambda u: u * u, lambda u: u**2, lambda u: sin(u), lambda u: 1 / u, lambda u: d(u, "x") * laplacian(u)],
    ids=["u*u", "u**2", "sin(u)", "1/u", "u_x*lap(u)"],
)
def test_nonlinear_residual_raises(nonlinear):
    grid = Grid((0.0, 0.0), (1.0, 1.0), (5, 5))
    with pytest.raises(NotLinearError):
        nonlinear(GridField(AffineMap.identity(grid.size), grid))
