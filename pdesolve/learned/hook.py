"""``--set precond=preconditioners/<name>.pt``: the loader that adds learned preconditioners to the registry.

:mod:`pdesolve.linalg.registry` offers it every name it has not registered; a file (or a shipped checkpoint of
that name) becomes an :class:`~pdesolve.linalg.registry.Entry` whose factory refuses the checkpoint off its
family or size range. The model's setup inference (factor or prolongations) falls in the solver's setup time,
the DCDM network's per-iteration inference in its solve time, and the preconditioner's ``flexible`` attribute
tells the solver to run flexible CG for the nonlinear one.
"""

from __future__ import annotations

from typing import Any

from pdesolve.errors import NotApplicableError, PdesolveError
from pdesolve.learned.checkpoint import Checkpoint, check_applicable, find_checkpoint, load_checkpoint
from pdesolve.linalg.preconditioners import box_shape
from pdesolve.linalg.registry import Entry, Setup


def load(name: str) -> Entry | None:
    """The entry of the checkpoint file ``name``; None when there is no such file."""
    if not find_checkpoint(name).is_file():
        return None
    checkpoint = load_checkpoint(name)
    return Entry(name, checkpoint.kind.summary, device=lambda setup: build(checkpoint, name, setup))


def build(checkpoint: Checkpoint, source: str, setup: Setup) -> Any:
    """The checkpoint's preconditioner for ``setup.problem``'s system."""
    if setup.problem is None or setup.layout is None:
        raise PdesolveError(f"{source}: a learned preconditioner needs the problem and its grid")
    check_applicable(checkpoint, setup.problem, setup.matrix.shape[0], source=source)
    shape = box_shape(setup.layout.mask)
    if shape is None:
        raise NotApplicableError("learned preconditioners need the unknowns to fill a box; this domain is not one")
    return checkpoint.kind.preconditioner(checkpoint.model, setup.operator, setup.matrix, shape)
