"""The triton kernels against their torch paths, in triton's CPU interpreter (skipped without triton)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import numpy as np, torch
from pdesolve.linalg import kernels
from pdesolve.linalg.box_stencil import BoxStencil
from pdesolve.linalg.boxmg import box_multigrid
from pdesolve.linalg.cg import cg
from pdesolve.linalg.jacobi import Jacobi
from pdesolve.linalg.stencil import StencilOperator
from pdesolve.linalg.system import _ellpack, csr_tensor
assert kernels.usable(torch.zeros(1))
rng = np.random.default_rng(0)
for shape in [(13, 11), (5, 7, 6)]:
    dim = len(shape)
    faces = [np.exp(rng.standard_normal([n + 1 if j == k else n for j, n in enumerate(shape)])) for k in range(dim)]
    star = StencilOperator.from_faces(faces, [0.1] * dim, shape)
    A = star.to_csr()
    x = torch.as_tensor(rng.standard_normal(A.shape[0]))
    values, columns = _ellpack(csr_tensor(A, "cpu", torch.float64, torch.int32))
    ell = torch.empty_like(x)
    kernels.ell_matvec(values, columns, x, ell)
    for y in (star.matvec(x), BoxStencil.from_star(star).matvec(x), ell):
        assert np.abs(y.numpy() - A @ x.numpy()).max() <= 1e-13 * np.abs(A @ x.numpy()).max()
    b = torch.as_tensor(rng.standard_normal(A.shape[0]))
    M = box_multigrid(star, BoxStencil.from_star(star), star, coarse_size=20)
    for P in (None, Jacobi(star), M):
        fused, plain = cg(star, b, P, tol=1e-10), cg(star, b[:, None], P, tol=1e-10)
        assert fused.converged and abs(fused.iterations - plain.iterations) <= 1
        assert np.abs(fused.x.numpy() - plain.x[:, 0].numpy()).max() <= 1e-8 * np.abs(plain.x.numpy()).max()
print("ok")
"""


def test_triton_kernels_in_the_interpreter() -> None:
    pytest.importorskip("triton")
    environment = {**os.environ, "TRITON_INTERPRET": "1"}
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=environment, cwd=root, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]
