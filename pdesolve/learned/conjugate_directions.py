"""The deep conjugate direction method (DCDM; Kaneda et al., ICML 2023).

Each search direction is the network's approximation of ``A⁻¹ r``, made ``A``-orthogonal to the previous
``memory`` directions by Gram–Schmidt in the ``A`` inner product, followed by an exact line search:

    d = f(r) - Σᵢ (f(r)ᵀ A pᵢ / pᵢᵀ A pᵢ) pᵢ,   α = dᵀr / dᵀAd,   x += α d,   r -= α A d.

With an exact inverse it converges in one step; with ``memory`` = 1 it is flexible CG (Notay 2000). The
stopping test is the true float64 residual ``||b - A x|| / ||b||``, recomputed when the recursive one
reaches ``tol``.
"""

from __future__ import annotations

from collections import deque

import torch

from pdesolve.learned.directions import NeuralPreconditioner
from pdesolve.linalg.cg import CGResult
from pdesolve.linalg.system import LinearOperator


def conjugate_directions(
    operator: LinearOperator,
    b: torch.Tensor,
    network: NeuralPreconditioner,
    tol: float = 1e-8,
    maxiter: int = 1000,
    memory: int = 2,
) -> CGResult:
    """Solve ``A x = b`` (``b`` of shape (n,)) with learned directions; ``x`` accumulates in float64."""
    dtype = operator.dtype
    b64 = b.to(device=operator.device, dtype=torch.float64)
    scale = float(torch.linalg.vector_norm(b64)) or 1.0
    x = torch.zeros_like(b64)
    r = b64.to(dtype)
    previous: deque[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = deque(maxlen=memory)  # (p, Ap, pᵀAp)
    history = [float(torch.linalg.vector_norm(r)) / scale]
    iterations, restarts, true = 0, 0, history[0]
    while iterations < maxiter and true > tol:
        d = network.apply(r)
        for p, Ap, curvature in previous:
            d = d - (torch.dot(d, Ap) / curvature) * p
        Ad = operator.matvec(d)
        curvature = torch.dot(d, Ad)
        alpha = torch.dot(d, r) / curvature
        x.add_(d.double(), alpha=float(alpha))
        r = r - alpha * Ad
        previous.append((d, Ad, curvature))
        iterations += 1
        history.append(float(torch.linalg.vector_norm(r)) / scale)
        if history[-1] <= tol:  # check the true residual and restart the recurrence from it
            residual = b64 - operator.matvec64(x)
            true = float(torch.linalg.vector_norm(residual)) / scale
            if true > tol:
                r, restarts = residual.to(dtype), restarts + 1
                previous.clear()
    if true > tol:
        true = float(torch.linalg.vector_norm(b64 - operator.matvec64(x))) / scale
    return CGResult(x, iterations, true <= tol, [true], history, restarts)
