"""Matrix-free Gauss–Newton: Jacobian–vector products against the dense Jacobian, CGLS steps against the
dense solves, and every system behind the one ``solve(damping)`` interface."""

import pytest
import torch

from pdesolve.ngd import (
    FlatModule,
    GramSystem,
    LeastSquaresSystem,
    MatrixFreeSystem,
    ReducedSystem,
    SVDSystem,
    function_operator,
    graph_operator,
    jacobian,
    reduce_rows,
)
from pdesolve.ngd.residual_jacobian import residual_jacobian


def small_network(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(2, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1)).double()


def points(n: int = 40) -> torch.Tensor:
    return torch.rand(n, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def pde_residual(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``u_xx + u_yy + u³`` by autograd input derivatives (create_graph): a graph torch.func cannot trace."""
    x = x.clone().requires_grad_(True)
    u = net(x)[:, 0]
    (grad,) = torch.autograd.grad(u.sum(), x, create_graph=True)
    laplacian = sum(torch.autograd.grad(grad[:, k].sum(), x, create_graph=True)[0][:, k] for k in range(2))
    return laplacian + u**3


def test_function_operator_products_equal_the_dense_jacobian():
    """``J v`` (torch.func.jvp) and ``Jᵀw`` (vjp) of a network's values against ``jacobian`` to 1e-13."""
    fn, x = FlatModule(small_network()), points()
    theta = fn.theta0
    operator = function_operator(lambda t: fn(t, x)[:, 0], theta)
    J = jacobian(lambda t, p: fn(t, p)[:, 0], theta, x)
    generator = torch.Generator().manual_seed(2)
    v = torch.randn(theta.numel(), generator=generator, dtype=torch.float64)
    w = torch.randn(len(x), generator=generator, dtype=torch.float64)
    assert operator.shape == tuple(J.shape)
    torch.testing.assert_close(operator.matvec(v), J @ v, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(operator.rmatvec(w), J.T @ w, rtol=1e-13, atol=1e-13)


def test_graph_operator_products_equal_the_double_backward_jacobian():
    """The PINN route: products through a residual holding input derivatives, against its dense Jacobian."""
    net = small_network()
    params = list(net.parameters())
    r = pde_residual(net, points())
    J = residual_jacobian(r, params)
    operator = graph_operator(r, params)
    generator = torch.Generator().manual_seed(3)
    v = torch.randn(J.shape[1], generator=generator, dtype=torch.float64)
    w = torch.randn(J.shape[0], generator=generator, dtype=torch.float64)
    torch.testing.assert_close(operator.matvec(v), J @ v, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(operator.rmatvec(w), J.T @ w, rtol=1e-12, atol=1e-12)
    # adjointness ⟨J v, w⟩ = ⟨v, Jᵀ w⟩ (the gradcheck identity) without any dense matrix
    assert abs(float(operator.matvec(v) @ w - v @ operator.rmatvec(w))) <= 1e-12 * float(J.abs().sum())


@pytest.mark.parametrize("damping", [1e-6, 1e-2])
def test_matrix_free_step_equals_the_dense_steps(damping):
    """CGLS on products gives the damped Gauss–Newton step of the dense Cholesky and SVD solves to 1e-8."""
    net = small_network()
    params = list(net.parameters())
    r = pde_residual(net, points())
    J, rhs = residual_jacobian(r, params), r.detach()
    system = MatrixFreeSystem(graph_operator(r, params), rhs, tol=1e-15, max_iter=2000)
    delta, info = system.solve(damping)
    gram, _ = GramSystem.factor(J, rhs).solve(damping)
    svd, _ = SVDSystem.factor(J, rhs, rcond=0.0).solve(damping)
    assert info.iterations < 2000
    assert float((delta - gram).norm() / gram.norm()) <= 1e-8
    assert float((delta - svd).norm() / svd.norm()) <= 1e-8
    # Hutchinson's ‖J‖²_F / m (8 probes) within a factor of 2 of the exact one
    assert 0.5 < system.unit / (float(J.square().sum()) / J.shape[1]) < 2


def test_every_system_solves_the_same_damped_problem_and_predicts_its_decrease():
    """One interface: the same damped step from the Gram, SVD, reduced (QR) and matrix-free systems, and the
    predicted ``‖r‖² - ‖r - ηJδ‖²`` of each equal to the one computed from ``J``."""
    J = torch.randn(50, 12, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    r = torch.randn(50, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    operator = function_operator(lambda t: J @ t, torch.zeros(12, dtype=torch.float64))
    systems = {
        "gram": GramSystem.factor(J, r),
        "svd": SVDSystem.factor(J, r),
        "qr": ReducedSystem.of(J, r),
        "streamed": reduce_rows(zip(J.split(16), r.split(16))),
        "cg": MatrixFreeSystem(operator, r, tol=1e-14),
    }
    damping = 0.3
    expected = torch.linalg.solve(J.T @ J + damping * torch.eye(12, dtype=torch.float64), J.T @ r)
    unit = float(J.square().sum()) / 12
    for name, system in systems.items():
        assert isinstance(system, LeastSquaresSystem), name
        delta, info = system.solve(damping)
        torch.testing.assert_close(delta, expected, rtol=1e-10, atol=1e-12, msg=name)
        for eta in (1.0, 0.5) if info.r_dot_jd is not None else (1.0,):
            actual = float(r.square().sum() - (r - eta * J @ delta).square().sum())
            assert abs(info.predicted_decrease(eta) - actual) <= 1e-10 * float(r.square().sum()), (name, eta)
        if name != "cg":
            assert abs(system.unit - unit) <= 1e-12 * unit, name
