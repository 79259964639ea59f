"""A graph network that predicts a sparse Cholesky-like factor (Li, Chen, Du & Matusik, ICML 2023).

The network reads the graph of the Jacobi-scaled matrix ``Â = D^-1/2 A D^-1/2`` (nodes: unknowns; edges:
its off-diagonal nonzeros) and outputs ``L̂`` on the lower triangle of ``Â``'s pattern with a softplus
diagonal, so ``M = D^1/2 L̂ L̂ᵀ D^1/2`` is symmetric positive definite by construction and plain CG applies.
Training minimises Li et al.'s loss ``||L̂ L̂ᵀ x̂ - b̂||² / ||b̂||²`` over pairs ``Â x̂ = b̂``, which only needs
sparse products. Applying ``M⁻¹`` costs two sparse triangular solves: SuperLU's on the CPU, cuSPARSE's
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

from pdesolve.learned.systems import GridSystem, jacobi_scaled
from pdesolve.linalg.system import csr_tensor

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


def factor_product(graph: MatrixGraph, diagonal: torch.Tensor, off: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``L̂ L̂ᵀ x`` for ``x`` of shape (n, k), differentiable in the entries."""
    rows, cols = graph.target[graph.lower], graph.source[graph.lower]
    y = diagonal[:, None] * x  # y = L̂ᵀ x
    y = y.index_add(0, cols, off[:, None] * x[rows])
    z = diagonal[:, None] * y  # z = L̂ y
    return z.index_add(0, rows, off[:, None] * y[cols])


@dataclass
class FactorSample:
    """A training member: its graph and pairs ``Â x̂ = b̂`` (columns)."""

    graph: MatrixGraph
    x: torch.Tensor
    b: torch.Tensor


def prepare(system: GridSystem, pairs: int, rng: np.random.Generator, device: torch.device) -> FactorSample:
    """Right-hand sides: the problem's own and white noise; solutions by sparse LU (training only)."""
    scaled, diagonal = jacobi_scaled(system.matrix)
    b = np.concatenate([(system.rhs / np.sqrt(diagonal))[:, None], rng.standard_normal((system.size, pairs - 1))], 1)
    x = splu(scaled.tocsc()).solve(b)
    norms = np.linalg.norm(b, axis=0)
    graph = matrix_graph(scaled, device, torch.float32)
    x, b = (torch.as_tensor(v / norms, dtype=torch.float32, device=device) for v in (x, b))
    return FactorSample(graph, x, b)


def loss(model: FactorNetwork, sample: FactorSample) -> torch.Tensor:
    """Li et al.'s ``||L̂ L̂ᵀ x̂ - b̂||²`` (columns of unit ``||b̂||``), averaged over the columns."""
    diagonal, off = model(sample.graph)
    return (factor_product(sample.graph, diagonal, off, sample.x) - sample.b).pow(2).sum(0).mean()


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
        self.backend = backend or ("scipy" if self.device.type == "cpu" else "torch")
        if self.backend == "scipy":
            # LU of a triangular matrix in natural order without pivoting is the matrix itself
            self.lu = splu(factor.tocsc(), permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
        else:
            self.lower = csr_tensor(factor, self.device, dtype)
            self.upper = csr_tensor(factor.T.tocsr(), self.device, dtype)

    def apply(self, r: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        if self.backend == "scipy":
            z = torch.from_numpy(self.lu.solve(self.lu.solve(r.double().numpy()), trans="T")).to(r.dtype)
        else:
            column = r if r.dim() == 2 else r[:, None]
            y = torch.triangular_solve(column, self.lower, upper=False).solution
            z = torch.triangular_solve(y, self.upper, upper=True).solution.reshape(r.shape)
        return z if out is None else out.copy_(z)

    def describe(self) -> dict[str, Any]:
        return {"learned": "gnn", "inference_time": self.inference_time}


def factor_preconditioner(
    model: FactorNetwork, matrix: sp.csr_matrix, device: torch.device, dtype: torch.dtype
) -> FactorPreconditioner:
    start = time.perf_counter()
    factor = lower_factor(model, matrix)
    return FactorPreconditioner(factor, device, dtype, time.perf_counter() - start)
