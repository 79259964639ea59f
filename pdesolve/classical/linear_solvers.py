"""CPU solvers for the sparse systems of linear stationary problems (the peers of the GPU solvers).

- ``direct``: sparse LU (SuperLU through :func:`scipy.sparse.linalg.splu`).
- ``cg``: preconditioned conjugate gradients (Hestenes & Stiefel 1952; Saad, *Iterative Methods for
  Sparse Linear Systems*, Alg. 9.1) with a preconditioner of :mod:`pdesolve.linalg.registry` that has a host
  form: Jacobi, IC(0) (Meijerink & van der Vorst 1977), PyAMG smoothed aggregation, or none.

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

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from pdesolve.divergence import DivergenceMonitor
from pdesolve.errors import NotApplicableError, PdesolveError
from pdesolve.linalg.host import HostPreconditioner, definiteness_sign
from pdesolve.linalg.host import incomplete_cholesky as incomplete_cholesky  # importable here too
from pdesolve.linalg.registry import host_preconditioner, names

METHODS = ("direct", "cg")
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


def solve_linear(
    matrix: sp.spmatrix,
    rhs: np.ndarray,
    method: str = "direct",
    precond: str = "ic0",
    tol: float = 1e-10,
    maxiter: int = 0,
) -> LinearResult:
    """Solve ``A x = b`` with ``method`` (direct | cg); ``maxiter = 0`` lets CG run up to ``max(1000, n)`` steps."""
    if method not in METHODS:
        raise PdesolveError(f"linsolve={method!r}: choose one of {', '.join(METHODS)}")
    if precond not in names("host"):
        raise PdesolveError(f"precond={precond!r}: choose one of {', '.join(names('host'))}")
    matrix = sp.csr_matrix(matrix, dtype=np.float64)
    rhs = np.asarray(rhs, dtype=np.float64)
    if method == "direct":
        x, setup, solve, iterations = *direct_solve(matrix, rhs), None
    else:
        start = time.perf_counter()
        sign = definiteness_sign(matrix)
        definite = sign * matrix
        apply = host_preconditioner(precond, definite)
        setup = time.perf_counter() - start
        start = time.perf_counter()
        x, iterations = conjugate_gradient(definite, sign * rhs, apply, tol, maxiter or max(1000, matrix.shape[0]))
        solve = time.perf_counter() - start
    if not np.all(np.isfinite(x)):
        raise PdesolveError(f"the {method} solve produced non-finite values")
    return LinearResult(x, iterations, relative_residual(matrix, x, rhs), setup, solve)


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


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product without BLAS: threaded ``ddot`` stalls badly on oversubscribed CPUs."""
    return float(np.einsum("i,i->", a, b))


def conjugate_gradient(
    matrix: sp.csr_matrix, rhs: np.ndarray, precondition: HostPreconditioner, tol: float, maxiter: int
) -> tuple[np.ndarray, int]:
    """PCG from ``x = 0`` until ``||r|| <= tol ||b||``; a non-positive curvature ``pᵀAp`` or a residual grown by
    orders of magnitude over ``||b||`` stops it with an error."""
    x = np.zeros_like(rhs)
    rhs_squared = _dot(rhs, rhs)
    threshold = tol**2 * rhs_squared
    if threshold == 0:
        return x, 0
    monitor = DivergenceMonitor("CG's relative residual", "the matrix or preconditioner is not usable by CG", start=1.0)
    r = rhs.copy()
    z = precondition(r)
    p = z.copy()
    rz = _dot(r, z)
    for iteration in range(1, maxiter + 1):
        q = matrix @ p
        curvature = _dot(p, q)
        if not curvature > 0:
            raise NotApplicableError(
                f"CG met a direction of non-positive curvature (pᵀAp = {curvature:.3g}) at iteration {iteration}: "
                "the matrix is indefinite (e.g. Helmholtz beyond its first eigenvalue); use linsolve=direct"
            )
        alpha = rz / curvature
        x += alpha * p
        r -= alpha * q
        rr = _dot(r, r)
        if rr <= threshold:
            return x, iteration
        monitor.update(math.sqrt(rr / rhs_squared), iteration)
        z = precondition(r)
        rz_next = _dot(r, z)
        if not rz_next > 0:
            raise NotApplicableError("the preconditioner is not positive definite for this matrix; try precond=none")
        p = z + (rz_next / rz) * p
        rz = rz_next
    relative = math.sqrt(_dot(r, r) / _dot(rhs, rhs))
    raise PdesolveError(
        f"CG did not reach tol={tol:g} in {maxiter} iterations (relative residual {relative:.3g}); "
        "raise maxiter or use a stronger precond (amg, ic0)"
    )
