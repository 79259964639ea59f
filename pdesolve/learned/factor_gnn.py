"""A graph network that predicts a sparse Cholesky-like factor (Li, Chen, Du & Matusik, ICML 2023).

The network reads the graph of the Jacobi-scaled matrix ``Â = D^-1/2 A D^-1/2`` (nodes: unknowns; edges:
its off-diagonal nonzeros) and outputs ``L̂`` on the lower triangle of ``Â``'s pattern with a softplus
diagonal, so ``M = D^1/2 L̂ L̂ᵀ D^1/2`` is symmetric positive definite by construction and plain CG applies.
Li et al. train on ``||L̂ L̂ᵀ x - b||²`` over solution pairs; on the contrast-1e4 Darcy family that loss fell
while CG's iterations rose from 45 (the untrained factor) to 184, because the smooth solutions' scale dominates
it. So training here minimises a two-sided estimate of ``M⁻¹A``'s distance to the identity over random probes
(see :func:`loss`), with dense ``L̂`` at the training size (at most :data:`DENSE_TRAINING_LIMIT` unknowns).
Applying ``M⁻¹`` costs two sparse triangular solves: SuperLU's on the CPU, cuSPARSE's
(``torch.triangular_solve``) on CUDA, where they are level-scheduled and sequential: as slow per
iteration as IC(0) there (tens of ms at 1M unknowns), so this preconditioner is a CPU method.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.linalg import splu
from torch import nn

from pdesolve.errors import PdesolveError
from pdesolve.learned.systems import GridSystem, jacobi_scaled
from pdesolve.linalg.system import csr_tensor, storage_name

SOFTPLUS_ONE = math.log(math.e - 1.0)  # softplus(SOFTPLUS_ONE) = 1


def mlp(inputs: int, hidden: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, hidden), nn.GELU(), nn.Linear(hidden, outputs))


@dataclass
class MatrixGraph:
    """Tensors of the graph of ``Â``: directed off-diagonal edges and node features."""

    size: int
    source: torch.Tensor
    target: torch.Tensor
    edge_values: torch.Tensor  # â_ij
    node_features: torch.Tensor  # (1, row sum of Â)
    lower: torch.Tensor  # indices of the edges with target > source: the strict lower triangle (row target)


def matrix_graph(scaled: sp.csr_matrix, device: torch.device, dtype: torch.dtype) -> MatrixGraph:
    coo = sp.coo_matrix(scaled)
    off = coo.row != coo.col
    target, source, values = coo.row[off], coo.col[off], coo.data[off]
    row_sum = np.asarray(scaled.sum(axis=1)).ravel()
    nodes = np.stack([np.ones_like(row_sum), row_sum], axis=1)

    def tensor(array: np.ndarray, kind: torch.dtype = dtype) -> torch.Tensor:
        return torch.as_tensor(array, dtype=kind, device=device)

    return MatrixGraph(
        scaled.shape[0],
        tensor(source, torch.long),
        tensor(target, torch.long),
        tensor(values)[:, None],
        tensor(nodes),
        tensor(np.nonzero(target > source)[0], torch.long),
    )


class FactorNetwork(nn.Module):
    """Edge/node message passing (``layers`` rounds of width ``hidden``) → the entries of ``L̂``."""

    def __init__(self, hidden: int = 16, layers: int = 3) -> None:
        super().__init__()
        self.edge_in, self.node_in = nn.Linear(1, hidden), nn.Linear(2, hidden)
        self.edge_updates = nn.ModuleList([mlp(3 * hidden, hidden, hidden) for _ in range(layers)])
        self.node_updates = nn.ModuleList([mlp(2 * hidden, hidden, hidden) for _ in range(layers)])
        self.off_out, self.diagonal_out = nn.Linear(hidden, 1), nn.Linear(hidden, 1)
        for layer in (self.off_out, self.diagonal_out):  # start from L̂ = I + tril(Â)
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, graph: MatrixGraph) -> tuple[torch.Tensor, torch.Tensor]:
        """``(diagonal of L̂, its strict-lower entries on graph.lower)``."""
        e, h = self.edge_in(graph.edge_values), self.node_in(graph.node_features)
        for edge_update, node_update in zip(self.edge_updates, self.node_updates):
            e = e + edge_update(torch.cat([e, h[graph.source], h[graph.target]], dim=1))
            gathered = torch.zeros_like(h).index_add_(0, graph.target, e)
            h = h + node_update(torch.cat([h, gathered], dim=1))
        diagonal = nn.functional.softplus(self.diagonal_out(h)[:, 0] + SOFTPLUS_ONE) + 1e-3
        # a residual on L̂ = I + tril(Â): the untrained factor is symmetric Gauss-Seidel's
        off = self.off_out(e[graph.lower])[:, 0] + graph.edge_values[graph.lower, 0]
        return diagonal, off


DENSE_TRAINING_LIMIT = 5000  # unknowns: training forms L̂, Â and Â⁻¹ densely


def dense_factor(graph: MatrixGraph, diagonal: torch.Tensor, off: torch.Tensor) -> torch.Tensor:
    """``L̂`` as a dense matrix, differentiable in its entries."""
    rows = torch.cat([torch.arange(graph.size, device=diagonal.device), graph.target[graph.lower]])
    cols = torch.cat([torch.arange(graph.size, device=diagonal.device), graph.source[graph.lower]])
    zeros = torch.zeros(graph.size, graph.size, dtype=diagonal.dtype, device=diagonal.device)
    return zeros.index_put((rows, cols), torch.cat([diagonal, off]))


@dataclass
class FactorSample:
    """A training member: its graph, ``Â`` and ``Â⁻¹`` (dense) and random probe vectors (columns)."""

    graph: MatrixGraph
    matrix: torch.Tensor
    inverse: torch.Tensor
    probes: torch.Tensor


def prepare(system: GridSystem, pairs: int, rng: np.random.Generator, device: torch.device) -> FactorSample:
    if system.size > DENSE_TRAINING_LIMIT:
        raise PdesolveError(
            f"the graph network trains on at most {DENSE_TRAINING_LIMIT} unknowns (dense), not {system.size}; "
            "train at a smaller size: the network applies to larger grids"
        )
    scaled, _ = jacobi_scaled(system.matrix)
    dense = scaled.toarray()

    def tensor(array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(array, dtype=torch.float32, device=device)

    probes = rng.standard_normal((system.size, pairs))
    graph = matrix_graph(scaled, device, torch.float32)
    return FactorSample(
        graph, tensor(dense), tensor(np.linalg.inv(dense)), tensor(probes / np.linalg.norm(probes, axis=0))
    )


def loss(model: FactorNetwork, sample: FactorSample) -> torch.Tensor:
    """``||(L̂⁻¹ Â L̂⁻ᵀ - I) z||² + ||(L̂ᵀ Â⁻¹ L̂ - I) z||²`` for unit probes ``z``, averaged.

    Both sides of the preconditioned spectrum: the first term penalises eigenvalues of ``M⁻¹A`` away from
    one, mostly large ones; the second, small ones, which set CG's iteration count.
    """
    L = dense_factor(sample.graph, *model(sample.graph))
    z = sample.probes
    upper = torch.linalg.solve_triangular(L.T, z, upper=True)
    forward = torch.linalg.solve_triangular(L, sample.matrix @ upper, upper=False) - z
    backward = L.T @ (sample.inverse @ (L @ z)) - z
    return (forward.pow(2).sum(0) + backward.pow(2).sum(0)).mean()


def lower_factor(model: FactorNetwork, matrix: sp.csr_matrix) -> sp.csr_matrix:
    """``L = D^1/2 L̂`` (float64, CSR) for ``matrix``: one forward pass on the CPU."""
    scaled, diagonal = jacobi_scaled(matrix)
    graph = matrix_graph(scaled, torch.device("cpu"), torch.float32)
    with torch.no_grad():
        values, off = (t.double().numpy() for t in model(graph))
    rows, cols = graph.target[graph.lower].numpy(), graph.source[graph.lower].numpy()
    n = matrix.shape[0]
    factor = sp.csr_matrix(
        (np.concatenate([values, off]), (np.concatenate([np.arange(n), rows]), np.concatenate([np.arange(n), cols]))),
        shape=(n, n),
    )
    return (sp.diags(np.sqrt(diagonal)) @ factor).tocsr()


class HostTriangular:
    """``L⁻ᵀ L⁻¹ r`` by SuperLU's triangular solves on the host."""

    def __init__(self, factor: sp.csr_matrix, device: torch.device, dtype: torch.dtype) -> None:
        # LU of a triangular matrix in natural order without pivoting is the matrix itself
        self.lu = splu(factor.tocsc(), permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True})

    def __call__(self, r: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.lu.solve(self.lu.solve(r.double().numpy()), trans="T")).to(r.dtype)


