"""Which problems a PINN can train on: the equation must evaluate on a network field.

Some operators exist only for grid fields (``inverse_laplacian`` needs a periodic spectral grid, as in
the vorticity form of Navier–Stokes), and a user's residual may go through numpy, losing the derivatives. Rather
than guess from the problem's text, :func:`why_not_applicable` evaluates the residual (and the initial
data) once with a tiny network at a few points and turns a failure into the reason ``pdesolve list``
and ``compare`` show.
"""

from __future__ import annotations

import torch

from pdesolve.errors import NotApplicableError
from pdesolve.pinn.losses import initial_residual, pde_residual
from pdesolve.pinn.model import build_model
from pdesolve.pinn.outflow import viscosity
from pdesolve.problem import Outflow, Problem

MAX_DIM = 3
PROBE_POINTS = 4


def probe_points(problem: Problem, n: int = PROBE_POINTS) -> torch.Tensor:
    """``n`` float64 points on the diagonal of the bounding box (× the time interval), off its faces."""
    lower, upper = (torch.as_tensor(b, dtype=torch.float64) for b in problem.domain.bounds)
    if problem.is_evolution:
        lower = torch.cat([lower, torch.tensor([problem.time[0]], dtype=torch.float64)])
        upper = torch.cat([upper, torch.tensor([problem.time[1]], dtype=torch.float64)])
    fractions = torch.linspace(0.2, 0.8, n, dtype=torch.float64)[:, None]
    return lower + fractions * (upper - lower)


def why_not_applicable(problem: Problem) -> str | None:
    """Why a PINN cannot solve ``problem`` (too many dimensions, an equation that does not evaluate
    on a :class:`~pdesolve.problem.NetworkField`), or None."""
    if problem.dim > MAX_DIM:
        return f"networks here take at most {MAX_DIM} space dimensions"
    if problem.is_system and problem.conditions(Outflow):
        try:
            viscosity(problem)
        except NotApplicableError as error:
            return str(error)
        except Exception as error:  # a user's residual may fail in any way on autograd tensors
            return f"its equation does not evaluate on a network field ({type(error).__name__}: {error})"
    with torch.device("cpu"):
        model = build_model(problem, width=4, depth=1, hard_constraints=False).double()
        points = probe_points(problem)
        try:
            residual = pde_residual(model, problem, points)
            if problem.is_evolution:
                start = points.clone()
                start[:, -1] = problem.time[0]
                initial_residual(model, problem, start)
        except NotApplicableError as error:
            return f"its equation does not evaluate on a network field ({error})"
        except Exception as error:  # a user's residual may fail in any way on autograd tensors
            return f"its equation does not evaluate on a network field ({type(error).__name__}: {error})"
    expected = (len(points), len(problem.unknowns)) if problem.is_system else points[:, 0].shape
    if residual.shape != expected:
        return f"its residual has shape {tuple(residual.shape)} at {len(points)} points, expected one value per point"
    if not residual.requires_grad:
        return "its residual does not depend on the network's output through torch operations (numpy?)"
    return None
