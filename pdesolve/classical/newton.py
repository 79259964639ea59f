"""Newton's method with a backtracking line search on the residual norm: the one loop of every classical
nonlinear solve (fem_newton, fem_mol, the Taylor–Hood systems of fem and their evolution).

Each iteration solves ``J(y) δ = −r(y)`` (sparse LU, or the caller's ``solve``, e.g. a factorisation
kept across calls) and takes the largest ``α ∈ {1, 1/2, 1/4, ...}`` with
``‖r(y + α δ)‖ ≤ (1 − 10⁻⁴ α) ‖r(y)‖`` (Armijo's sufficient decrease; Dennis & Schnabel, "Numerical
Methods for Unconstrained Optimization and Nonlinear Equations", 1983, §6.3). It stops when the step
is below ``tol (1 + ‖y‖)``, or the residual below ``atol`` or ``rtol`` times the first residual (max
norms unless ``norm`` says otherwise). Without a separate ``residual``, the line search linearises at
the trial point and keeps the Jacobian for the next iteration (one assembly per trial).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from pdesolve.errors import DivergenceError

MIN_STEP = 2.0**-20
Linearise = Callable[[np.ndarray], tuple[np.ndarray, sp.spmatrix]]
LinearSolve = Callable[[sp.spmatrix, np.ndarray], np.ndarray]


@dataclass
class NewtonResult:
    """The solution and, per iteration, the step's and the residual's norms and the step length α;
    ``final_residual`` is the residual's norm at ``y``."""

    y: np.ndarray
    steps: list[float] = field(default_factory=list)
    residuals: list[float] = field(default_factory=list)
    alphas: list[float] = field(default_factory=list)
    final_residual: float = float("nan")

    @property
    def iterations(self) -> int:
        return len(self.steps)

    @property
    def halvings(self) -> int:
        """How often the line search halved the step."""
        return int(sum(round(-np.log2(a)) for a in self.alphas))


def max_norm(r: np.ndarray) -> float:
    return float(np.max(np.abs(r), initial=0.0))


def sparse_lu(J: sp.spmatrix, r: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return spla.spsolve(sp.csc_matrix(J), r)


def newton(
    residual: Callable[[np.ndarray], np.ndarray] | None,
    linearise: Linearise,
    y0: np.ndarray,
    tol: float = 1e-10,
    atol: float = 1e-13,
    rtol: float = 1e-13,
    maxiter: int = 50,
    first_matrix: Callable[[sp.spmatrix], sp.spmatrix] | None = None,
    solve: LinearSolve = sparse_lu,
    norm: Callable[[np.ndarray], float] = max_norm,
    hint: str = "",
) -> NewtonResult:
    """Solve ``r(y) = 0`` from ``y0``; ``linearise(y)`` gives ``(r(y), J(y))``, ``residual(y)`` (optional)
    ``r(y)`` alone. ``first_matrix`` may change the first Jacobian (a degenerate one at the start);
    ``hint`` ends the message when Newton does not converge."""
    result = NewtonResult(np.array(y0, dtype=float))
    y = result.y
    floor = atol
    r, J = linearise(y)
    for iteration in range(maxiter + 1):
        current = norm(r)
        result.final_residual = current
        if not np.isfinite(current):
            raise DivergenceError(f"Newton: the residual is NaN or infinite at iteration {iteration}")
        floor = max(floor, rtol * current) if iteration == 0 else floor
        if current <= floor or iteration == maxiter:
            break
        if iteration == 0 and first_matrix is not None:
            J = first_matrix(J)
        delta = solve(J, -r)
        if not np.all(np.isfinite(delta)):
            raise DivergenceError(f"Newton: the Jacobian is singular at iteration {iteration}")
        alpha = 1.0
        while True:
            trial = y + alpha * delta
            trial_r, trial_J = (residual(trial), None) if residual is not None else linearise(trial)
            trial_norm = norm(trial_r)
            if np.isfinite(trial_norm) and trial_norm <= (1 - 1e-4 * alpha) * current:
                break
            alpha /= 2
            if alpha < MIN_STEP:
                if max_norm(delta) <= tol * (1 + max_norm(y)):
                    break  # at round-off: the step is negligible anyway
                raise DivergenceError(
                    f"Newton: the line search found no decrease of the residual ({current:.3e}) at iteration "
                    f"{iteration}{hint}"
                )
        y = trial
        step = max_norm(alpha * delta)
        result.y = y
        result.steps.append(step)
        result.residuals.append(current)
        result.alphas.append(alpha)
        result.final_residual = trial_norm
        if step <= tol * (1 + max_norm(y)) or trial_norm <= floor:
            return result
        r, J = (trial_r, trial_J) if trial_J is not None else linearise(y)
    if result.final_residual <= floor:
        return result
    last = result.steps[-1] if result.steps else float("nan")
    raise DivergenceError(
        f"Newton did not converge in {maxiter} iterations (last step {last:.3e}, "
        f"residual {result.final_residual:.3e}){hint}"
    )
