"""Preconditioned conjugate gradients in torch, on CPU or CUDA, for one or many right-hand sides.

Hestenes & Stiefel (1952); Saad, *Iterative Methods for Sparse Linear Systems*, Alg. 9.1. The
flexible variant takes the Polak–Ribière ``β = zₖ₊₁ᵀ(rₖ₊₁ - rₖ) / zₖᵀrₖ`` so that variable or
nonlinear preconditioners still converge (Golub & Ye 1999; Notay 2000).

Honest stopping: when the recursive residual of every column is below ``tol``, the TRUE residual
``||b - A x|| / ||b||`` is recomputed in float64; if it misses, CG restarts from it (residual
replacement). ``x`` accumulates in float64, so a float32 run is mixed-precision iterative refinement and
reaches float64 tolerances, or stops after a restart that gains nothing and says it did not converge.

One iteration is a fixed sequence of in-place kernels on persistent tensors: no ``.item()`` inside,
scalars go to a device-side history; the host looks at it every few iterations (adaptively, fewer as
convergence nears) and checks for breakdown: ``pᵀAp ≤ 0`` (indefinite matrix), ``zᵀr ≤ 0``
(indefinite preconditioner), a Lanczos condition estimate beyond float precision (singular matrix).
On CUDA the iteration can be captured once in a CUDA graph and replayed.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from scipy.linalg import eigvalsh_tridiagonal

from pdesolve.errors import DivergenceError, NotApplicableError, PdesolveError
from pdesolve.linalg.system import LinearOperator


class Preconditioner(Protocol):
    capturable: bool  # pure device work, fit for a CUDA graph

    def apply(self, r: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor: ...


@dataclass
class CGResult:
    """The solution (float64, shaped like ``b``) and what it took."""

    x: torch.Tensor
    iterations: int
    converged: bool
    residuals: list[float]  # true relative residual of each column, in float64
    history: list[float] = field(default_factory=list)  # recursive relative residual per iteration (worst column)
    restarts: int = 0
    condition: float | None = None  # Lanczos estimate of cond(M⁻¹A), plain CG only

    @property
    def residual(self) -> float:
        return max(self.residuals)

    def stats(self) -> dict[str, Any]:
        return {
            "iterations": self.iterations,
            "converged": self.converged,
            "residual": self.residual,
            "residual_history": self.history,
            "restarts": self.restarts,
            "condition_estimate": self.condition,
        }


def lanczos_condition(rz_before: np.ndarray, curvature: np.ndarray, rz_after: np.ndarray) -> float | None:
    """cond(M⁻¹A) from the CG coefficients: extreme eigenvalues of the Lanczos tridiagonal matrix."""
    m = len(curvature)
    if m == 0 or np.any(rz_before <= 0) or np.any(curvature <= 0):
        return None
    alpha = rz_before / curvature
    beta = rz_after / rz_before
    diagonal = 1.0 / alpha
    diagonal[1:] += beta[:-1] / alpha[:-1]
    off = np.sqrt(beta[:-1]) / alpha[:-1]
    if not (np.all(np.isfinite(diagonal)) and np.all(np.isfinite(off))):
        return None
    low = eigvalsh_tridiagonal(diagonal, off, select="i", select_range=(0, 0))[0]
    high = eigvalsh_tridiagonal(diagonal, off, select="i", select_range=(m - 1, m - 1))[0]
    return float(high / low) if low > 0 else math.inf


class ConjugateGradient:
    """(Flexible) PCG for an SPD operator; ``solve(b)`` with ``b`` of shape (n,) or (n, k)."""

    def __init__(
        self,
        operator: LinearOperator,
        preconditioner: Preconditioner | None = None,
        tol: float = 1e-8,
        maxiter: int | None = None,
        flexible: bool = False,
        check_every: int | None = None,
        cuda_graph: bool = False,
    ) -> None:
        self.A, self.M = operator, preconditioner
        self.tol, self.flexible = tol, flexible
        self.maxiter = maxiter if maxiter else min(max(1000, operator.shape[0]), 100_000)
        cuda = operator.device.type == "cuda"
        self.check_every = check_every or (32 if cuda else 1)
        self.cuda_graph = cuda_graph and cuda and (preconditioner is None or preconditioner.capturable)
        self.singular_condition = 0.1 / torch.finfo(operator.dtype).eps

    # --- the iteration: in-place kernels only ----------------------------------------------
    def _allocate(self, b: torch.Tensor, x0: torch.Tensor | None) -> None:
        dtype, device = self.A.dtype, self.A.device
        self.b64 = b.to(device=device, dtype=torch.float64)
        self.x = torch.zeros_like(self.b64) if x0 is None else x0.to(device=device, dtype=torch.float64).clone()
        self.r = torch.empty(b.shape, dtype=dtype, device=device)
        self.z = self.r if self.M is None else torch.empty_like(self.r)
        self.p, self.Ap = torch.empty_like(self.r), torch.empty_like(self.r)
        self.r_old = torch.empty_like(self.r) if self.flexible else None
        columns = b.shape[1:]
        self.rz, self.alpha, self.beta = (torch.empty(columns, dtype=dtype, device=device) for _ in range(3))
        self.scratch = torch.empty((3, *columns), dtype=dtype, device=device)  # pᵀAp, rᵀr, zᵀr of one step
        self.record = torch.empty((self.maxiter, 3, *columns), dtype=dtype, device=device)
        self.counter = torch.zeros(1, dtype=torch.long, device=device)
        self.tiny = torch.finfo(dtype).tiny

    def _step(self) -> None:
        s = self.scratch
        self.A.matvec(self.p, out=self.Ap)
        torch.linalg.vecdot(self.p, self.Ap, dim=0, out=s[0])
        torch.div(self.rz, s[0].clamp_min(self.tiny), out=self.alpha)
        self.x.addcmul_(self.p, self.alpha)
        if self.flexible:
            self.r_old.copy_(self.r)
        self.r.addcmul_(self.Ap, self.alpha, value=-1)
        torch.linalg.vecdot(self.r, self.r, dim=0, out=s[1])
        if self.M is not None:
            self.M.apply(self.r, out=self.z)
        torch.linalg.vecdot(self.r, self.z, dim=0, out=s[2])
        numerator = s[2] - torch.linalg.vecdot(self.z, self.r_old, dim=0) if self.flexible else s[2]
        torch.div(numerator, self.rz.clamp_min(self.tiny), out=self.beta)
        torch.addcmul(self.z, self.p, self.beta, out=self.p)
        self.rz.copy_(s[2])
        self.record.index_copy_(0, self.counter, s.unsqueeze(0))
        self.counter.add_(1)

    def _restart(self, residual64: torch.Tensor) -> np.ndarray:
        """Start the recurrences afresh from a float64 residual; returns (rᵀr, zᵀr) on the host."""
        self.r.copy_(residual64)
        if self.M is not None:
            self.M.apply(self.r, out=self.z)
        self.p.copy_(self.z)
        torch.linalg.vecdot(self.r, self.z, dim=0, out=self.rz)
        return torch.stack([torch.linalg.vecdot(self.r, self.r, dim=0), self.rz]).double().cpu().numpy()

    def _true_residual(self) -> tuple[torch.Tensor, np.ndarray]:
        residual = self.b64 - self.A.matvec64(self.x)
        norms = torch.linalg.vector_norm(residual, dim=0).cpu().numpy()
        return residual, np.atleast_1d(norms / self.scale)

    def _capture(self) -> Any:
        """A CUDA graph of one iteration (after eager warm-up iterations), or the eager step."""
        try:
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                self._step()
            return graph.replay
        except Exception as error:  # capture is an optimisation: fall back to eager kernels
            warnings.warn(f"CUDA graph capture failed ({error}); iterating without it", stacklevel=3)
            torch.cuda.synchronize()
            return self._step

    # --- the driver -----------------------------------------------------------------------
    def solve(self, b: torch.Tensor, x0: torch.Tensor | None = None) -> CGResult:
        if b.dim() not in (1, 2) or b.shape[0] != self.A.shape[0]:
            raise PdesolveError(f"right-hand side of shape {tuple(b.shape)} for a {self.A.shape} matrix")
        self._allocate(b, x0)
        norms = np.atleast_1d(torch.linalg.vector_norm(self.b64, dim=0).cpu().numpy())
        self.scale = np.where(norms > 0, norms, 1.0)
        residual64 = self.b64 if x0 is None else self.b64 - self.A.matvec64(self.x)
        rr, rz = np.atleast_1d(*self._restart(residual64))
        threshold = (self.tol * self.scale) ** 2
        history = [float(np.max(np.sqrt(rr) / self.scale))]
        segment: list[np.ndarray] = []  # (rz before, pᵀAp, rz after) of column 0 since the last restart
        run, iterations, restarts, block, captured = self._step, 0, 0, 1, False
        converged, last_true, true = history[0] <= self.tol, math.inf, None
        while not converged and iterations < self.maxiter:
            block = min(block, self.maxiter - iterations)
            for _ in range(block):
                run()
            if self.cuda_graph and not captured and iterations + block >= 3:
                run, captured = self._capture(), True
            chunk = self.record[iterations : iterations + block].double().cpu().numpy().reshape(block, 3, -1)
            iterations += block
            rr, rz = self._inspect(chunk, rr, rz, threshold, segment)
            relative = np.sqrt(np.maximum(chunk[:, 1], 0)) / self.scale
            history += [float(v) for v in relative.max(axis=1)]
            if relative[-1].max() <= self.tol:
                residual64, true = self._true_residual()
                if true.max() <= self.tol:
                    converged = True
                    break
                if true.max() > 0.5 * last_true:  # a restart that gains nothing: the attainable accuracy
                    break
                last_true, restarts = true.max(), restarts + 1
                rr, rz = np.atleast_1d(*self._restart(residual64.to(self.A.dtype)))
                segment.clear()
            self._check_singular(segment, iterations, final=False)
            block = self._next_block(history, block)
        if not converged or true is None:
            _, true = self._true_residual()
            converged = bool(true.max() <= self.tol)
        condition = None if self.flexible else self._condition(segment)
        if not converged:
            self._check_singular(segment, iterations, final=True)
        return CGResult(self.x, iterations, converged, [float(v) for v in true], history, restarts, condition)

    def _inspect(
        self, chunk: np.ndarray, rr: np.ndarray, rz: np.ndarray, threshold: np.ndarray, segment: list
    ) -> tuple[np.ndarray, np.ndarray]:
        """Breakdown checks over a block of recorded (pᵀAp, rᵀr, zᵀr); returns the last (rᵀr, zᵀr)."""
        for curvature, rr_next, rz_next in chunk:
            active = rr > threshold  # columns not yet converged
            if np.any(active & (rz > 0) & (curvature <= 0)):
                raise NotApplicableError(
                    f"CG met a direction of non-positive curvature (pᵀAp ≤ 0) at iteration {len(segment) + 1}: "
                    "the matrix is not positive definite; it is indefinite (e.g. Helmholtz beyond its first "
                    "eigenvalue) or singular (e.g. only Neumann or periodic conditions)"
                )
            if np.any((rr_next > threshold) & (rz_next <= 0)):
                raise NotApplicableError("rᵀM⁻¹r ≤ 0: the preconditioner is not positive definite for this matrix")
            if not (np.all(np.isfinite(rr_next)) and np.all(np.isfinite(rz_next))):
                raise DivergenceError("CG produced non-finite values: the matrix or preconditioner is not usable")
            segment.append(np.array([rz[0], curvature[0], rz_next[0]]))
            rr, rz = rr_next, rz_next
        return rr, rz

    def _condition(self, segment: list) -> float | None:
        if not segment:
            return None
        values = np.array(segment)
        return lanczos_condition(values[:, 0], values[:, 1], values[:, 2])

    def _check_singular(self, segment: list, iterations: int, final: bool) -> None:
        """A Lanczos condition estimate beyond what the precision resolves means a singular matrix."""
        if self.flexible or not (final or (iterations >= 64 and iterations & (iterations - 1) == 0)):
            return
        condition = self._condition(segment)
        if condition is not None and condition > self.singular_condition:
            raise PdesolveError(
                f"the matrix is singular (or too ill-conditioned for {self.A.dtype}): CG's condition estimate "
                f"{condition:.2g} after {iterations} iterations; the system has no unique solution"
            )

    def _next_block(self, history: list[float], block: int) -> int:
        """Iterations until the next look: the predicted remaining count, at most ``check_every``."""
        if self.check_every <= 1 or len(history) <= block:
            return 1
        now, before = history[-1], history[-1 - block]
        if not (0 < now < before):
            return self.check_every
        rate = (now / before) ** (1.0 / block)
        remaining = math.log(self.tol / now) / math.log(rate)
        return int(min(max(math.ceil(remaining), 1), self.check_every))


def cg(
    operator: LinearOperator,
    b: torch.Tensor,
    preconditioner: Preconditioner | None = None,
    x0: torch.Tensor | None = None,
    **options: Any,
) -> CGResult:
    """Solve ``A x = b`` (columns of ``b`` at once) by (flexible) PCG; see :class:`ConjugateGradient`."""
    return ConjugateGradient(operator, preconditioner, **options).solve(b, x0)
