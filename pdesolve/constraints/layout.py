"""Where a grid constraint's experts work: their windows of the grid, the interface ("ghost") nodes their
stencils reach, row positions as window offsets and the outward normals of boundary rows.

Pure numpy on index arrays, used by :class:`~pdesolve.constraints.grid_system.GridConstraintSystem` when it lays
out its rows.
"""

from __future__ import annotations

import numpy as np

from pdesolve.constraints.experts import ExpertPartition
from pdesolve.constraints.rows import ExpertRows
from pdesolve.constraints.subdomains import Windows, axis_windows, window_grid
from pdesolve.problem import Grid


def expert_windows(
    grid: Grid,
    partition: ExpertPartition,
    halo: int,
    time_levels: int | None,
    first: np.ndarray,
    last: np.ndarray,
    node: np.ndarray,
    owner: np.ndarray,
) -> Windows:
    """Each expert's window: the levels and nodes of its candidate rows (``time_levels``: time levels of an
    evolution problem, else None), plus ``halo`` cells in space."""
    cells = partition.expert_cells()
    position = np.array(np.unravel_index(node, grid.shape))
    reach = np.arange(-halo, halo + 1)
    index, periodic = [], []
    if time_levels is not None:
        splits = partition.splits[-1]
        needed = [np.concatenate([first[m], last[m]]) for m in (cells[-1][owner] == c for c in range(splits))]
        index.append(axis_windows(needed, time_levels, False)[0][cells[-1]])
    for a, n in enumerate(grid.shape):
        needed = []
        splits = partition.splits[a]
        for c in range(splits):
            mine = np.unique(position[a][cells[a][owner] == c])
            if grid.periodic[a]:  # indices unwrapped around the cell's centre, for rows of a wrapped subdomain
                centre = (c + 0.5) * n / splits
                mine = mine - n * np.floor((mine - centre) / n + 0.5).astype(int)
            spread = (mine[:, None] + reach).ravel()
            needed.append(spread if grid.periodic[a] else np.clip(spread, 0, n - 1))
        windows, whole = axis_windows(needed, n, grid.periodic[a])
        index.append(windows[cells[a]])
        periodic.append(whole)
    space = Windows(tuple(index), grid)
    widths = space.shape[1:] if time_levels is not None else space.shape
    return Windows(tuple(index), window_grid(grid, tuple(widths), tuple(periodic)))


def ghost_nodes(
    grid: Grid,
    partition: ExpertPartition,
    overlap: float,
    time_levels: int | None,
    candidates: ExpertRows,
    first: np.ndarray,
    node: np.ndarray,
    n_pde: int,
    nodes_at: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expert, level and node of each interface row (none without ``interfaces``): the nodes that the
    second-order stencils of an expert's PDE rows reach outside its (widened) subdomain, less those its own
    initial or boundary rows already fix (``time_levels``: time levels of an evolution problem, else None)."""
    evolution = time_levels is not None
    lead = 1 if evolution else 0
    experts, levels, nodes = [], [], []
    index, weight = candidates.index.numpy(), candidates.weight.numpy()
    for k in range(partition.count):
        mine = index[k][weight[k] > 0]
        pde, conditions = mine[mine < n_pde], mine[mine >= n_pde]
        rows = np.zeros(((time_levels - 1) if evolution else 1, *grid.shape), dtype=bool)
        rows[(first[pde], *np.unravel_index(node[pde], grid.shape))] = True
        reached = rows.copy()
        for a, periodic in enumerate(grid.periodic):
            for shift in (-1, 1):
                moved = np.roll(rows, shift, axis=lead + a)
                if not periodic:
                    edge = [slice(None)] * rows.ndim
                    edge[lead + a] = 0 if shift == 1 else -1
                    moved[tuple(edge)] = False
                reached |= moved
        if evolution:  # a row at t_{n+½} reaches levels n and n + 1
            pad = np.zeros_like(reached[:1])
            reached = np.concatenate([reached, pad]) | np.concatenate([pad, reached])
        fixed = partition.members(nodes_at, k, overlap).reshape(reached.shape)
        fixed[(first[conditions], *np.unravel_index(node[conditions], grid.shape))] = True
        flat = np.flatnonzero(reached & ~fixed)
        level, ghost = np.divmod(flat, grid.size) if evolution else (np.zeros_like(flat), flat)
        experts.append(np.full(len(flat), k))
        levels.append(level)
        nodes.append(ghost)
    return np.concatenate(experts), np.concatenate(levels), np.concatenate(nodes)


def window_offsets(
    windows: Windows, shape: tuple[int, ...], expert: np.ndarray, position: np.ndarray, padding: np.ndarray
) -> np.ndarray:
    """Positions (axes, R) of rows of ``expert`` (R,) on the field grid of ``shape``, as offsets in their
    windows (``padding``: rows that are none, offset 0)."""
    offsets = np.zeros_like(position)
    for a in range(len(shape)):
        offset = np.mod(position[a] - windows.index[a][expert, 0], shape[a])
        inside = padding | (windows.index[a][expert, np.minimum(offset, windows.shape[a] - 1)] == position[a])
        if not inside.all():
            raise AssertionError("a constraint row lies outside its expert's window")  # a bug, not user input
        offsets[a] = np.where(padding, 0, offset)
    return offsets


def normal_axes(grid: Grid, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each boundary node, the first non-periodic axis it ends, and the outward sign."""
    index = np.array(np.unravel_index(nodes, grid.shape)).reshape(grid.dim, -1)
    axis = np.full(len(nodes), -1)
    sign = np.zeros(len(nodes))
    for k in reversed(range(grid.dim)):
        if grid.periodic[k]:
            continue
        low, high = index[k] == 0, index[k] == grid.shape[k] - 1
        axis = np.where(low | high, k, axis)
        sign = np.where(low, -1.0, np.where(high, 1.0, sign))
    return axis, sign
