"""Symmetric multigrid smoothers: damped Jacobi and Chebyshev polynomials in ``D⁻¹A``.

Both are polynomials in ``D⁻¹A`` applied to the error, self-adjoint in the ``A`` inner product, so
a V-cycle with the same smoother before and after the coarse correction is a symmetric
preconditioner (fit for plain CG). Chebyshev targets ``[λ/10, 1.1 λ]`` with ``λ`` the estimated
largest eigenvalue of ``D⁻¹A`` (Adams, Brezina, Hu & Tuminaro 2003, "Parallel multigrid smoothing:
polynomial versus Gauss–Seidel"); damped Jacobi takes ``ω = 4 / (3 λ)``.
"""

from __future__ import annotations

import torch

from pdesolve.linalg.jacobi import columns, inverse_diagonal
from pdesolve.linalg.system import LinearOperator


def largest_eigenvalue(operator: LinearOperator, inverse: torch.Tensor, iterations: int = 15) -> float:
    """Largest eigenvalue of ``D⁻¹A`` by power iteration from a fixed random vector (one host sync)."""
    generator = torch.Generator(device=inverse.device).manual_seed(0)
    x = torch.rand(operator.shape[0], generator=generator, device=inverse.device, dtype=inverse.dtype)
    estimate = torch.zeros((), dtype=inverse.dtype, device=inverse.device)
    for _ in range(iterations):
        y = inverse * operator.matvec(x)
        estimate = torch.linalg.vector_norm(y) / torch.linalg.vector_norm(x)
        x = y / torch.linalg.vector_norm(y)
    return float(estimate)


class JacobiSmoother:
    """``sweeps`` steps of ``x ← x + ω D⁻¹ (b - A x)``."""

    def __init__(self, operator: LinearOperator, sweeps: int = 2, omega: float | None = None) -> None:
        self.operator, self.sweeps = operator, sweeps
        self.inverse = inverse_diagonal(operator)
        self.omega = omega if omega is not None else 4.0 / (3.0 * largest_eigenvalue(operator, self.inverse))
        self.scaled = self.omega * self.inverse

    def smooth(self, b: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """Smooth ``A x = b`` from ``x`` (zero when None)."""
        scaled = columns(self.scaled, b)
        sweeps = self.sweeps
        if x is None:
            x, sweeps = b * scaled, sweeps - 1
        r = torch.empty_like(b)
        for _ in range(sweeps):
            self.operator.matvec(x, out=r)
            torch.sub(b, r, out=r)
            x.addcmul_(r, scaled)
        return x


class ChebyshevSmoother:
    """The degree-``degree`` Chebyshev iteration for ``D⁻¹A`` on ``[λ/10, 1.1 λ]`` (Saad, Alg. 12.1)."""

    def __init__(self, operator: LinearOperator, degree: int = 2, lower_ratio: float = 0.1) -> None:
        self.operator, self.degree = operator, degree
        self.inverse = inverse_diagonal(operator)
        upper = 1.1 * largest_eigenvalue(operator, self.inverse)
        lower = lower_ratio * upper / 1.1
        self.theta, self.delta = (upper + lower) / 2, (upper - lower) / 2

    def smooth(self, b: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """Smooth ``A x = b`` from ``x`` (zero when None); ``b`` is left as it is."""
        inverse = columns(self.inverse, b)
        r = b if x is None else b - self.operator.matvec(x)
        d = torch.mul(r, inverse).mul_(1.0 / self.theta)
        x = d.clone() if x is None else x.add_(d)
        sigma = self.theta / self.delta
        rho = 1.0 / sigma
        ad = torch.empty_like(b)
        for _ in range(1, self.degree):
            r = r - self.operator.matvec(d, out=ad)
            rho_next = 1.0 / (2.0 * sigma - rho)
            d.mul_(rho_next * rho).addcmul_(r, inverse, value=2.0 * rho_next / self.delta)
            x.add_(d)
            rho = rho_next
        return x


SMOOTHERS = {"jacobi": JacobiSmoother, "chebyshev": ChebyshevSmoother}


def make_smoother(kind: str, operator: LinearOperator, steps: int) -> JacobiSmoother | ChebyshevSmoother:
    """``kind`` = jacobi (``steps`` sweeps) or chebyshev (degree ``steps``)."""
    if kind == "jacobi":
        return JacobiSmoother(operator, sweeps=steps)
    if kind == "chebyshev":
        return ChebyshevSmoother(operator, degree=steps)
    raise ValueError(f"smoother {kind!r}: choose one of {', '.join(SMOOTHERS)}")
