"""Matrix-free stencils equal the assembled matrices they stand for."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pdesolve.classical.assembly import assemble, box_grid
from pdesolve.errors import NotApplicableError
from pdesolve.linalg.stencil import StencilOperator
from pdesolve.linalg.system import spd_form
from pdesolve.problem import Box, Dirichlet, Periodic, Problem, Rectangle, cos, div, grad, laplacian, sin
from tests.linalg.conftest import laplacian as laplacian_matrix


def _variable_problem(dim: int) -> Problem:
    domain = Rectangle((0.0, 0.0), (1.0, 2.0)) if dim == 2 else Box((0.0,) * 3, (1.0,) * 3)
    return Problem(
        name=f"diffusion{dim}d",
        domain=domain,
        residual=lambda u, x, p: -div((2.0 + sin(3 * x.x) * cos(2 * x.y)) * grad(u)) - 1.0,
        boundary=Dirichlet(0.0),
    )


@pytest.mark.parametrize("dim", [2, 3])
def test_stencil_from_an_assembled_matrix_reproduces_its_products(dim: int) -> None:
    problem = _variable_problem(dim)
    system = assemble(problem, box_grid(problem, 9 if dim == 3 else 13))
    matrix, _ = spd_form(system.matrix, system.rhs)
    shape = tuple(n - 2 for n in system.grid.shape)
    stencil = StencilOperator.from_matrix(matrix, shape)
    x = torch.as_tensor(np.random.default_rng(0).standard_normal((matrix.shape[0], 2)))
    np.testing.assert_allclose(stencil.matvec(x).numpy(), matrix @ x.numpy(), rtol=1e-13, atol=1e-9)
    np.testing.assert_allclose(stencil.matvec(x[:, 0]).numpy(), matrix @ x[:, 0].numpy(), rtol=1e-13, atol=1e-9)
    assert abs(stencil.to_csr() - matrix).max() <= 1e-12 * abs(matrix).max()
    np.testing.assert_allclose(stencil.diagonal().numpy(), matrix.diagonal(), rtol=1e-14)


def test_face_coefficients_give_the_problem_layers_conservative_scheme() -> None:
    problem = _variable_problem(2)
    grid = box_grid(problem, 11)
    matrix, _ = spd_form(assemble(problem, grid).matrix, np.zeros(1))
    x, y = grid.coordinates()
    a = 2.0 + np.sin(3 * x) * np.cos(2 * y)
    faces = [0.5 * (a[:-1, 1:-1] + a[1:, 1:-1]), 0.5 * (a[1:-1, :-1] + a[1:-1, 1:])]
    stencil = StencilOperator.from_faces(faces, grid.spacing, (9, 9))
    assert abs(stencil.to_csr() - matrix).max() <= 1e-12 * abs(matrix).max()


def test_constant_and_periodic_stencils() -> None:
    periodic = Problem(
        name="screened",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        residual=lambda u, x, p: -laplacian(u) + u - 1.0,
        boundary=[Periodic(axes=("x",)), Dirichlet(0.0)],
    )
    system = assemble(periodic, box_grid(periodic, 8))
    shape = (8, 6)  # all nodes along the periodic x, interior along y
    stencil = StencilOperator.from_matrix(system.matrix, shape, (True, False), dtype=torch.float32)
    assert all(isinstance(c, float) for c in stencil._source[1])  # constant couplings stay scalars
    x = torch.as_tensor(np.random.default_rng(1).standard_normal(48))
    np.testing.assert_allclose(stencil.matvec64(x).numpy(), system.matrix @ x.numpy(), rtol=1e-13)
    assert stencil.matvec(x.float()).dtype == torch.float32
    with pytest.raises(NotApplicableError, match="not grid neighbours"):
        StencilOperator.from_matrix(laplacian_matrix(10, dim=1) @ laplacian_matrix(10, dim=1), (8,))
