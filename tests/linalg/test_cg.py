"""PCG against scipy's direct solve, for every preconditioner and several right-hand sides at once."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.sparse.linalg import spsolve

from pdesolve.errors import NotApplicableError, PdesolveError
from pdesolve.linalg.cg import cg
from pdesolve.linalg.jacobi import Jacobi
from pdesolve.linalg.preconditioners import GridLayout, make_preconditioner
from pdesolve.linalg.system import SparseOperator, spd_form
from tests.linalg.conftest import interior_mask, laplacian


@pytest.mark.parametrize(
    ("precond", "backend"),
    [("none", None), ("jacobi", None), ("mg", None), ("mg", "torch"), ("amg", None), ("ic0", None)],
)
def test_cg_matches_direct_solve_with_batched_rhs(precond: str, backend: str | None) -> None:
    nodes = 17 if backend == "torch" else 33  # torch's CPU sparse products are slow
    A = laplacian(nodes)
    b = np.random.default_rng(1).standard_normal((A.shape[0], 3))
    operator = SparseOperator(A, backend=backend)
    layout = GridLayout((nodes, nodes), interior_mask(nodes), (False, False))
    M = make_preconditioner(precond, operator, A, layout, coarse_size=40, backend=backend)
    result = cg(operator, torch.as_tensor(b), M, tol=1e-12)
    exact = spsolve(A.tocsc(), b)
    assert result.converged and result.residual <= 1e-12
    assert np.abs(result.x.numpy() - exact).max() <= 1e-10 * np.abs(exact).max()
    true = np.linalg.norm(b - A @ result.x.numpy(), axis=0) / np.linalg.norm(b, axis=0)
    np.testing.assert_allclose(result.residuals, true, rtol=1e-6)
    assert len(result.history) == result.iterations + 1


def test_float32_reports_its_true_residual() -> None:
    A = laplacian(65)
    b = np.random.default_rng(2).standard_normal(A.shape[0]).astype(np.float32).astype(np.float64)
    operator = SparseOperator(A, dtype=torch.float32)
    for maxiter, tol in [(2000, 1e-10), (20, 1e-8)]:
        result = cg(operator, torch.as_tensor(b, dtype=torch.float32), Jacobi(operator), tol=tol, maxiter=maxiter)
        true = np.linalg.norm(b - A @ result.x.numpy()) / np.linalg.norm(b)
        assert result.residual == pytest.approx(true, rel=1e-6)
        assert result.converged == (true <= tol)
    assert result.converged is False and result.iterations == 20  # 20 iterations cannot reach 1e-8


def test_flexible_cg_with_a_variable_preconditioner() -> None:
    A = laplacian(33)
    b = np.random.default_rng(3).standard_normal(A.shape[0])
    operator = SparseOperator(A)

    class RandomJacobi:  # a different diagonal scaling at every call: not one fixed linear map
        capturable = True

        def __init__(self) -> None:
            self.generator = torch.Generator().manual_seed(0)
            self.inverse = 1.0 / operator.diagonal()

        def apply(self, r: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
            noise = 1.0 + 0.9 * torch.rand(r.shape, generator=self.generator, dtype=r.dtype)
            return torch.mul(r, self.inverse * noise, out=out)

    flexible = cg(operator, torch.as_tensor(b), RandomJacobi(), tol=1e-10, flexible=True)
    assert flexible.converged
    exact = spsolve(A.tocsc(), b)
    assert np.abs(flexible.x.numpy() - exact).max() <= 1e-8 * np.abs(exact).max()
    plain = cg(operator, torch.as_tensor(b), RandomJacobi(), tol=1e-10, maxiter=2 * flexible.iterations)
    assert not plain.converged  # Fletcher-Reeves β loses conjugacy with a changing preconditioner


def test_indefinite_matrix_is_refused_by_cg() -> None:
    A = laplacian(33, dim=1)
    shift = 0.5 * sp.linalg.eigsh(A, k=1, which="LA", return_eigenvectors=False)[0]
    indefinite = (A - shift * sp.identity(A.shape[0])).tocsr()  # positive diagonal, but indefinite
    assert np.all(indefinite.diagonal() > 0)
    b = torch.as_tensor(np.random.default_rng(4).standard_normal(A.shape[0]))
    with pytest.raises(NotApplicableError, match="not positive definite"):
        cg(SparseOperator(indefinite), b, tol=1e-10)


def test_singular_matrix_is_refused() -> None:
    A = laplacian(64, dim=1, periodic=True)  # constants are in the null space
    b = np.random.default_rng(5).standard_normal(A.shape[0]) + 1.0  # not in the range
    with pytest.raises(PdesolveError, match="singular"):
        cg(SparseOperator(A), torch.as_tensor(b), tol=1e-10, maxiter=500)
    with pytest.raises(NotApplicableError, match="singular"):
        spd_form(A, b)


def test_spd_form_flips_a_negative_definite_system() -> None:
    A = laplacian(9)
    matrix, rhs = spd_form(-A, -np.ones(A.shape[0]))
    assert abs(matrix - A).max() == 0 and np.all(rhs == 1)
