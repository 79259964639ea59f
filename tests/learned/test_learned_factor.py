"""The graph network's factor: SPD preconditioner by construction, both triangular-solve backends agree."""

import numpy as np
import torch

from pdesolve.learned import factor_gnn
from pdesolve.learned.systems import family_systems
from pdesolve.linalg.cg import cg
from pdesolve.linalg.jacobi import Jacobi
from pdesolve.linalg.system import SparseOperator


def random_network() -> factor_gnn.FactorNetwork:
    """A network with random (non-zero) output layers: an arbitrary factor, not the identity start."""
    torch.manual_seed(1)
    model = factor_gnn.FactorNetwork(hidden=8, layers=2)
    for layer in (model.off_out, model.diagonal_out):
        torch.nn.init.normal_(layer.weight, std=0.5)
        torch.nn.init.normal_(layer.bias, std=0.5)
    return model


def test_factor_is_lower_triangular_with_the_pattern_of_a_and_llt_is_spd(darcy):
    system = family_systems(darcy, 13, [3])[0]
    L = factor_gnn.lower_factor(random_network(), system.matrix)
    assert abs(L - L.multiply(system.matrix != 0)).max() == 0  # within A's pattern
    dense = L.toarray()
    assert np.allclose(dense, np.tril(dense)) and np.all(np.diag(dense) > 0)
    M = dense @ dense.T
    np.linalg.cholesky(M)  # raises unless SPD
    assert np.linalg.eigvalsh(M).min() > 0


def test_cg_with_the_factor_converges_and_the_torch_solves_agree_with_superlu(darcy):
    system = family_systems(darcy, 17, [4])[0]
    operator = SparseOperator(system.matrix)
    b = torch.as_tensor(system.rhs)
    factor = factor_gnn.lower_factor(random_network(), system.matrix)
    scipy_solves = factor_gnn.FactorPreconditioner(factor, torch.device("cpu"), torch.float64, 0.0)
    torch_solves = factor_gnn.FactorPreconditioner(factor, torch.device("cpu"), torch.float64, 0.0, backend="torch")
    r = torch.randn(system.size, dtype=torch.float64)
    assert torch.allclose(scipy_solves.apply(r), torch_solves.apply(r), rtol=1e-10, atol=1e-12)
    result = cg(operator, b, scipy_solves, tol=1e-8)
    assert result.converged and result.residual <= 1e-8
    assert result.iterations < 200


def test_untrained_factor_is_symmetric_gauss_seidel(darcy):
    """The residual start L̂ = I + tril(Â): M = (D + L_A) D⁻¹ (D + L_A)ᵀ, fewer iterations than Jacobi."""
    system = family_systems(darcy, 17, [5])[0]
    L = factor_gnn.lower_factor(factor_gnn.FactorNetwork(), system.matrix).toarray()
    A = system.matrix.toarray()
    D = np.diag(np.diag(A))
    expected = (D + np.tril(A, -1)) @ np.linalg.inv(D) @ (D + np.tril(A, -1)).T
    assert np.allclose(L @ L.T, expected, rtol=5e-3, atol=1e-5 * np.abs(A).max())  # diagonal floor 1e-3
    operator, b = SparseOperator(system.matrix), torch.as_tensor(system.rhs)
    sgs = cg(
        operator, b, factor_gnn.factor_preconditioner(factor_gnn.FactorNetwork(), system.matrix, "cpu", torch.float64)
    )
    assert sgs.iterations < 0.6 * cg(operator, b, Jacobi(operator)).iterations
