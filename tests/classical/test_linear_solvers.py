"""CPU linear solvers: PCG with every preconditioner against LU, IC(0), and clear refusals."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from pdesolve.classical.linear_solvers import incomplete_cholesky, relative_residual, solve_linear
from pdesolve.errors import NotApplicableError, PdesolveError


def laplacian_2d(n: int, coefficient: bool = False) -> sp.csr_matrix:
    """5-point -Δ on n × n interior nodes (h = 1), optionally -div(a grad) with a smooth a at faces."""
    second = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    identity = sp.identity(n)
    if not coefficient:
        return (sp.kron(second, identity) + sp.kron(identity, second)).tocsr()
    faces = 1.5 + np.sin(np.linspace(0, 3, n + 1))
    forward = sp.diags([-1.0, 1.0], [0, 1], shape=(n, n + 1))
    one_d = (forward @ sp.diags(faces) @ forward.T).tocsr()
    return (sp.kron(one_d, identity) + sp.kron(identity, 2.0 * one_d)).tocsr()


@pytest.fixture(scope="module")
def system():
    matrix = laplacian_2d(40, coefficient=True)
    rhs = np.random.default_rng(0).standard_normal(matrix.shape[0])
    return matrix, rhs, spsolve(matrix.tocsc(), rhs)


@pytest.mark.parametrize("precond", ["none", "jacobi", "ic0", "amg"])
def test_cg_matches_direct(system, precond):
    matrix, rhs, reference = system
    result = solve_linear(matrix, rhs, "cg", precond, tol=1e-13)
    assert np.linalg.norm(result.x - reference) / np.linalg.norm(reference) < 1e-10
    assert result.residual < 1e-12  # recomputed ||b - Ax|| / ||b||, not CG's recursive one
    assert (
        0 < result.iterations < {"none": 300, "jacobi": 300, "ic0": 100, "amg": 25}[precond]
    )  # 216, 210, ...: CG is deterministic


def test_direct_residual(system):
    matrix, rhs, reference = system
    result = solve_linear(matrix, rhs, "direct")
    assert np.allclose(result.x, reference, rtol=1e-12, atol=1e-12)
    assert result.iterations is None  # a direct solve: the table shows a dash, not 0
    assert result.residual == pytest.approx(relative_residual(matrix, result.x, rhs)) and result.residual < 1e-13


def test_ic0_reduces_iterations(system):
    matrix, rhs, _ = system
    jacobi = solve_linear(matrix, rhs, "cg", "jacobi", tol=1e-10).iterations
    ic0 = solve_linear(matrix, rhs, "cg", "ic0", tol=1e-10).iterations
    amg = solve_linear(matrix, rhs, "cg", "amg", tol=1e-10).iterations
    assert ic0 < 0.5 * jacobi  # about 3x fewer on this 1600-unknown system
    assert amg < 20


def test_ic0_factor_matches_matrix_on_its_pattern():
    matrix = laplacian_2d(12, coefficient=True)
    factor = incomplete_cholesky(matrix)
    assert (sp.triu(factor, 1).nnz, factor.nnz) == (0, sp.tril(matrix).nnz)
    product = (factor @ factor.T).tocsr()
    on_pattern = product.multiply(matrix != 0) - matrix
    assert abs(on_pattern).max() < 1e-13  # the defining property of IC(0)
    assert abs(product - matrix).max() > 1e-3  # and it is not the exact Cholesky factor (fill is dropped)
    tridiagonal = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(30, 30), format="csr")
    exact = incomplete_cholesky(tridiagonal)  # no fill-in: IC(0) is exact Cholesky
    assert abs(exact @ exact.T - tridiagonal).max() < 1e-14


def test_negative_definite_is_flipped(system):
    matrix, rhs, reference = system
    result = solve_linear(-matrix, -rhs, "cg", "ic0", tol=1e-13)
    assert np.linalg.norm(result.x - reference) / np.linalg.norm(reference) < 1e-10


def test_indefinite_helmholtz_refused_by_cg():
    n = 30
    h = 1.0 / (n + 1)
    matrix = laplacian_2d(n) / h**2 - 200.0 * sp.identity(n * n)  # k² = 200 > the first eigenvalue 2π²
    rhs = np.ones(n * n)
    for precond in ("jacobi", "none"):
        with pytest.raises(NotApplicableError, match="indefinite.*linsolve=direct"):
            solve_linear(matrix, rhs, "cg", precond)
    with pytest.raises(NotApplicableError, match="IC\\(0\\) broke down|indefinite"):
        solve_linear(matrix, rhs, "cg", "ic0")
    assert solve_linear(matrix, rhs, "direct").residual < 1e-12


def test_nonsymmetric_and_singular_refused():
    n = 20
    advection = sp.diags([-1.0, 2.0, -0.5], [-1, 0, 1], shape=(n, n), format="csr")
    with pytest.raises(NotApplicableError, match="symmetric.*linsolve=direct"):
        solve_linear(advection, np.ones(n), "cg")
    neumann = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n), format="lil")
    neumann[0, 0] = neumann[n - 1, n - 1] = 1.0
    with pytest.raises(PdesolveError, match="singular"):
        solve_linear(neumann.tocsr(), np.ones(n), "direct")


def test_cg_stops_with_error_at_maxiter(system):
    matrix, rhs, _ = system
    with pytest.raises(PdesolveError, match="did not reach"):
        solve_linear(matrix, rhs, "cg", "jacobi", tol=1e-12, maxiter=5)
    with pytest.raises(PdesolveError, match="linsolve"):
        solve_linear(matrix, rhs, "gmres")
