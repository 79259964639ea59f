"""Newton's method with a backtracking line search on the residual norm.

Each iteration solves ``J(y) δ = −r(y)`` (sparse LU) and takes the largest ``α ∈ {1, 1/2, 1/4, ...}``
with ``‖r(y + α δ)‖ ≤ (1 − 10⁻⁴ α) ‖r(y)‖`` (Armijo's sufficient decrease; Dennis & Schnabel,
"Numerical Methods for Unconstrained Optimization and Nonlinear Equations", 1983, §6.3). It stops
when the step is below ``tol (1 + ‖y‖)``, or the residual below ``atol`` or ``rtol`` times the first
residual (max norms).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from pdesolve.errors import DivergenceError

MIN_STEP = 2.0**-20


@dataclass
class NewtonResult:
    """The solution and, per iteration, the step's and the residual's max norms and the step length α."""

    y: np.ndarray
    steps: list[float] = field(default_factory=list)
    residuals: list[float] = field(default_factory=list)
    alphas: list[float] = field(default_factory=list)

    @property
    def iterations(self) -> int:
        return len(self.steps)


def newton(
    residual: Callable[[np.ndarray], np.ndarray],
    linearise: Callable[[np.ndarray], tuple[np.ndarray, sp.spmatrix]],
    y0: np.ndarray,
    tol: float = 1e-10,
    atol: float = 1e-13,
    rtol: float = 1e-13,
    maxiter: int = 50,
    first_matrix: Callable[[sp.spmatrix], sp.spmatrix] | None = None,
) -> NewtonResult:
    """Solve ``r(y) = 0`` from ``y0``; ``linearise(y)`` gives ``(r(y), J(y))``.

    ``first_matrix`` may change the first Jacobian (a degenerate one at the start).
    """
    result = NewtonResult(np.array(y0, dtype=float))
    y = result.y
    floor = atol
    for iteration in range(maxiter):
        r, J = linearise(y)
        norm = float(np.max(np.abs(r), initial=0.0))
        if not np.isfinite(norm):
            raise DivergenceError(f"Newton: the residual is NaN or infinite at iteration {iteration}")
        floor = max(floor, rtol * norm) if iteration == 0 else floor
        if norm <= floor:
            return result
        if iteration == 0 and first_matrix is not None:
            J = first_matrix(J)
        with np.errstate(all="ignore"):
            delta = spla.spsolve(sp.csc_matrix(J), -r)
        if not np.all(np.isfinite(delta)):
            raise DivergenceError(f"Newton: the Jacobian is singular at iteration {iteration}")
        alpha = 1.0
        while True:
            trial = y + alpha * delta
            trial_norm = float(np.max(np.abs(residual(trial)), initial=0.0))
            if np.isfinite(trial_norm) and trial_norm <= (1 - 1e-4 * alpha) * norm:
                break
            alpha /= 2
            if alpha < MIN_STEP:
                if float(np.max(np.abs(delta))) <= tol * (1 + float(np.max(np.abs(y)))):
                    break  # at round-off: the step is negligible anyway
                raise DivergenceError(
                    f"Newton: the line search found no decrease of the residual ({norm:.3e}) at iteration {iteration}"
                )
        y = trial
        step = float(np.max(np.abs(alpha * delta)))
        result.y = y
        result.steps.append(step)
        result.residuals.append(norm)
        result.alphas.append(alpha)
        if step <= tol * (1 + float(np.max(np.abs(y)))) or trial_norm <= floor:
            return result
    raise DivergenceError(
        f"Newton did not converge in {maxiter} iterations (last step {result.steps[-1]:.3e}, "
        f"residual {result.residuals[-1]:.3e})"
    )
