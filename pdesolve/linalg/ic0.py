"""IC(0) as a CPU reference preconditioner for the torch CG (factor and triangular solves on the CPU).

The factor is :class:`pdesolve.linalg.host.IncompleteCholesky` (Meijerink & van der
Vorst 1977); its triangular solves are sequential, so on a GPU they would cost more than they save.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from pdesolve.linalg.host import IncompleteCholesky


class IncompleteCholeskyCPU:
    """``z = L⁻ᵀ L⁻¹ r`` computed on the CPU in float64, whatever the device of ``r``."""

    capturable = False

    def __init__(self, matrix: sp.spmatrix) -> None:
        self.factor = IncompleteCholesky(matrix)

    def apply(self, r: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        z = torch.from_numpy(np.asarray(self.factor.apply(r.detach().to("cpu", torch.float64).numpy())))
        z = z.to(device=r.device, dtype=r.dtype)
        return z if out is None else out.copy_(z)
