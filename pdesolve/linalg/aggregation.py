"""Aggregation for smoothed aggregation AMG by a parallel distance-2 maximal independent set, in torch.

Bell, Dalton & Olson (2012), "Exposing fine-grained parallelism in algebraic multigrid methods",
SIAM J. Sci. Comput. 34(4): the roots of the aggregates are a distance-2 maximal independent set
(MIS-2) of the strength graph, found by Luby-style rounds in which every undecided node whose
(state, random priority) tuple is the largest within two hops joins the set, and every undecided
node with a set member within two hops leaves. Each root takes its neighbours; the remaining nodes
(two hops from a root) join the aggregate of their strongest aggregated neighbour. Every operation
is a gather or a scatter-reduction over the edges, so it runs on CPU and CUDA alike; only the loop
over MIS rounds syncs with the host.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

# Galerkin products leave entries at rounding level where exact arithmetic cancels: never strong
ROUNDING = 1e-12
OUT, UNDECIDED, IN = 0, 1, 2


@dataclass
class Graph:
    """A symmetric graph on ``size`` nodes as directed edges ``rows → cols`` (both directions stored),
    with a positive ``weight`` per edge."""

    rows: torch.Tensor
    cols: torch.Tensor
    weight: torch.Tensor
    size: int


def coo_rows(matrix: torch.Tensor) -> torch.Tensor:
    """The row index of every stored entry of a sparse CSR tensor."""
    crow = matrix.crow_indices()
    n = matrix.shape[0]
    return torch.repeat_interleave(
        torch.arange(n, device=crow.device), crow.diff(), output_size=matrix.col_indices().numel()
    )


def strength_graph(matrix: torch.Tensor, theta: float = 0.0) -> Graph:
    """Symmetric strength of connection (PyAMG's ``symmetric``; Vaněk, Mandel & Brezina 1996):
    ``i ~ j`` when ``|a_ij| ≥ θ √(|a_ii a_jj|)``, ``i ≠ j``; the edge weight is ``|a_ij| / √(|a_ii a_jj|)``."""
    rows, cols, values = coo_rows(matrix), matrix.col_indices(), matrix.values()
    diagonal = torch.zeros(matrix.shape[0], dtype=values.dtype, device=values.device)
    diagonal.index_add_(0, rows[rows == cols], values[rows == cols])
    weight = values.abs() / torch.sqrt(diagonal[rows].abs() * diagonal[cols].abs())
    strong = (rows != cols) & (weight >= max(theta, ROUNDING))
    return Graph(rows[strong], cols[strong], weight[strong], matrix.shape[0])


def _two_hop_max(graph: Graph, key: torch.Tensor) -> torch.Tensor:
    """The largest ``key`` within two hops of every node (itself included)."""
    for _ in range(2):
        key = key.scatter_reduce(0, graph.rows, key[graph.cols], "amax", include_self=True)
    return key


def distance2_mis(graph: Graph, generator: torch.Generator | None = None) -> torch.Tensor:
    """A distance-2 maximal independent set (bool mask): set members are ≥ 3 hops apart, and every
    other node is within 2 hops of one. Random priorities (a permutation) break ties."""
    n, device = graph.size, graph.rows.device
    priority = torch.randperm(n, generator=generator, device=device)
    state = torch.full((n,), UNDECIDED, dtype=torch.int64, device=device)
    while bool((state == UNDECIDED).any()):
        key = state * n + priority  # (state, priority) ordered lexicographically; unique per node
        best = _two_hop_max(graph, key)
        undecided = state == UNDECIDED
        state = torch.where(undecided & (best == key), IN, state)
        state = torch.where(undecided & (best // n == IN), OUT, state)
    return state == IN


def _join_strongest(graph: Graph, aggregate: torch.Tensor) -> torch.Tensor:
    """Unaggregated nodes join the aggregate of their most strongly connected aggregated neighbour
    (ties: the larger aggregate number); nodes without one stay at -1."""
    candidate = (aggregate[graph.rows] < 0) & (aggregate[graph.cols] >= 0)
    rows, weight = graph.rows[candidate], graph.weight[candidate]
    target = aggregate[graph.cols[candidate]]
    best = torch.zeros(graph.size, dtype=weight.dtype, device=weight.device)
    best = best.scatter_reduce(0, rows, weight, "amax", include_self=False)
    top = weight == best[rows]
    choice = torch.full_like(aggregate, -1).scatter_reduce(0, rows[top], target[top], "amax", include_self=True)
    return torch.where(aggregate < 0, choice, aggregate)


def aggregate(graph: Graph, generator: torch.Generator | None = None) -> tuple[torch.Tensor, int]:
    """``(aggregate number of every node, number of aggregates)``: MIS-2 roots, their neighbours, then
    the nodes two hops out. Nodes without strong connections are roots of their own (singletons)."""
    roots = distance2_mis(graph, generator)
    numbers = torch.cumsum(roots, 0) - 1
    result = torch.where(roots, numbers, -1)
    for _ in range(2):  # one hop, then two hops from the roots: all nodes, as the MIS-2 is maximal
        result = _join_strongest(graph, result)
    return result, int(roots.sum())
