"""Preconditioned conjugate gradients in torch, on CPU or CUDA, for one or many right-hand sides.

Hestenes & Stiefel (1952); Saad, *Iterative Methods for Sparse Linear Systems*, Alg. 9.1. The
flexible variant takes the Polak–Ribière ``β = zₖ₊₁ᵀ(rₖ₊₁ - rₖ) / zₖᵀrₖ`` so that variable or
nonlinear preconditioners still converge (Golub & Ye 1999; Notay 2000).

Honest stopping: when the recursive residual of every column is below ``tol``, the TRUE residual
``||b - A x|| / ||b||`` is recomputed in float64; if it misses, CG restarts from it (residual
replacement). ``x`` accumulates in float64, so a float32 run is mixed-precision iterative refinement and
reaches float64 tolerances, or stops after a restart that gains nothing and says it did not converge.

One iteration is a fixed sequence of in-place kernels on persistent tensors: no ``.item()`` inside,
scalars go to a device-side record; the host reads it every few iterations (as many as the convergence
rate predicts, at most ``check_every`` and at most doubling the count) and checks for breakdown:
``pᵀAp ≤ 0`` (indefinite matrix), ``zᵀr ≤ 0`` (indefinite preconditioner), a Lanczos condition estimate
beyond float precision (singular matrix), a residual grown by orders of magnitude over ``‖b‖``
(:class:`~pdesolve.divergence.DivergenceMonitor`). On CUDA the iteration is captured once in a CUDA graph and
replayed; with triton, a Jacobi step is five kernels (product, ``pᵀAp``, fused ``x``/``r``/``z`` update with
its dots, scalars, ``p``) — see :mod:`pdesolve.linalg.kernels`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from scipy.linalg import eigvalsh_tridiagonal

from pdesolve.divergence import DivergenceMonitor
from pdesolve.errors import DivergenceError, NotApplicableError, PdesolveError
from pdesolve.linalg import kernels
from pdesolve.linalg.jacobi import Jacobi
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


# the device scalars of one step, per column: state[FIELD]
CURVATURE, RR, RZ_NEW, RZ, ALPHA, BETA, THRESHOLD = range(7)


class FusedUpdate:
    """What the fused (triton) step does for a kind of preconditioner; ``mode`` is :func:`kernels.cg_update`'s.

    This one serves any preconditioner: the kernel sums ``rᵀr`` only, ``z = M⁻¹ r`` and ``rᵀz`` follow it.
    """

    mode, rz_summed = 2, False

    def inverse(self, preconditioner: Preconditioner | None) -> torch.Tensor | None:
        return None

    def z(self, solver: ConjugateGradient) -> torch.Tensor | None:
        return None

    def finish(self, solver: ConjugateGradient) -> None:
        solver.M.apply(solver.r, out=solver.z)
        torch.linalg.vecdot(solver.r, solver.z, dim=0, out=solver.state[RZ_NEW])


class UnpreconditionedUpdate(FusedUpdate):
    """No preconditioner: ``z`` is ``r``, the kernel sums ``rᵀr`` for both dots."""

    mode, rz_summed = 0, True

    def finish(self, solver: ConjugateGradient) -> None:
        pass


class JacobiUpdate(UnpreconditionedUpdate):
    """Jacobi: the kernel writes ``z = D⁻¹ r`` and sums ``rᵀz`` beside ``rᵀr``."""

    mode = 1

    def inverse(self, preconditioner: Jacobi) -> torch.Tensor:
        return preconditioner.inverse[:1].contiguous() if preconditioner.uniform else preconditioner.inverse

    def z(self, solver: ConjugateGradient) -> torch.Tensor:
        return solver.z


def fused_update(preconditioner: Preconditioner | None) -> FusedUpdate:
    """The fused step's treatment of ``preconditioner``, chosen once per solver."""
    if preconditioner is None:
        return UnpreconditionedUpdate()
    return JacobiUpdate() if isinstance(preconditioner, Jacobi) else FusedUpdate()


