"""Memory footprints of the classical solvers, for :mod:`pdesolve.memory_guard` before they allocate.

Per-unknown figures measured as the peak resident memory of solves over their unknowns (CPU, float64;
``pdesolve.report.memory.PeakMemory``): fd assembly ≈ 90 bytes per stencil entry (600 per node in
3D, 420 in 2D); scikit-fem assembly ≈ 3600 (2D, P1) to 8600 (3D, P1) bytes per node, ≈ 7200 per P2 unknown
in 2D; the sparse LU's fill ≈ 160 log₂N bytes per unknown in 2D (nested dissection) and ≈ 1000 N^(1/3) in
3D; CPU CG with IC(0) ≈ 400; the torch CG with multigrid ≈ 800 beyond the assembly; the spectral solver
≈ 8 (outputs + 90) bytes per node (stored levels, FFT and ETDRK4 work arrays), the method of lines ≈ 5000
(BDF's sparse Jacobian and LU) plus its stored levels. Coarse (within about a factor of two), which is enough to refuse a request
of many times the machine's memory before it starts.
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
