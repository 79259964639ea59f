"""``--set precond=preconditioners/<name>.pt``: a learned preconditioner for the ``cg`` solver.

The checkpoint is refused off its family or size range; the model's setup inference (factor or prolongations)
falls in the solver's setup time, the DCDM network's per-iteration inference in its solve time, and the
preconditioner's ``flexible`` attribute tells the solver to run flexible CG for the nonlinear one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from pdesolve.errors import NotApplicableError
from pdesolve.learned.checkpoint import check_applicable, load_checkpoint
from pdesolve.linalg.system import LinearOperator
from pdesolve.problem import Problem


def learned_preconditioner(
    path: str, problem: Problem, operator: LinearOperator, matrix: sp.csr_matrix, unknown: np.ndarray
) -> Any:
    """The preconditioner of the checkpoint at ``path`` for ``problem``'s system (unknowns ``unknown``)."""
    from pdesolve.linalg.solver import box_shape  # the solver module imports this one lazily

    checkpoint = load_checkpoint(path)
    check_applicable(checkpoint, problem, matrix.shape[0], source=str(path))
    shape = box_shape(unknown)
    if shape is None:
        raise NotApplicableError("learned preconditioners need the unknowns to fill a box; this domain is not one")
    return checkpoint.kind.preconditioner(checkpoint.model, operator, matrix, shape)
