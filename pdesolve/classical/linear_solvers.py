"""The solvers of the sparse systems of linear stationary problems (``fd`` and ``fem``'s ``linsolve``).

- ``direct``: sparse LU (SuperLU through :func:`scipy.sparse.linalg.splu`), on the host.
- ``cg``: preconditioned conjugate gradients (Hestenes & Stiefel 1952; Saad, *Iterative Methods for
  Sparse Linear Systems*, Alg. 9.1) by the one torch CG of :mod:`pdesolve.linalg` (:mod:`pdesolve.linalg.assembled`),
  on the CPU or CUDA, with a preconditioner of :mod:`pdesolve.linalg.registry` that has a host form: Jacobi,
  IC(0) (Meijerink & van der Vorst 1977), PyAMG smoothed aggregation (its torch form on CUDA), or none.

Every result carries the true relative residual ``||b - A x|| / ||b||`` recomputed in float64.
CG refuses matrices it cannot solve (non-symmetric, indefinite) with a :class:`NotApplicableError`
that points to ``linsolve=direct`` instead of returning a wrong answer.

>>> import scipy.sparse as sp
>>> A = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(50, 50), format="csr")
>>> result = solve_linear(A, np.ones(50), method="cg", precond="ic0")
>>> result.iterations, result.residual < 1e-10
(1, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from pdesolve.errors import PdesolveError
from pdesolve.linalg.host import definiteness_sign
from pdesolve.linalg.host import incomplete_cholesky as incomplete_cholesky  # importable here too
from pdesolve.linalg.registry import help_text, names

AUTO_LINSOLVE = {1: "direct", 2: "direct", 3: "cg"}  # 3D LU fills in badly
LINSOLVE_HELP = "direct (sparse LU, host) | cg | auto (direct in 1D and 2D on the CPU, else cg)"
PRECOND_HELP = f"preconditioner of cg (host form on the CPU, device form on CUDA): {help_text('host')}"
SINGULAR_PIVOT = 1e-10


@dataclass
class LinearResult:
    """The solution of ``A x = b`` and what it cost."""

    x: np.ndarray
    iterations: int | None  # None for a direct solve
    residual: float
    setup_time: float
    solve_time: float

    def stats(self) -> dict[str, Any]:
        return {
            "iterations": self.iterations,
            "residual": self.residual,
            "setup_time": self.setup_time,
            "solve_time": self.solve_time,
        }


def relative_residual(matrix: sp.spmatrix, x: np.ndarray, rhs: np.ndarray) -> float:
    """``||b - A x|| / ||b||`` in float64 (``||b - A x||`` when ``b = 0``)."""
    matrix = sp.csr_matrix(matrix, dtype=np.float64)
    x, rhs = np.asarray(x, dtype=np.float64), np.asarray(rhs, dtype=np.float64)
    norm = np.linalg.norm(rhs)
    return float(np.linalg.norm(rhs - matrix @ x) / (norm if norm > 0 else 1.0))


def linear_method(linsolve: str, dim: int, device: str) -> str:
    """The ``linsolve`` option resolved: ``auto`` is ``direct`` in 1D and 2D on the CPU, ``cg`` in 3D or on a GPU."""
    if linsolve != "auto":
        return linsolve
    return AUTO_LINSOLVE[dim] if device == "cpu" else "cg"


def solve_linear(
    matrix: sp.spmatrix,
    rhs: np.ndarray,
    method: str = "direct",
    precond: str = "ic0",
    tol: float = 1e-10,
    maxiter: int = 0,
    device: str = "cpu",
) -> LinearResult:
    """Solve ``A x = b`` with ``method`` (direct | cg); ``maxiter = 0`` lets CG run up to ``max(1000, n)`` steps.

    ``direct`` runs on the host; ``cg`` on ``device`` (the torch CG of :mod:`pdesolve.linalg.assembled`)."""
    if method not in METHODS:
        raise PdesolveError(f"linsolve={method!r}: choose one of {', '.join(METHODS)}")
    if precond not in names("host"):
        raise PdesolveError(f"precond={precond!r}: choose one of {', '.join(names('host'))}")
    matrix = sp.csr_matrix(matrix, dtype=np.float64)
    rhs = np.asarray(rhs, dtype=np.float64)
    x, setup, solve, iterations = METHODS[method](
        matrix, rhs, precond, tol, maxiter or max(1000, matrix.shape[0]), device
    )
    if not np.all(np.isfinite(x)):
        raise PdesolveError(f"the {method} solve produced non-finite values")
    return LinearResult(x, iterations, relative_residual(matrix, x, rhs), setup, solve)


class LinsolveOptions(Protocol):
    """The ``linsolve`` options a solver declares (``fd``, ``fem``)."""

    precond: str
    tol: float
    maxiter: int


def solve_assembled(
    matrix: sp.spmatrix, rhs: np.ndarray, method: str, options: LinsolveOptions, device: str, assembly_time: float
) -> tuple[np.ndarray, dict[str, Any]]:
    """An assembled system solved by ``method`` with a solver's ``options``: the solution and the stats of
    assembly and solve (method, preconditioner where CG ran, times, iterations, residual)."""
    result = solve_linear(matrix, rhs, method, options.precond, options.tol, options.maxiter, device)
    stats = {
        "linsolve": method,
        "precond": options.precond if method == "cg" else None,
        "assembly_time": assembly_time,
        **result.stats(),
    }
    return result.x, stats


def _direct(
    matrix: sp.csr_matrix, rhs: np.ndarray, precond: str, tol: float, maxiter: int, device: str
) -> tuple[np.ndarray, float, float, None]:
    if device != "cpu":
        raise PdesolveError(f"linsolve=direct runs on the host; with --device {device} choose linsolve=cg or auto")
    return *direct_solve(matrix, rhs), None


def _cg(
    matrix: sp.csr_matrix, rhs: np.ndarray, precond: str, tol: float, maxiter: int, device: str
) -> tuple[np.ndarray, float, float, int]:
    from pdesolve.linalg.assembled import AssembledCG  # torch: imported when CG runs

    start = time.perf_counter()
    sign = definiteness_sign(matrix)
    solver = AssembledCG(sign * matrix, precond, tol, maxiter, device)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    x, iterations = solver.solve(sign * rhs)
    return x, setup, time.perf_counter() - start, iterations


def direct_solve(matrix: sp.csr_matrix, rhs: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Sparse LU: returns the solution, the factorisation time and the solve time.

    A pivot below ``SINGULAR_PIVOT`` times the largest one means a singular matrix (rounding keeps
    it from being exactly 0): its "solution" would carry an arbitrary null-space component.
    """
    start = time.perf_counter()
    try:
        factor = splu(matrix.tocsc())
        pivots = np.abs(factor.U.diagonal())
        if pivots.min() < SINGULAR_PIVOT * pivots.max():
            raise RuntimeError(f"smallest/largest LU pivot {pivots.min() / pivots.max():.2g}")
    except RuntimeError as error:  # SuperLU: "Factor is exactly singular"
        raise PdesolveError(
            f"the matrix is singular ({error}): the problem has no unique solution "
            "(e.g. only Neumann or periodic conditions fix u up to a constant)"
        ) from None
    setup = time.perf_counter() - start
    start = time.perf_counter()
    x = factor.solve(rhs)
    return x, setup, time.perf_counter() - start


METHODS = {"direct": _direct, "cg": _cg}  # linsolve -> (matrix, rhs, precond, tol, maxiter, device) -> x, times, its
