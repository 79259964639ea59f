"""DCDM's learned search directions: a CNN approximating ``A⁻¹ r`` on the grid (Kaneda et al., ICML 2023).

The network sees the residual of the Jacobi-scaled system ``Â = D^-1/2 A D^-1/2`` (``r̂ = D^-1/2 r``, scaled
to unit RMS) beside the 3^d stencil coefficients of ``Â`` and returns ``d̂ ≈ Â⁻¹ r̂``; the direction for ``A``
is ``d = D^-1/2 d̂``. It is trained, as in the paper, for the best step along its output: the loss
``1 - (d̂ᵀr̂)² / ((d̂ᵀÂd̂)(r̂ᵀÂ⁻¹r̂))`` is the fraction of the ``Â``-norm error that a line search along ``d̂``
leaves (0 for the exact inverse), on residuals ``r̂ = Â^(1-k) ξ`` (``k = 0, 1, 2``, ξ white noise) that weigh
the low eigenvalues as CG's late residuals do. The network is nonlinear, so it runs inside flexible CG or the
deep conjugate-direction loop of :mod:`pdesolve.learned.conjugate_directions`; one application is one
U-Net pass (a few SpMVs' worth of memory traffic on a GPU).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.linalg import splu
from torch import nn

from pdesolve.learned.stencils import box_stencils
from pdesolve.learned.systems import GridSystem, jacobi_scaled
from pdesolve.learned.unet import UNet
from pdesolve.linalg.system import csr_tensor
from pdesolve.runtime import synchronize


class DirectionNetwork(nn.Module):
    """``d̂ = f(r̂, stencils of Â)`` on a grid; equivariant to the scale of ``r̂``."""

    def __init__(self, dim: int, width: int = 16, levels: int = 4) -> None:
        super().__init__()
        self.dim = dim
        self.net = UNet(dim, 1 + 3**dim, width, levels)

    def forward(self, r: torch.Tensor, stencils: torch.Tensor) -> torch.Tensor:
        """``r`` of shape ``(k, *grid)``, ``stencils`` ``(3^d, *grid)`` → directions ``(k, *grid)``."""
        scale = r.flatten(1).pow(2).mean(1).sqrt().clamp_min(1e-30).reshape((-1,) + (1,) * self.dim)
        features = torch.cat([(r / scale)[:, None], stencils.expand(r.shape[0], *stencils.shape)], dim=1)
        return self.net(features)[:, 0] * scale


@dataclass
class DirectionSample:
    """A member: ``Â`` (torch CSR), its stencils, and residuals with their errors ``Â e = r`` (columns)."""

    matrix: torch.Tensor
    stencils: torch.Tensor
    shape: tuple[int, ...]
    r: torch.Tensor
    e: torch.Tensor


def prepare(system: GridSystem, pairs: int, rng: np.random.Generator, device: torch.device) -> DirectionSample:
    scaled, _ = jacobi_scaled(system.matrix)
    lu = splu(scaled.tocsc())
    noise = rng.standard_normal((system.size, pairs))
    powers = np.arange(pairs) % 3  # r = Â^(1-k) ξ, e = Â^(-k) ξ
    e = noise.copy()
    for k in (1, 2):
        e[:, powers >= k] = lu.solve(e[:, powers >= k])
    r = scaled @ e
    norms = np.linalg.norm(r, axis=0)

    def tensor(array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(array, dtype=torch.float32, device=device)

    stencils = tensor(box_stencils(scaled, system.shape))
    return DirectionSample(
        csr_tensor(scaled, device, torch.float32), stencils, system.shape, tensor(r / norms), tensor(e / norms)
    )


def loss(model: DirectionNetwork, sample: DirectionSample) -> torch.Tensor:
    """The mean fraction of ``Â``-norm error left by a line search along the network's directions."""
    k = sample.r.shape[1]
    d = model(sample.r.T.reshape((k, *sample.shape)), sample.stencils).reshape(k, -1).T
    Ad = sample.matrix @ d
    gain = (d * sample.r).sum(0).pow(2) / ((d * Ad).sum(0) * (sample.r * sample.e).sum(0)).clamp_min(1e-30)
    return (1.0 - gain).mean()


class NeuralPreconditioner:
    """``z = D^-1/2 f(D^-1/2 r)``: a nonlinear preconditioner for flexible CG or the DCDM loop."""

    capturable = False
    flexible = True

    def __init__(
        self, model: DirectionNetwork, matrix: sp.csr_matrix, shape: tuple[int, ...], device: torch.device
    ) -> None:
        start = time.perf_counter()
        self.model = model.to(device).eval()
        self.shape, self.device = shape, torch.device(device)
        scaled, diagonal = jacobi_scaled(matrix)
        parameter = next(model.parameters())
        self.stencils = torch.as_tensor(box_stencils(scaled, shape), dtype=parameter.dtype, device=self.device)
        self.inverse_root = torch.as_tensor(1.0 / np.sqrt(diagonal), dtype=parameter.dtype, device=self.device)
        self.setup_time = time.perf_counter() - start
        self.inference_time = 0.0  # accumulated over applications (synchronised on CUDA)
        self.applications = 0

    def apply(self, r: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        start = time.perf_counter()
        columns = r.reshape(r.shape[0], -1).T.to(self.inverse_root.dtype) * self.inverse_root
        with torch.no_grad():
            d = self.model(columns.reshape((-1, *self.shape)), self.stencils).reshape(columns.shape[0], -1)
        z = (d * self.inverse_root).T.reshape(r.shape).to(r.dtype)
        synchronize(self.device)
        self.inference_time += time.perf_counter() - start
        self.applications += 1
        return z if out is None else out.copy_(z)

    def describe(self) -> dict[str, Any]:
        return {"learned": "dcdm", "inference_time": self.inference_time, "network_applications": self.applications}
