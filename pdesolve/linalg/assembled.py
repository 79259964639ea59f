"""PCG for an assembled sparse SPD matrix in float64, as ``fd`` and ``fem`` call it (``linsolve=cg``).

One algorithm serves every caller: the torch CG of :mod:`pdesolve.linalg.cg` (true residual recomputed in float64
at the end, breakdown checks). The preconditioner is the registry's (:mod:`pdesolve.linalg.registry`) entry of that
name: its host form (``r -> M⁻¹ r`` in numpy) on the CPU, its device form on CUDA.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch

from pdesolve.errors import NotApplicableError, PdesolveError
from pdesolve.linalg.cg import ConjugateGradient, Preconditioner
from pdesolve.linalg.host import HostPreconditioner
from pdesolve.linalg.registry import Setup, host_preconditioner, resolve
from pdesolve.linalg.system import SparseOperator

CHECK_EVERY = 16  # iterations between looks at the residuals (fewer host round trips; the count stays exact)


class HostApplied:
    """A float64 numpy preconditioner ``r -> M⁻¹ r`` applied to the CPU tensors of the torch CG."""

    capturable = False

    def __init__(self, apply: HostPreconditioner) -> None:
        self.host = apply

    def apply(self, r: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        z = torch.from_numpy(np.asarray(self.host(r.numpy()), dtype=np.float64))
        return z if out is None else out.copy_(z)


def device_of(name: str) -> torch.device:
    """``--device`` as a torch device, refusing CUDA where there is none."""
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise PdesolveError("--device cuda: no CUDA device is available")
    return device


class AssembledCG:
    """PCG for the SPD float64 ``matrix`` on ``device`` with the registered preconditioner ``precond``."""

    def __init__(
        self, matrix: sp.csr_matrix, precond: str, tol: float, maxiter: int, device: torch.device | str = "cpu"
    ) -> None:
        device = device_of(str(device))
        self.tol, self.maxiter = tol, maxiter
        self.operator = SparseOperator(matrix, device, torch.float64).compact()
        preconditioner: Preconditioner | None
        if device.type == "cpu":
            preconditioner = HostApplied(host_preconditioner(precond, matrix))
        else:
            preconditioner = resolve(precond, "host").device(Setup(self.operator, matrix))
        self.solver = ConjugateGradient(
            self.operator, preconditioner, tol=tol, maxiter=maxiter, check_every=CHECK_EVERY
        )

    def solve(self, rhs: np.ndarray) -> tuple[np.ndarray, int]:
        """``(x, iterations)``; an error when CG cannot solve the system or reaches ``maxiter`` first, a warning when
        it stops at the attainable accuracy above ``tol``."""
        try:
            result = self.solver.solve(torch.as_tensor(rhs, dtype=torch.float64, device=self.operator.device))
        except NotApplicableError as error:
            raise NotApplicableError(f"{error}; use linsolve=direct") from None
        if not result.converged:
            message = (
                f"CG did not reach tol={self.tol:g} in {result.iterations} iterations (true relative residual "
                f"{result.residual:.3g})"
            )
            if result.iterations >= self.maxiter:
                raise PdesolveError(f"{message}; raise maxiter or use a stronger precond (amg, ic0)")
            warnings.warn(f"{message}: the accuracy float64 attains on this matrix", stacklevel=3)
        return result.x.cpu().numpy(), result.iterations
