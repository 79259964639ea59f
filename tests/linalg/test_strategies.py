"""Strategies chosen once at construction instead of string tests in the core classes: the sparse storage of
``SparseOperator`` (scipy | torch), the CG's fused step per preconditioner kind, a grid's calculus (fd | spectral);
``fd``/``fem``'s CG is the torch CG, with the iteration counts of the numpy PCG it replaced."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from helpers import run_cli

from pdesolve.classical.linear_solvers import linear_method, solve_linear
from pdesolve.errors import PdesolveError
from pdesolve.linalg.cg import FusedUpdate, JacobiUpdate, UnpreconditionedUpdate, cg, fused_update
from pdesolve.linalg.jacobi import Jacobi
from pdesolve.linalg.preconditioners import make_preconditioner
from pdesolve.linalg.system import DeviceCSR, HostCSR, SparseOperator
from pdesolve.problem import Grid, GridField
from pdesolve.problem.grid_calculus import FiniteDifferences, Fourier
from tests.linalg.conftest import laplacian


def test_both_storages_agree_on_every_product():
    rng = np.random.default_rng(0)
    matrix = sp.random(40, 40, density=0.1, random_state=1, format="csr") + sp.identity(40)
    host, device = (SparseOperator(matrix, backend=name) for name in ("scipy", "torch"))
    assert isinstance(host.storage, HostCSR) and isinstance(device.storage, DeviceCSR)
    x = torch.as_tensor(rng.standard_normal((40, 3)))
    pairs = [
        (host.matvec(x), device.matvec(x)),
        (host.matvec64(x[:, 0]), device.matvec64(x[:, 0])),
        (host.diagonal(), device.diagonal()),
        (host.transpose().to_dense(), device.transpose().to_dense()),
        ((host @ host).to_dense(), (device @ device).to_dense()),
        (host.csr64().to_dense(), device.csr64().to_dense()),
    ]
    coo = sp.coo_matrix(matrix)
    triplets = [torch.as_tensor(a) for a in (coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data)]
    pairs.append(tuple(SparseOperator.from_coo(*triplets, (40, 40), like).to_dense() for like in (host, device)))
    for a, b in pairs:
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(host.to_dense().numpy(), matrix.toarray(), rtol=0, atol=0)


@pytest.mark.parametrize("precond", ["jacobi", "amg"])
def test_both_storages_give_the_same_solution(precond):
    matrix = laplacian(17)
    b = torch.as_tensor(np.sin(np.arange(matrix.shape[0])))
    results = []
    for backend in ("scipy", "torch"):
        operator = SparseOperator(matrix, backend=backend)
        M = make_preconditioner(precond, operator, matrix, coarse_size=16, backend=backend)
        results.append(cg(operator, b, M, tol=1e-12))
    scipy_run, torch_run = results
    assert scipy_run.converged and scipy_run.iterations == torch_run.iterations
    assert (scipy_run.x - torch_run.x).abs().max() <= 1e-12 * scipy_run.x.abs().max()


# counts of the numpy PCG that fd/fem used before (classical/linear_solvers.conjugate_gradient, main 6523f9a)
NUMPY_PCG_ITERATIONS = {"none": 107, "jacobi": 107, "ic0": 38}


@pytest.mark.parametrize("precond", sorted(NUMPY_PCG_ITERATIONS))
def test_fd_fem_cg_takes_the_numpy_pcg_iterations_and_the_torch_preconditioners_match(precond):
    matrix = laplacian(33)
    rhs = np.sin(np.arange(matrix.shape[0]))
    host = solve_linear(matrix, rhs, "cg", precond, tol=1e-10)  # numpy preconditioner inside the torch CG
    assert host.iterations == NUMPY_PCG_ITERATIONS[precond] and host.residual <= 1e-10
    operator = SparseOperator(matrix)
    torch_run = cg(operator, torch.as_tensor(rhs), make_preconditioner(precond, operator, matrix), tol=1e-10)
    assert torch_run.iterations == host.iterations
    assert np.abs(torch_run.x.numpy() - host.x).max() <= 1e-12 * np.abs(host.x).max()


def test_the_fused_step_is_chosen_once_per_preconditioner_kind():
    operator = SparseOperator(laplacian(9))
    jacobi = Jacobi(operator)
    chosen = [fused_update(M) for M in (None, jacobi, make_preconditioner("ic0", operator, laplacian(9)))]
    assert [type(u) for u in chosen] == [UnpreconditionedUpdate, JacobiUpdate, FusedUpdate]
    assert [(u.mode, u.rz_summed) for u in chosen] == [(0, True), (1, True), (2, False)]


def test_a_grid_resolves_its_method_to_a_calculus_once():
    fd = Grid((0.0,), (1.0,), (9,))
    spectral = Grid((0.0,), (2 * np.pi,), (16,), (True,), method="spectral")
    assert isinstance(fd.calculus, FiniteDifferences) and isinstance(spectral.calculus, Fourier)
    x = spectral.axes[0]
    u = GridField(np.sin(3 * x), spectral)
    np.testing.assert_allclose(u.derivative("x").values, 3 * np.cos(3 * x), atol=1e-12)
    np.testing.assert_allclose(u.inverse_laplacian().values, -np.sin(3 * x) / 9, atol=1e-14)
    with pytest.raises(ValueError, match=r"^grid method='chebyshev': choose one of fd, spectral$"):
        Grid((0.0,), (1.0,), (9,), method="chebyshev")
    with pytest.raises(ValueError, match="a spectral grid needs every axis periodic"):
        Grid((0.0,), (1.0,), (9,), method="spectral")
    with pytest.raises(PdesolveError, match=r"^backend='cusparse': choose one of scipy, torch$"):
        SparseOperator(laplacian(5), backend="cusparse")


def test_bad_linear_algebra_choices_are_one_line_errors(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fd = ("solve", "poisson2d", "--solver", "fd", "--set", "n=9")
    run_cli(capsys, *fd, "--set", "linsolve=cg", "--set", "precond=mgg").one_line("precond")
    run_cli(capsys, *fd, "--set", "linsolve=gmres").one_line("linsolve")
    if torch.cuda.is_available():
        run_cli(capsys, *fd, "--set", "linsolve=direct", "--device", "cuda").one_line(
            "linsolve=direct runs on the host"
        )
    else:
        with pytest.raises(PdesolveError, match="^linsolve=direct runs on the host; with --device cuda choose"):
            solve_linear(laplacian(5), np.ones(9), "direct", device="cuda")
    assert [linear_method("auto", 2, d) for d in ("cpu", "cuda")] == ["direct", "cg"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("precond", ["jacobi", "ic0", "amg"])
def test_fd_cg_on_cuda_solves_what_the_cpu_solves(precond):
    matrix = laplacian(33)
    rhs = np.sin(np.arange(matrix.shape[0]))
    cpu = solve_linear(matrix, rhs, "cg", precond, tol=1e-10)
    gpu = solve_linear(matrix, rhs, "cg", precond, tol=1e-10, device="cuda")
    assert gpu.residual <= 1e-10
    assert np.abs(gpu.x - cpu.x).max() <= 1e-8 * np.abs(cpu.x).max()
