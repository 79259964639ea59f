"""Memory footprints of the classical solvers, for :mod:`pdesolve.memory_guard` before they allocate.

Bytes per node or unknown, fitted to the peak resident memory of CPU float64 solves
(``benchmarks/memory_footprint.py``, figures in benchmarks/RESULTS.md): fd assembly per stencil entry,
scikit-fem assembly per unknown, the sparse LU's fill (``N log N`` in 2D by nested dissection, ``N^(4/3)``
in 3D), CPU PCG with IC(0), the torch CG beyond its assembly, the spectral solver's stored levels and
FFT/ETDRK4 work arrays, the method of lines' sparse Jacobian and LU. Coarse (within about a factor of two),
which is enough to refuse a request of many times the machine's memory before it starts.
"""

from __future__ import annotations

import math

from pdesolve.memory_guard import require_size

FD_BYTES_PER_ENTRY = 100
FEM_BYTES_PER_UNKNOWN = {1: 2000, 2: 4000, 3: 9000}
CG_BYTES_PER_UNKNOWN = 400
TORCH_CG_BYTES_PER_UNKNOWN = 800
SPECTRAL_WORK_ARRAYS = 90
MOL_BYTES_PER_NODE = 5000


def linear_solve_bytes(unknowns: float, dim: int, method: str) -> float:
    """Sparse LU (fill-in), CPU PCG (``cg``) or nothing (``none``) on ``unknowns`` unknowns of a
    ``dim``-dimensional stencil or mesh."""
    if method == "none":
        return 0.0
    if method == "direct":
        if dim == 3:
            return unknowns * 1000 * unknowns ** (1 / 3)
        return unknowns * 160 * max(1.0, math.log2(max(unknowns, 2)))
    return unknowns * CG_BYTES_PER_UNKNOWN


def fd_bytes(n: int, dim: int, method: str) -> float:
    """Finite differences on ``n`` nodes per axis: assembly of the (2 dim + 1)-point stencil, then the solve."""
    nodes = float(n) ** dim
    return nodes * FD_BYTES_PER_ENTRY * (2 * dim + 1) + linear_solve_bytes(nodes, dim, method)


def fem_unknowns(n: int, dim: int, order: int, refine: int) -> float:
    """Lagrange dofs of a mesh with ``n`` nodes across each axis, refined ``refine`` times, of ``order``."""
    return (float(n - 1) * 2**refine * order + 1) ** dim


def fem_bytes(n: int, dim: int, order: int, refine: int, method: str) -> float:
    unknowns = fem_unknowns(n, dim, order, refine)
    return unknowns * FEM_BYTES_PER_UNKNOWN[dim] * order + linear_solve_bytes(unknowns, dim, method)


def check_fd(n: int, dim: int, method: str) -> None:
    """Refuse an fd grid whose assembly and solve would not fit in the free memory."""
    require_size("n", n, lambda m: fd_bytes(m, dim, method), f"fd with {method} solves on {n}^{dim} nodes")


def check_fem(n: int, dim: int, order: int, refine: int, method: str) -> None:
    """Refuse an fem mesh whose assembly and solve would not fit (the hint lowers ``n``)."""
    unknowns = fem_unknowns(n, dim, order, refine)
    require_size(
        "n",
        n,
        lambda m: fem_bytes(m, dim, order, refine, method),
        f"fem P{order} with {method} solves on about {unknowns:.3g} unknowns",
    )


def check_torch_cg(n: int, dim: int, device: str) -> None:
    """The torch CG: the fd assembly on the host, operator, vectors and multigrid hierarchy on ``device``."""
    require_size("n", n, lambda m: fd_bytes(m, dim, "none"), f"cg's assembly on {n}^{dim} nodes")
    require_size("n", n, lambda m: float(m) ** dim * TORCH_CG_BYTES_PER_UNKNOWN, f"cg on {n}^{dim} nodes", device)


def check_time_grid(solver: str, n: int, dim: int, outputs: int, device: str = "cpu") -> None:
    """The spectral solver or the method of lines on ``n`` nodes per axis with ``outputs`` stored levels."""
    per_node = 8 * (outputs + SPECTRAL_WORK_ARRAYS) if solver == "spectral" else MOL_BYTES_PER_NODE + 8 * outputs
    require_size(
        "n", n, lambda m: float(m) ** dim * per_node, f"{solver} on {n}^{dim} nodes with {outputs} outputs", device
    )
