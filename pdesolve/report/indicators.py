"""A-posteriori indicators of a run, measurable without any reference: how far the solution is from
satisfying its own equation, boundary conditions and initial condition on a fresh set of points.

- ``residual_rms``: the root mean square of the PDE residual (``residual(u)``, or ``u_t − rhs(u)``)
  at interior points (and times) drawn afresh (not the training or test points); for a system one RMS
  per equation (``residual_rms_per_equation``, in the residual's row order) and ``residual_rms`` the RMS
  of the pointwise norm over the equations, ``√(Σ_e rms_e²)``;
- ``boundary_max``: the largest violation of a Dirichlet, Neumann or Robin condition at fresh
  boundary points (where its ``on`` holds; in a system, of every unknown the condition acts on);
- ``initial_max``: the largest ``|u(x, t₀) − u₀(x)|`` at fresh interior points (a system's: of its evolving
  unknowns).

Derivatives (``indicators_derivatives``):

- ``"autograd"``: solutions with a differentiable form (``Solution.differentiable``: the PINN's network,
  TENG's networks interpolated in time) are evaluated as the PINN loss evaluates them, on a
  :class:`~pdesolve.problem.NetworkField` of the network itself, so the residual is that of the
  function the solution is (on a steep front too);
- ``"interpolant"``: every other solution (grid and mesh solutions, and so the neural operators', which
  are grids) is sampled on a tensor stencil of 5 nodes per axis (spacing ``h`` = 10⁻² of the axis'
  extent) around each point, and the Lagrange polynomial through the nodes is differentiated by torch
  autograd: any residual a problem writes evaluates on it as on a network. At the stencil's centre its
  derivatives are O(h⁴) accurate where the solution is smooth on the scale ``h``; across a front narrower
  than ``h`` they are not. Its times keep ``2h`` away from the ends of the time interval.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch

from pdesolve.problem import Coords, Dirichlet, NetworkField, Neumann, Problem, Robin, Unknowns
from pdesolve.problem.conditions import evaluate_value
from pdesolve.problem.coords import SPACE_NAMES
from pdesolve.problem.field import Field
from pdesolve.problem.systems import equation_list, time_residual
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


def local_field(solution: Solution, problem: Problem, points: np.ndarray) -> tuple[Any, Coords]:
    """The solution's local interpolants at ``points`` (N, dim[+1]) as a differentiable field (a system's
    :class:`~pdesolve.problem.Unknowns`, one field per unknown)."""
    lower, upper = problem.domain.bounds
    extents = list(upper - lower) + ([problem.time[1] - problem.time[0]] if problem.is_evolution else [])
    steps = STEP * np.asarray(extents, dtype=float)
    axes = len(steps)
    offsets = np.array(list(itertools.product(NODES, repeat=axes))) * steps  # (5^axes, axes)
    stencil = (points[:, None, :] + offsets[None]).reshape(-1, axes)
    count = len(problem.unknowns)
    shape = (len(points),) + (len(NODES),) * axes + ((count,) if problem.is_system else ())
    values = torch.as_tensor(np.asarray(solution(stencil), dtype=float).reshape(shape))
    names = SPACE_NAMES[: problem.dim] + (("t",) if problem.is_evolution else ())
    coords = {name: torch.tensor(points[:, k], dtype=torch.float64, requires_grad=True) for k, name in enumerate(names)}
    for k, name in enumerate(names):  # contract one axis at a time: (N, 5, ...) -> (N, ...)
        basis = _lagrange((coords[name] - torch.as_tensor(points[:, k])) / steps[k])
        values = torch.einsum("ni,ni...->n...", basis, values)
    x = Coords([coords[name] for name in names[: problem.dim]], t=coords.get("t"))
    if problem.is_system:
        return Unknowns({n: NetworkField(values[:, j], coords) for j, n in enumerate(problem.unknowns)}, problem.dim), x
    return NetworkField(values, coords), x


def solution_field(solution: Solution, problem: Problem, points: np.ndarray) -> tuple[Any, Coords]:
    """The solution at ``points`` as a differentiable field: its own (autograd) where it has one, else its
    local interpolant."""
    if solution.differentiable:
        return solution.field(points)
    return local_field(solution, problem, points)


def _as_values(result: Any, like: torch.Tensor) -> torch.Tensor:
    values = result.values if isinstance(result, Field) else result
    return torch.broadcast_to(torch.as_tensor(values, dtype=like.dtype, device=like.device), like.shape)


def _fields(u: Any) -> dict[str, NetworkField]:
    """The field of every unknown by name (a scalar problem's one field under None)."""
    return dict(u) if isinstance(u, Unknowns) else {None: u}


def _with_times(problem: Problem, space: np.ndarray, rng: np.random.Generator, margin: float) -> np.ndarray:
    if not problem.is_evolution:
        return space
    t0, t1 = problem.time
    return np.column_stack([space, rng.uniform(t0 + margin * (t1 - t0), t1 - margin * (t1 - t0), len(space))])


def residual_points(solution: Solution, problem: Problem, rng: np.random.Generator) -> np.ndarray:
    """The fresh interior points (N, dim[+1]) the residual is measured at (times over the whole interval for
    a differentiable solution, ``2h`` away from its ends for an interpolant)."""
    margin = 0.0 if solution.differentiable else 2 * STEP
    return _with_times(problem, problem.domain.sample_interior(POINTS, seed=SEED), rng, margin)


def residual_rows(solution: Solution, problem: Problem, points: np.ndarray) -> list[torch.Tensor]:
    """The residual at ``points``, one (N,) tensor per equation (one for a scalar problem)."""
    u, x = solution_field(solution, problem, points)
    if problem.is_system:
        like = next(iter(_fields(u).values())).values
        rows = (
            time_residual(problem, u, x) if problem.is_evolution else equation_list(problem.residual(u, x, problem.p))
        )
        return [_as_values(row, like).detach() for row in rows]
    if problem.is_evolution:
        result = u.derivative("t") - problem.rhs(u, x, problem.p)
    else:
        result = problem.residual(u, x, problem.p)
    return [_as_values(result, u.values).detach()]


def residual_rms(solution: Solution, problem: Problem, rng: np.random.Generator) -> list[float]:
    """The RMS of each equation's residual at the fresh points."""
    rows = residual_rows(solution, problem, residual_points(solution, problem, rng))
    return [float(torch.sqrt(torch.mean(row.double() ** 2))) for row in rows]


def _violation(
    condition: Any, field: NetworkField, x: Coords, normals: torch.Tensor, value: Any, p: Any
) -> torch.Tensor:
    if isinstance(condition, Dirichlet):
        return field.values - _as_values(evaluate_value(value, x, p), field.values)
    normal = sum(field.derivative(name).values * normals[:, k] for k, name in enumerate(field.space_names))
    if isinstance(condition, Neumann):
        return normal - _as_values(evaluate_value(condition.flux, x, p), field.values)
    target = _as_values(evaluate_value(condition.value, x, p), field.values)
    return condition.alpha * field.values + condition.beta * normal - target


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
        u, x = solution_field(solution, problem, _with_times(problem, space[mine], rng, 0.0))
        for name, field in _fields(u).items():
            named = getattr(condition, "names", None)
            if named is not None and name not in named:
                continue  # a system's Dirichlet condition on other unknowns
            value = condition.value[name] if named is not None else getattr(condition, "value", None)
            n = torch.as_tensor(normals[mine], dtype=field.values.dtype, device=field.values.device)
            violation = _violation(condition, field, x, n, value, problem.p)
            worst = max(worst, float(torch.max(torch.abs(violation.detach()))))
    return worst


def initial_max(solution: Solution, problem: Problem) -> float | None:
    if not problem.is_evolution:
        return None
    space = problem.domain.sample_interior(POINTS, seed=SEED + 1)
    t0 = problem.time[0]
    values = np.asarray(solution(np.column_stack([space, np.full(len(space), t0)])), dtype=float)
    x = Coords(list(space.T), t=np.full(len(space), t0))
    if problem.is_system:  # the evolving unknowns' columns
        given = problem.initial_values(x)
        columns = [problem.unknowns.index(name) for name in problem.evolving]
        initial = np.stack(
            [np.broadcast_to(np.asarray(given[name], dtype=float), len(space)) for name in problem.evolving], 1
        )
        return float(np.max(np.abs(values[:, columns] - initial)))
    initial = np.asarray(problem.initial(x, problem.p), dtype=float)
    return float(np.max(np.abs(values - initial)))


def indicators(solution: Solution, problem: Problem) -> dict[str, Any]:
    """``residual_rms``, ``boundary_max`` and ``initial_max`` of ``solution`` on fresh points, how its
    derivatives were taken (``indicators_derivatives``), and a system's ``residual_rms_per_equation``."""
    rng = np.random.default_rng(SEED)
    per_equation = residual_rms(solution, problem, rng)
    out: dict[str, Any] = {
        "residual_rms": float(np.sqrt(np.sum(np.square(per_equation)))),
        "boundary_max": boundary_max(solution, problem, rng),
        "initial_max": initial_max(solution, problem),
        "indicators_derivatives": "autograd" if solution.differentiable else "interpolant",
    }
    if problem.is_system:
        out["residual_rms_per_equation"] = per_equation
    return out
