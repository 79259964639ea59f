"""Black-box multigrid on box stencils: exact Galerkin stencils, grid-independent and contrast-robust PCG."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pdesolve.errors import NotApplicableError
from pdesolve.linalg.box_stencil import BoxStencil
from pdesolve.linalg.boxmg import BoxTransfer, box_multigrid, galerkin, interpolation_weights
from pdesolve.linalg.cg import cg
from pdesolve.linalg.jacobi import Jacobi
from pdesolve.linalg.stencil import StencilOperator
from tests.linalg.conftest import diffusion


def _random_diffusion(shape: tuple[int, ...], seed: int = 0) -> StencilOperator:
    rng = np.random.default_rng(seed)
    dim = len(shape)
    faces = [np.exp(2 * rng.standard_normal([n + 1 if j == k else n for j, n in enumerate(shape)])) for k in range(dim)]
    return StencilOperator.from_faces(faces, [0.1] * dim, shape)


@pytest.mark.parametrize("shape", [(9,), (8,), (9, 8), (6, 7, 5)])
def test_probed_galerkin_stencil_equals_the_triple_product(shape: tuple[int, ...]) -> None:
    star = _random_diffusion(shape)
    A = star.to_csr().toarray()
    transfer = BoxTransfer(interpolation_weights(BoxStencil.from_star(star).coefficients64), shape, torch.float64)
    coarse = int(np.prod(transfer.coarse_shape))
    P = transfer.prolong(torch.eye(coarse, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(transfer.restrict(torch.eye(A.shape[0], dtype=torch.float64)).numpy(), P.T)
    expected = P.T @ A @ P
    probed = galerkin(star, transfer, torch.float64).to_csr().toarray()
    assert np.abs(probed - expected).max() <= 1e-13 * np.abs(expected).max()
    # constant coefficients: interior weights are those of (bi/tri)linear interpolation
    poisson = StencilOperator.from_faces([1.0] * len(shape), [0.1] * len(shape), shape)
    W = interpolation_weights(BoxStencil.from_star(poisson).coefficients64)
    assert W.max() == 1.0 and np.isclose(W[W > 0].min().item(), 0.5 ** len(shape), rtol=0.7)


def test_box_stencil_from_csr_and_refusal() -> None:
    star = _random_diffusion((6, 5, 4), seed=1)
    A = star.to_csr()
    tensors = [torch.as_tensor(a) for a in (A.indptr, A.indices, A.data)]
    box = BoxStencil.from_csr(*tensors, (6, 5, 4), torch.float64)
    assert abs(box.to_csr() - A).max() == 0
    x = torch.as_tensor(np.random.default_rng(2).standard_normal((A.shape[0], 2)))
    np.testing.assert_allclose(box.matvec(x).numpy(), A @ x.numpy(), rtol=1e-13, atol=1e-12)
    wide = (A @ A).tocsr()
    with pytest.raises(NotApplicableError, match="not grid neighbours"):
        BoxStencil.from_csr(
            *(torch.as_tensor(a) for a in (wide.indptr, wide.indices, wide.data)), (6, 5, 4), torch.float64
        )


def _iterations(star: StencilOperator, coarse_size: int = 64) -> int:
    M = box_multigrid(star, BoxStencil.from_star(star), star, coarse_size=coarse_size)
    result = cg(star, torch.ones(star.shape[0], dtype=torch.float64), M, tol=1e-8)
    assert result.converged and result.residual <= 1e-8
    return result.iterations


def test_box_mg_pcg_is_grid_independent_and_robust_to_contrast() -> None:
    poisson = [_iterations(StencilOperator.from_faces([1.0, 1.0], [1 / (m + 1)] * 2, (m, m))) for m in (31, 64, 127)]
    assert max(poisson) - min(poisson) <= 2 and max(poisson) <= 10, poisson
    darcy = [_iterations(diffusion(nodes, low=1e-4)) for nodes in (33, 65, 129)]  # contrast 1e4 on 8×8 blocks
    assert max(darcy) <= 2 * max(poisson), (darcy, poisson)
    cube = _iterations(StencilOperator.from_faces([1.0] * 3, [1 / 24] * 3, (23, 23, 23)))
    assert cube <= 10


def test_box_v_cycle_is_symmetric_positive_definite() -> None:
    star = diffusion(17, low=1e-2)
    M = box_multigrid(star, BoxStencil.from_star(star), star, smoother="jacobi", coarse_size=10)
    assert len(M.sizes) >= 3
    dense = M.apply(torch.eye(star.shape[0], dtype=torch.float64)).numpy()
    assert np.abs(dense - dense.T).max() <= 1e-12 * np.abs(dense).max()
    assert np.linalg.eigvalsh((dense + dense.T) / 2)[0] > 0


def test_blocked_convergence_checks_freeze_converged_columns() -> None:
    star = diffusion(33, low=1e-2)
    b = torch.as_tensor(np.random.default_rng(3).standard_normal((star.shape[0], 2)))
    every = cg(star, b, Jacobi(star), tol=1e-9, check_every=1)
    blocked = cg(star, b, Jacobi(star), tol=1e-9, check_every=32)  # runs past convergence inside a block
    assert blocked.iterations == every.iterations and blocked.converged
    assert len(blocked.history) == blocked.iterations + 1
    np.testing.assert_allclose(blocked.x.numpy(), every.x.numpy(), rtol=0, atol=1e-14 * np.abs(every.x.numpy()).max())