class DeviceTriangular:
    """``L⁻ᵀ L⁻¹ r`` by torch's sparse triangular solves on the device (cuSPARSE on CUDA, MKL on the CPU)."""

    def __init__(self, factor: sp.csr_matrix, device: torch.device, dtype: torch.dtype) -> None:
        self.lower = csr_tensor(factor, device, dtype)
        self.upper = csr_tensor(factor.T.tocsr(), device, dtype)

    def __call__(self, r: torch.Tensor) -> torch.Tensor:
        column = r if r.dim() == 2 else r[:, None]
        y = torch.triangular_solve(column, self.lower, upper=False).solution
        return torch.triangular_solve(y, self.upper, upper=True).solution.reshape(r.shape)


TRIANGULAR_SOLVES: dict[str, type[HostTriangular] | type[DeviceTriangular]] = {
    "scipy": HostTriangular,
    "torch": DeviceTriangular,
}  # by the names of the sparse storages (pdesolve.linalg.system.STORAGES), chosen by the same rule


class FactorPreconditioner:
    """``z = L⁻ᵀ L⁻¹ r``: SuperLU triangular solves on the CPU, torch's sparse ones (cuSPARSE) elsewhere.

    ``backend="torch"`` forces torch's solves on the CPU as well (MKL; tests use it).
    """

    capturable = False
    flexible = False

    def __init__(
        self,
        factor: sp.csr_matrix,
        device: torch.device,
        dtype: torch.dtype,
        inference_time: float,
        backend: str | None = None,
    ) -> None:
        self.device, self.dtype, self.inference_time = torch.device(device), dtype, inference_time
        self.solves = TRIANGULAR_SOLVES[storage_name(self.device, backend)](factor, self.device, dtype)

    def apply(self, r: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        z = self.solves(r)
        return z if out is None else out.copy_(z)

    def describe(self) -> dict[str, Any]:
        return {"learned": "gnn", "inference_time": self.inference_time}


def factor_preconditioner(
    model: FactorNetwork, matrix: sp.csr_matrix, device: torch.device, dtype: torch.dtype
) -> FactorPreconditioner:
    start = time.perf_counter()
    factor = lower_factor(model, matrix)
    return FactorPreconditioner(factor, device, dtype, time.perf_counter() - start)
