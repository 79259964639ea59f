"""A-posteriori indicators of a run, measurable without any reference: how far the solution is from
satisfying its own equation, boundary conditions and initial condition on a fresh set of points.

- ``residual_rms``: the root mean square of the PDE residual (``residual(u)``, or ``u_t − rhs(u)``)
  at interior points (and times) drawn afresh (not the training or test points);
- ``boundary_max``: the largest violation of a Dirichlet, Neumann or Robin condition at fresh
  boundary points (where its ``on`` holds);
- ``initial_max``: the largest ``|u(x, t₀) − u₀(x)|`` at fresh interior points.

The derivatives are those of the solution's local interpolant: at every point, the solution is
sampled on a tensor stencil of 5 nodes per axis (spacing ``h`` = 10⁻² of the axis' extent) and the
Lagrange polynomial through them is differentiated by torch autograd, so that any residual a
problem writes (``div(a * grad(u))``, ``u * d(u, "x")``, ...) evaluates on it as on a network,
whatever the solver (network, grid or mesh). At the stencil's centre its derivatives are O(h⁴) accurate.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch

from pdesolve.errors import PdesolveError
from pdesolve.problem import Coords, Dirichlet, NetworkField, Neumann, Problem, Robin
from pdesolve.problem.conditions import evaluate_value
from pdesolve.problem.coords import SPACE_NAMES
from pdesolve.problem.field import Field
from pdesolve.solvers.solution import Solution

NODES = np.arange(-2.0, 3.0)  # the stencil, in steps of h
STEP = 1e-2  # h as a fraction of each axis' extent
POINTS = 1000
SEED = 7919  # the fresh points' seed, distinct from the test points' (0) and training seeds
NETWORK_FAMILIES = ("pinn", "teng", "operator")


def _lagrange(s: torch.Tensor) -> torch.Tensor:
    """The Lagrange basis on ``NODES`` at ``s`` (N,), shape (N, len(NODES))."""
    columns = []
    for i, node in enumerate(NODES):
        column = torch.ones_like(s)
        for j, other in enumerate(NODES):
            if j != i:
                column = column * (s - other) / (node - other)
        columns.append(column)
    return torch.stack(columns, dim=1)


def local_field(solution: Solution, problem: Problem, points: np.ndarray) -> tuple[NetworkField, Coords]:
    """The solution's local interpolants at ``points`` (N, dim[+1]) as a differentiable field."""
    lower, upper = problem.domain.bounds
    extents = list(upper - lower) + ([problem.time[1] - problem.time[0]] if problem.is_evolution else [])
    steps = STEP * np.asarray(extents, dtype=float)
    axes = len(steps)
    offsets = np.array(list(itertools.product(NODES, repeat=axes))) * steps  # (5^axes, axes)
    stencil = (points[:, None, :] + offsets[None]).reshape(-1, axes)
    samples = torch.as_tensor(np.asarray(solution(stencil), dtype=float).reshape((len(points),) + (len(NODES),) * axes))
    names = SPACE_NAMES[: problem.dim] + (("t",) if problem.is_evolution else ())
    coords = {name: torch.tensor(points[:, k], dtype=torch.float64, requires_grad=True) for k, name in enumerate(names)}
    values = samples
    for k, name in enumerate(names):  # contract one axis at a time: (N, 5, ...) -> (N, ...)
        basis = _lagrange((coords[name] - torch.as_tensor(points[:, k])) / steps[k])
        values = torch.einsum("ni,ni...->n...", basis, values)
    field = NetworkField(values, coords)
    return field, Coords([coords[name] for name in names[: problem.dim]], t=coords.get("t"))


def _as_values(result: Any, like: torch.Tensor) -> torch.Tensor:
    values = result.values if isinstance(result, Field) else result
    return torch.broadcast_to(torch.as_tensor(values, dtype=like.dtype), like.shape)


def _with_times(problem: Problem, space: np.ndarray, rng: np.random.Generator, margin: float) -> np.ndarray:
    if not problem.is_evolution:
        return space
    t0, t1 = problem.time
    return np.column_stack([space, rng.uniform(t0 + margin * (t1 - t0), t1 - margin * (t1 - t0), len(space))])


def residual_rms(solution: Solution, problem: Problem, rng: np.random.Generator) -> float:
    points = _with_times(problem, problem.domain.sample_interior(POINTS, seed=SEED), rng, 2 * STEP)
    u, x = local_field(solution, problem, points)
    if problem.is_evolution:
        result = u.derivative("t") - problem.rhs(u, x, problem.p)
    else:
        result = problem.residual(u, x, problem.p)
    return float(torch.sqrt(torch.mean(_as_values(result, u.values).detach() ** 2)))


def boundary_max(solution: Solution, problem: Problem, rng: np.random.Generator) -> float | None:
    """The largest violation of the Dirichlet, Neumann and Robin conditions (None without any)."""
    conditions = [c for c in problem.boundary if isinstance(c, (Dirichlet, Neumann, Robin))]
    if not conditions:
        return None
    space, normals = problem.domain.sample_boundary(POINTS, seed=SEED)
    claimed = np.zeros(len(space), dtype=bool)
    worst = 0.0
    for condition in problem.boundary:
        mine = ~claimed & np.broadcast_to(condition.applies(Coords(list(space.T))), claimed.shape)
        claimed |= mine
        if not mine.any() or condition not in conditions:
            continue
        u, x = local_field(solution, problem, _with_times(problem, space[mine], rng, 0.0))
        n = torch.as_tensor(normals[mine])
        normal = sum(u.derivative(name).values * n[:, k] for k, name in enumerate(u.space_names))
        if isinstance(condition, Dirichlet):
            violation = u.values - _as_values(evaluate_value(condition.value, x, problem.p), u.values)
        elif isinstance(condition, Neumann):
            violation = normal - _as_values(evaluate_value(condition.flux, x, problem.p), u.values)
        else:
            target = _as_values(evaluate_value(condition.value, x, problem.p), u.values)
            violation = condition.alpha * u.values + condition.beta * normal - target
        worst = max(worst, float(torch.max(torch.abs(violation.detach()))))
    return worst


def initial_max(solution: Solution, problem: Problem) -> float | None:
    if not problem.is_evolution:
        return None
    space = problem.domain.sample_interior(POINTS, seed=SEED + 1)
    t0 = problem.time[0]
    values = np.asarray(solution(np.column_stack([space, np.full(len(space), t0)])), dtype=float)
    initial = np.asarray(problem.initial(Coords(list(space.T), t=np.full(len(space), t0)), problem.p), dtype=float)
    return float(np.max(np.abs(values - initial)))


def indicators(solution: Solution, problem: Problem) -> dict[str, float | None]:
    """``residual_rms``, ``boundary_max`` and ``initial_max`` of ``solution`` on fresh points."""
    if problem.is_system:
        raise PdesolveError("the a-posteriori indicators cover problems of one unknown, not yet systems")
    rng = np.random.default_rng(SEED)
    return {
        "residual_rms": residual_rms(solution, problem, rng),
        "boundary_max": boundary_max(solution, problem, rng),
        "initial_max": initial_max(solution, problem),
    }
