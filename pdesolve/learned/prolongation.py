"""Learned prolongation stencils for geometric multigrid on box grids (after Greenfeld, Galun, Basri, Yavneh &
Kimmel, "Learning to optimize multigrid PDE solvers", ICML 2019).

Coarse node ``c`` sits on fine node ``2c + 1`` of the interior box (``m`` odd per axis → ``(m - 1) / 2``
coarse nodes). A fine node interpolates from the coarse nodes of its cell: one per axis where its index is
odd, two where it is even, so ``2^(number of even axes)`` parents as in (bi/tri)linear interpolation. A CNN
reads the 3^d stencil coefficients of the Jacobi-scaled operator around every fine node and gives logits for
its ``2^d`` cell corners. Two bases for what the logits change:

- ``linear``: a softmax over the valid corners gives weights that sum to one (constants are interpolated
  exactly) and the untrained network (zero output layer) gives exactly linear interpolation. Parents on the
  Dirichlet boundary are dropped, as in :func:`pdesolve.linalg.multigrid.grid_prolongation`.
- ``black-box``: the weights are Dendy's operator-dependent ones (:mod:`pdesolve.linalg.boxmg`, what the
  classical ``mg`` uses) plus ``s_i (softmax(logits)_κ - 1 / k_i)`` over the ``k_i`` parents of fine node ``i``
  inside the box, ``s_i`` the sum of its black-box weights: every row keeps its sum, and the untrained network
  gives exactly black-box interpolation.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from pdesolve.learned.stencils import box_stencils
from pdesolve.learned.systems import jacobi_scaled
from pdesolve.learned.unet import CONV
from pdesolve.linalg.boxmg import interpolation_weights

BASES = ("linear", "black-box")


def coarsenable(shape: tuple[int, ...]) -> bool:
    return all(m % 2 == 1 and m >= 3 for m in shape)


def coarse_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple((m - 1) // 2 for m in shape)


class ProlongationNetwork(nn.Module):
    """Scaled stencils (3^d values, their log-magnitudes), the log-diagonal and node parities → 2^d logits.

    The diagonal matters: interpolation is not invariant under ``A → D A D`` while ``Â`` is.
    """

    def __init__(self, dim: int, width: int = 32, layers: int = 3, base: str = "linear") -> None:
        super().__init__()
        if base not in BASES:
            raise ValueError(f"prolongation base {base!r}: choose one of {', '.join(BASES)}")
        self.dim, self.base = dim, base
        channels = [2 * 3**dim + 1 + dim] + [width] * (layers - 1)
        body: list[nn.Module] = []
        for inputs, outputs in zip(channels[:-1], channels[1:]):
            body += [CONV[dim](inputs, outputs, 3, padding=1), nn.GELU()]
        self.body = nn.Sequential(*body)
        self.out = CONV[dim](width, 2**dim, 1)
        nn.init.zeros_(self.out.weight)  # start from the base interpolation
        nn.init.zeros_(self.out.bias)

    def forward(self, stencils: torch.Tensor, log_diagonal: torch.Tensor, parity: torch.Tensor) -> torch.Tensor:
        logs = torch.log10(stencils.abs() + 1e-8) / 8.0
        features = torch.cat([stencils, logs, log_diagonal[None], parity])
        return self.out(self.body(features[None]))[0]


def prolongation_entries(
    model: ProlongationNetwork, matrix: sp.spmatrix, shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, torch.Tensor, tuple[int, ...]]:
    """COO ``(rows, cols, weights, coarse shape)`` of ``P`` for ``matrix`` on the box ``shape``.

    ``weights`` carries the network's gradient; the network runs on the device of its parameters.
    """
    parameter = next(model.parameters())
    scaled, diagonal = jacobi_scaled(sp.csr_matrix(matrix))
    stencils = torch.as_tensor(box_stencils(scaled, shape), dtype=parameter.dtype, device=parameter.device)
    log_diagonal = np.log10(diagonal) - np.log10(diagonal).mean()
    log_diagonal = torch.as_tensor(log_diagonal.reshape(shape), dtype=parameter.dtype, device=parameter.device)
    index = np.indices(shape)
    even = index % 2 == 0
    parity = torch.as_tensor(even, dtype=parameter.dtype, device=parameter.device)
    logits = model(stencils, log_diagonal / 4.0, parity).reshape(2**model.dim, -1)
    corners = np.array(list(itertools.product((0, 1), repeat=model.dim)))  # (2^d, d)
    # corner κ is a parent where every axis with κ_k = 1 has an even fine index
    allowed = np.stack([np.all([even[k] | (corner[k] == 0) for k in range(model.dim)], axis=0) for corner in corners])
    allowed = allowed.reshape(len(corners), -1)
    small = coarse_shape(shape)
    base = (index - 1) // 2  # the lower cell corner, per axis
    parents = base.reshape(model.dim, 1, -1) + corners.T[:, :, None]  # (d, 2^d, fine)
    inside = allowed & np.all((parents >= 0) & (parents < np.array(small)[:, None, None]), axis=0)
    if model.base == "linear":
        weights = torch.softmax(logits.masked_fill(~torch.as_tensor(allowed, device=parameter.device), -torch.inf), 0)
    else:
        mask = torch.as_tensor(inside, device=parameter.device)
        start = torch.as_tensor(black_box_weights(matrix, shape, parents, inside), device=parameter.device)
        shares = torch.softmax(logits.double().masked_fill(~mask, -torch.inf), 0) - mask / mask.sum(0)
        weights = start + start.sum(0) * shares.masked_fill(~mask, 0.0)
    corner_id, fine = np.nonzero(inside)
    cols = np.ravel_multi_index(tuple(parents[:, corner_id, fine]), small)
    keep = torch.as_tensor(corner_id * weights.shape[1] + fine, device=parameter.device)
    return fine, cols, weights.reshape(-1)[keep].double(), small


def black_box_weights(
    matrix: sp.spmatrix, shape: tuple[int, ...], parents: np.ndarray, inside: np.ndarray
) -> np.ndarray:
    """Dendy's weight of each cell corner (``parents``: (d, 2^d, fine) coarse indices) for every fine node, zero
    where the corner is not a parent inside the box."""
    W = interpolation_weights(torch.as_tensor(box_stencils(matrix, shape), dtype=torch.float64)).numpy()
    dim = len(shape)
    fine_index = np.indices(shape).reshape(dim, 1, -1)
    offset = fine_index - (2 * parents + 1)  # where the fine node sits from its parent, per axis: -1, 0 or 1
    corner_id, fine = np.nonzero(inside)
    numbers = np.ravel_multi_index(tuple(offset[:, corner_id, fine] + 1), (3,) * dim)  # offset_index, vectorised
    weights = np.zeros(inside.shape)
    weights[corner_id, fine] = W[(numbers, *parents[:, corner_id, fine])]
    return weights


def learned_prolongation(
    model: ProlongationNetwork, matrix: sp.spmatrix, shape: tuple[int, ...]
) -> tuple[sp.csr_matrix, tuple[int, ...]]:
    """``P`` as a float64 scipy matrix (inference, no gradient) and the coarse box."""
    with torch.no_grad():
        rows, cols, weights, small = prolongation_entries(model, matrix, shape)
    size = (int(np.prod(shape)), int(np.prod(small)))
    return sp.csr_matrix((weights.cpu().numpy(), (rows, cols)), shape=size), small
