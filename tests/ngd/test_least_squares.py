"""The least-squares core on ill-conditioned systems with known solutions."""

import numpy as np
import pytest
import torch

from pdesolve.ngd import GramSystem, MatrixFree, reduce_rows, solve_least_squares, solve_reduced


def vandermonde(rows: int = 60, cols: int = 10) -> torch.Tensor:
    """Monomials at Chebyshev points of [0, 1]: condition number ≈ 4e6."""
    x = 0.5 - 0.5 * np.cos(np.pi * (np.arange(rows) + 0.5) / rows)
    return torch.as_tensor(np.vander(x, cols, increasing=True))


def hilbert(n: int) -> torch.Tensor:
    i = torch.arange(n, dtype=torch.float64)
    return 1 / (i[:, None] + i[None, :] + 1)


@pytest.fixture
def system():
    J = vandermonde()
    x = torch.linspace(-1, 1, J.shape[1], dtype=torch.float64)
    return J, x, J @ x


def test_condition_number_of_the_test_matrix(system):
    J, _, _ = system
    assert 1e6 < torch.linalg.cond(J) < 1e8


@pytest.mark.parametrize("method", ["svd", "qr"])
def test_direct_methods_recover_the_solution_to_cond_times_eps(system, method):
    J, x, r = system
    delta, info = solve_least_squares(J, r, method=method, rcond=1e-14)
    cond = float(torch.linalg.cond(J))
    assert float((delta - x).norm() / x.norm()) < 10 * cond * 2.2e-16
    assert info.relative_residual < 1e-13
    if method == "svd":
        assert info.rank == J.shape[1]


def test_cgls_reaches_its_stated_tolerance(system):
    J, x, r = system
    delta, info = solve_least_squares(J, r, method="cg", tol=1e-12, max_iter=500)
    assert info.converged and info.iterations <= 500
    normal = J.T @ (r - J @ delta)
    assert float(normal.norm() / (J.T @ r).norm()) <= 1e-12
    assert float((delta - x).norm() / x.norm()) < 1e-4  # ≈ cond × tol


def test_matrix_free_cgls_matches_the_matrix(system):
    J, _, r = system
    operator = MatrixFree(lambda v: J @ v, lambda w: J.T @ w, tuple(J.shape))
    a, _ = solve_least_squares(J, r, method="cg", tol=1e-10)
    b, _ = solve_least_squares(operator, r, method="cg", tol=1e-10)
    assert torch.equal(a, b)


def test_truncated_svd_on_a_numerically_singular_hilbert_matrix():
    H = hilbert(14)  # condition number ≈ 1e18: rank deficient in float64
    x = torch.ones(14, dtype=torch.float64)
    r = H @ x
    delta, info = solve_least_squares(H, r, method="svd", rcond=1e-12)
    assert info.rank < 14
    assert float((H @ delta - r).norm() / r.norm()) < 1e-11
    assert float(delta.norm()) < 2 * float(x.norm())  # truncation keeps the step small


def test_svd_gives_the_minimum_norm_solution_of_a_rank_deficient_system():
    torch.manual_seed(0)
    A = torch.randn(30, 4, dtype=torch.float64)
    J = torch.cat([A, A[:, :2]], dim=1)  # two repeated columns: rank 4
    r = torch.randn(30, dtype=torch.float64)
    delta, info = solve_least_squares(J, r, method="svd")
    assert info.rank == 4
    assert torch.allclose(delta, torch.linalg.pinv(J) @ r, atol=1e-12)


@pytest.mark.parametrize("method", ["svd", "qr", "cg"])
def test_damping_solves_the_tikhonov_problem(method):
    torch.manual_seed(1)
    J = torch.randn(40, 8, dtype=torch.float64)
    r = torch.randn(40, dtype=torch.float64)
    damping = 0.3
    expected = torch.linalg.solve(J.T @ J + damping * torch.eye(8, dtype=torch.float64), J.T @ r)
    delta, _ = solve_least_squares(J, r, method=method, damping=damping, tol=1e-14)
    assert torch.allclose(delta, expected, atol=1e-12)


def test_streamed_qr_equals_the_direct_solve(system):
    J, _, _ = system
    r = torch.sin(torch.arange(J.shape[0], dtype=torch.float64))  # inconsistent: non-zero residual
    direct, info = solve_least_squares(J, r, method="svd", rcond=1e-14)
    blocks = zip(torch.split(J, 7), torch.split(r, 7))  # 7-row blocks are shorter than the 10 columns
    streamed, streamed_info = solve_reduced(reduce_rows(blocks), method="svd", rcond=1e-14)
    assert float((streamed - direct).norm() / direct.norm()) < 1e-8
    assert streamed_info.residual_norm == pytest.approx(info.residual_norm, rel=1e-10)
    assert streamed_info.rhs_norm == pytest.approx(float(r.norm()), rel=1e-14)


def test_unknown_method_and_qr_on_wide_systems_are_refused():
    J = torch.ones(2, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="choose one of"):
        solve_least_squares(J, torch.ones(2, dtype=torch.float64), method="lu")
    with pytest.raises(ValueError, match="damping > 0"):
        solve_least_squares(J, torch.ones(2, dtype=torch.float64), method="qr")


@pytest.mark.parametrize("shape", [(40, 8), (8, 40)])
@pytest.mark.parametrize("scale_columns", [False, True])
def test_gram_system_solves_the_scaled_damped_problem(shape, scale_columns):
    """Primal (tall) and kernel (wide) forms against the closed form, for the kept and for another rhs."""
    torch.manual_seed(2)
    J = torch.randn(*shape, dtype=torch.float64) * torch.logspace(0, 3, shape[1], dtype=torch.float64)
    r, other = torch.randn(2, shape[0], dtype=torch.float64)
    system = GramSystem.factor(J, r, scale_columns=scale_columns)
    S = system.scale
    A = (J * S).T @ (J * S) + 0.3 * torch.eye(shape[1], dtype=torch.float64)
    for rhs in (r, other):
        delta, info = system.solve(0.3, None if rhs is r else rhs)
        assert torch.allclose(delta, S * torch.linalg.solve(A, (J * S).T @ rhs), rtol=0, atol=1e-10)
        assert info.residual_norm == pytest.approx(float((rhs - J @ delta).norm()), rel=1e-9)
    blocks = zip(torch.split(J, 7), torch.split(r, 7))
    if shape[0] > shape[1]:
        streamed, _ = GramSystem.accumulate(blocks, scale_columns=scale_columns).solve(0.3)
        assert torch.allclose(streamed, system.solve(0.3)[0], rtol=0, atol=1e-12)
    assert torch.allclose(
        solve_least_squares(J, r, "cholesky", damping=0.3)[0],
        torch.linalg.solve(J.T @ J + 0.3 * torch.eye(shape[1], dtype=torch.float64), J.T @ r),
        rtol=0,
        atol=1e-10,
    )