class ConjugateGradient:
    """(Flexible) PCG for an SPD operator; ``solve(b)`` with ``b`` of shape (n,) or (n, k).

    Buffers (and the CUDA graph of one iteration) are kept between solves of right-hand sides of
    the same shape. A column whose recursive residual is below ``tol`` is frozen on the device
    (``α = 0``), so iterations past convergence inside a block change nothing and are not counted.
    """

    def __init__(
        self,
        operator: LinearOperator,
        preconditioner: Preconditioner | None = None,
        tol: float = 1e-8,
        maxiter: int | None = None,
        flexible: bool = False,
        check_every: int | None = None,
        cuda_graph: bool | None = None,
    ) -> None:
        self.A, self.M = operator, preconditioner
        self.tol, self.flexible = tol, flexible
        self.maxiter = maxiter if maxiter else min(max(1000, operator.shape[0]), 100_000)
        cuda = operator.device.type == "cuda"
        self.check_every = check_every or (32 if cuda else 1)
        capturable = preconditioner is None or preconditioner.capturable
        self.cuda_graph = (cuda if cuda_graph is None else cuda_graph) and cuda and capturable
        self.update = fused_update(preconditioner)
        self.singular_condition = 0.1 / torch.finfo(operator.dtype).eps
        self.key: tuple | None = None  # (shape of b) of the buffers
        self.graph: Any = None

    # --- the iteration: in-place kernels only ----------------------------------------------
    def _allocate(self, b: torch.Tensor) -> None:
        if self.key == tuple(b.shape):
            return
        dtype, device = self.A.dtype, self.A.device
        self.b64 = torch.empty(b.shape, dtype=torch.float64, device=device)
        self.x = torch.zeros_like(self.b64)
        self.r = torch.empty(b.shape, dtype=dtype, device=device)
        self.z = self.r if self.M is None else torch.empty_like(self.r)
        self.p, self.Ap = torch.empty_like(self.r), torch.empty_like(self.r)
        self.r_old = torch.empty_like(self.r) if self.flexible else None
        columns = b.shape[1:]
        self.state = torch.zeros((7, *columns), dtype=dtype, device=device)
        self.rows = self.state.unbind(0)  # views of its rows, indexed without a dispatch per step
        self.recorded = self.state[:3].unsqueeze(0)  # (pᵀAp, rᵀr, rᵀz), a view
        self.record = torch.zeros((self.maxiter + self.check_every + 1, 3, *columns), dtype=dtype, device=device)
        self.counter = torch.zeros(1, dtype=torch.long, device=device)
        self.zero = torch.zeros((), dtype=dtype, device=device)
        self.fused = not self.flexible and b.dim() == 1 and kernels.usable(self.r, self.x)
        if self.fused:
            self.partial = torch.empty((kernels.blocks(b.shape[0]), 2), dtype=dtype, device=device)
            self.inverse = self.update.inverse(self.M)
        self.key, self.graph = tuple(b.shape), None

    def _step(self) -> None:
        s, rows = self.state, self.rows
        self.A.matvec(self.p, out=self.Ap)
        torch.linalg.vecdot(self.p, self.Ap, dim=0, out=rows[CURVATURE])
        if self.fused:
            update = self.update
            kernels.cg_update(
                self.x, self.p, self.r, self.Ap, self.inverse, update.z(self), s, self.partial, update.mode
            )
            update.finish(self)
            kernels.cg_finish(self.partial, s, self.record, self.counter, rz_summed=update.rz_summed)
        else:
            self._update()
        torch.addcmul(self.z, self.p, rows[BETA], out=self.p)

    def _update(self) -> None:
        """The torch form of :func:`kernels.cg_update` and :func:`kernels.cg_finish` (any columns, flexible β)."""
        s = self.rows
        active = (s[RR] > s[THRESHOLD]) & (s[CURVATURE] > 0)
        torch.where(active, s[RZ] / s[CURVATURE], self.zero, out=s[ALPHA])
        self.x.addcmul_(self.p, s[ALPHA])
        if self.flexible:
            self.r_old.copy_(self.r)
        self.r.addcmul_(self.Ap, s[ALPHA], value=-1)
        torch.linalg.vecdot(self.r, self.r, dim=0, out=s[RR])
        if self.M is not None:
            self.M.apply(self.r, out=self.z)
        torch.linalg.vecdot(self.r, self.z, dim=0, out=s[RZ_NEW])
        numerator = s[RZ_NEW] - torch.linalg.vecdot(self.z, self.r_old, dim=0) if self.flexible else s[RZ_NEW]
        torch.where(s[RZ] > 0, numerator / s[RZ], self.zero, out=s[BETA])
        s[RZ].copy_(s[RZ_NEW])
        self.record.index_copy_(0, self.counter, self.recorded)
        self.counter.add_(1)

    def _restart(self, residual64: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Start the recurrences afresh from a float64 residual; returns (rᵀr, zᵀr) on the host."""
        s = self.state
        self.r.copy_(residual64)
        if self.M is not None:
            self.M.apply(self.r, out=self.z)
        self.p.copy_(self.z)
        torch.linalg.vecdot(self.r, self.z, dim=0, out=s[RZ])
        torch.linalg.vecdot(self.r, self.r, dim=0, out=s[RR])
        host = s[[RR, RZ]].double().cpu().numpy().reshape(2, -1)
        return host[0], host[1]

    def _true_residual(self) -> tuple[torch.Tensor, np.ndarray]:
        residual = self.b64 - self.A.matvec64(self.x)
        norms = torch.linalg.vector_norm(residual, dim=0).cpu().numpy()
        return residual, np.atleast_1d(norms / self.scale)

    def _capture(self) -> Any:
        """A CUDA graph of one iteration (captured after eager iterations), or the eager step."""
        try:
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                self._step()
            return graph.replay
        except Exception as error:  # capture is an optimisation: fall back to eager kernels
            warnings.warn(f"CUDA graph capture failed ({error}); iterating without it", stacklevel=3)
            torch.cuda.synchronize()
            self.cuda_graph = False
            return self._step

    # --- the driver -----------------------------------------------------------------------
    def solve(self, b: torch.Tensor, x0: torch.Tensor | None = None) -> CGResult:
        if b.dim() not in (1, 2) or b.shape[0] != self.A.shape[0]:
            raise PdesolveError(f"right-hand side of shape {tuple(b.shape)} for a {self.A.shape} matrix")
        self._allocate(b)
        self.b64.copy_(b)
        if x0 is None:
            self.x.zero_()
        else:
            self.x.copy_(x0)
        norms = np.atleast_1d(torch.linalg.vector_norm(self.b64, dim=0).cpu().numpy())
        self.scale = np.where(norms > 0, norms, 1.0)
        threshold = (self.tol * self.scale) ** 2
        self.state[THRESHOLD] = torch.as_tensor(threshold.reshape(self.state.shape[1:]), dtype=self.A.dtype)
        residual64 = self.b64 if x0 is None else self.b64 - self.A.matvec64(self.x)
        rr, rz = self._restart(residual64)
        self.counter.zero_()
        history = [np.sqrt(rr) / self.scale]
        segment: list[np.ndarray] = []  # rows (rz before, pᵀAp, rz after) of column 0 since the last restart
        iterations, restarts, block, next_check = 0, 0, 1, 64
        converged, last_true, true = bool(history[0].max() <= self.tol), math.inf, None
        monitor = DivergenceMonitor(
            "CG's relative residual",
            "the matrix or preconditioner is not usable by CG",
            start=max(1.0, history[0].max()),
        )
        while not converged and iterations < self.maxiter:
            block = min(block, self.maxiter - iterations)
            run = self._step if self.graph is None else self.graph
            for _ in range(block):
                run()
            if self.cuda_graph and self.graph is None:
                self.graph = self._capture()
            chunk = self.record[iterations : iterations + block].double().cpu().numpy().reshape(block, 3, -1)
            done = np.all(chunk[:, 1] <= threshold, axis=1)
            steps = int(np.argmax(done)) + 1 if done.any() else block
            rr, rz = self._inspect(chunk[:steps], rr, rz, threshold, segment)
            iterations += steps
            history += list(np.sqrt(np.maximum(chunk[:steps, 1], 0)) / self.scale)
            monitor.update(float(history[-1].max()), f"iteration {iterations}")
            if done.any():
                residual64, true = self._true_residual()
                if true.max() <= self.tol:
                    converged = True
                    break
                if true.max() > 0.5 * last_true:  # a restart that gains nothing: the attainable accuracy
                    break
                last_true, restarts = true.max(), restarts + 1
                rr, rz = self._restart(residual64.to(self.A.dtype))
                self.counter.fill_(iterations)
                segment.clear()
            if len(segment) >= next_check:
                self._check_singular(segment, final=False)
                next_check *= 2
            block = self._next_block([float(h.max()) for h in history[-block - 1 :]], block, iterations)
        if not converged or true is None:
            _, true = self._true_residual()
            converged = bool(true.max() <= self.tol)
        condition = None if self.flexible else self._condition(segment)
        if not converged:
            self._check_singular(segment, final=True)
        worst = [float(h.max()) for h in history]
        return CGResult(self.x.clone(), iterations, converged, [float(v) for v in true], worst, restarts, condition)

    def _inspect(
        self, chunk: np.ndarray, rr: np.ndarray, rz: np.ndarray, threshold: np.ndarray, segment: list
    ) -> tuple[np.ndarray, np.ndarray]:
        """Breakdown checks over a block of recorded (pᵀAp, rᵀr, zᵀr); returns the last (rᵀr, zᵀr)."""
        curvature, rr_next, rz_next = chunk[:, 0], chunk[:, 1], chunk[:, 2]
        rr_before = np.concatenate([rr[None], rr_next[:-1]])
        rz_before = np.concatenate([rz[None], rz_next[:-1]])
        active = rr_before > threshold  # columns not yet converged
        if np.any(active & (rz_before > 0) & (curvature <= 0)):
            raise NotApplicableError(
                "CG met a direction of non-positive curvature (pᵀAp ≤ 0): the matrix is not positive definite; "
                "it is indefinite (e.g. Helmholtz beyond its first eigenvalue) or singular (e.g. only Neumann or "
                "periodic conditions)"
            )
        if np.any((rr_next > threshold) & (rz_next <= 0)):
            raise NotApplicableError("rᵀM⁻¹r ≤ 0: the preconditioner is not positive definite for this matrix")
        if not (np.all(np.isfinite(rr_next)) and np.all(np.isfinite(rz_next))):
            raise DivergenceError("CG produced non-finite values: the matrix or preconditioner is not usable")
        on = active[:, 0]
        segment.append(np.stack([rz_before[on, 0], curvature[on, 0], rz_next[on, 0]], axis=1))
        return rr_next[-1], rz_next[-1]

    def _condition(self, segment: list) -> float | None:
        values = np.concatenate(segment) if segment else np.empty((0, 3))
        if len(values) == 0:
            return None
        return lanczos_condition(values[:, 0], values[:, 1], values[:, 2])

    def _check_singular(self, segment: list, final: bool) -> None:
        """A Lanczos condition estimate beyond what the precision resolves means a singular matrix."""
        if self.flexible:
            return
        condition = self._condition(segment)
        if condition is not None and condition > self.singular_condition:
            raise PdesolveError(
                f"the matrix is singular (or too ill-conditioned for {self.A.dtype}): CG's condition estimate "
                f"{condition:.2g} after {sum(len(s) for s in segment)} iterations; the system has no unique solution"
            )

    def _next_block(self, recent: list[float], block: int, iterations: int) -> int:
        """Iterations until the next look: the predicted remaining count, at most ``check_every`` and
        at most the iterations so far (so a poor early prediction costs at most a doubling)."""
        if self.check_every <= 1:
            return 1
        limit = max(1, min(self.check_every, iterations))
        now, before = recent[-1], recent[0]
        if not (0 < now < before):
            return limit
        rate = (now / before) ** (1.0 / block)
        remaining = math.log(self.tol / now) / math.log(rate)
        return int(min(max(math.ceil(remaining), 1), limit))


def cg(
    operator: LinearOperator,
    b: torch.Tensor,
    preconditioner: Preconditioner | None = None,
    x0: torch.Tensor | None = None,
    **options: Any,
) -> CGResult:
    """Solve ``A x = b`` (columns of ``b`` at once) by (flexible) PCG; see :class:`ConjugateGradient`."""
    return ConjugateGradient(operator, preconditioner, **options).solve(b, x0)
