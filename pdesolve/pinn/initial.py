"""Whether a PINN's initial condition can be exact beside its Dirichlet data, and how fast the data decay.

With both exact, ``u = g(x, t) + u₀(x) − g(x, t₀) + φ(x) τ N`` (:mod:`pdesolve.pinn.transforms`) is
``g + (u₀ − g(·, t₀))`` on the boundary, so it holds both conditions only where the data are compatible,
``u₀ = g(·, t₀)`` on the Dirichlet boundary. That is measured, not assumed: ``max |u₀ − g(·, t₀)|`` at boundary
samples where ``φ = 0`` (:func:`initial_mismatch`). Above ``COMPATIBLE`` (relative to ``max(1, |g|)``) the
Dirichlet condition stays exact and the initial condition becomes a loss term, ``u = g(x, t) + φ(x) N``: no
function continuous up to ``t₀`` can meet both, and the boundary value is the one a classical solver imposes too
(FEM fixes the boundary degrees of freedom after interpolating ``u₀``), whereas a misfit of the initial data is
confined to ``t₀``. Initial data that vanish on a circle miss a mesh's chords by ``O(h²)``;
``OutputTransform.initial_mismatch`` keeps the value. Along a periodic axis, ``u₀ + τN`` carries a jump of ``∂u₀``
across the faces into all times: the initial condition is exact only when ``u₀`` is periodic to first order
(:func:`initial_is_periodic`).

Decaying data: where the initial data decay at a rate ``λ`` with ``λ (t₁ − t₀) ≥ DECAYING`` under the equation
(:func:`initial_decay_rate`; heat on a bounded domain with zero boundary data), the free part is scaled by
``e^{−λ(t − t₀)}``, ``u = g + e^{−λ(t − t₀)} (u₀ − g(t₀) + φτN)``: both conditions stay exact (the factor is 1 at
``t₀`` and multiplies ``φ`` on the boundary), and late values, 100× below ``u₀`` after a few ``1/λ``, are no
longer the difference of two ``O(u₀)`` terms (which turns the network's relative error into an absolute one).
"""

from __future__ import annotations

from typing import Any

import torch

from pdesolve.pinn.transforms import OutputTransform, split_coords, start_coords
from pdesolve.problem import Coords, NetworkField, Problem
from pdesolve.problem.coords import SPACE_NAMES

COMPATIBLE = 1e-10  # largest |u₀ − g(t₀)| on the Dirichlet boundary, relative to max(1, |g|), for both to be exact
ON_BOUNDARY = 1e-12  # |φ| of a boundary sample on a Dirichlet part


def initial_is_periodic(problem: Problem, samples: int = 16, tol: float = 1e-8) -> bool:
    """Whether ``u₀`` and its first derivatives match across every periodic axis.

    ``u₀ + τN`` carries a jump of ``∂u₀`` across the faces into all times, so the initial condition is
    imposed exactly only when ``u₀`` is periodic to first order (Allen–Cahn's ``x² cos πx`` is not).
    """
    lower, upper = problem.domain.bounds
    generator = torch.Generator().manual_seed(0)
    for k, periodic in enumerate(problem.periodic_axes):
        if not periodic:
            continue
        base = torch.rand(samples, problem.dim, generator=generator, dtype=torch.float64)
        base = torch.as_tensor(lower) + base * torch.as_tensor(upper - lower)
        ends = []
        for value in (lower[k], upper[k]):
            points = base.clone()
            points[:, k] = value
            points.requires_grad_(True)
            end = []
            for u0 in initial_data(problem, start_coords(points, problem)):
                u0 = torch.as_tensor(u0, dtype=torch.float64).expand(samples)
                (du0,) = torch.autograd.grad(u0.sum(), points, allow_unused=True, materialize_grads=True)
                end += [u0.detach(), du0[:, k]]
            ends.append(torch.cat(end))
        if float(torch.max(torch.abs(ends[0] - ends[1]))) > tol * max(1.0, float(torch.max(torch.abs(ends[0])))):
            return False
    return True


def initial_data(problem: Problem, x: Coords) -> list[Any]:
    """``u₀`` at space coordinates ``x``: one entry, or a system's one per evolving unknown."""
    if not problem.is_system:
        return [problem.initial(x, problem.p)]
    values = problem.initial_values(x)
    return [values[name] for name in problem.evolving]


def initial_mismatch(transform: OutputTransform, samples: int = 2000) -> tuple[float, float]:
    """``max |u₀ − g(·, t₀)|`` and ``max |g(·, t₀)|`` at boundary samples where the transform's Dirichlet
    conditions hold (``φ = 0``)."""
    problem = transform.problem
    space, _ = problem.domain.sample_boundary(samples, seed=0)
    t0 = torch.full((len(space), 1), float(problem.time[0]), dtype=torch.float64)
    points = torch.cat([torch.as_tensor(space, dtype=torch.float64), t0], dim=1)
    on = torch.abs(transform.distance(points)) <= ON_BOUNDARY
    if not bool(on.any()):
        return 0.0, 0.0
    points = points[on]
    x = split_coords(points, problem.dim, True)
    data = torch.as_tensor(transform.boundary_values(points, x), dtype=torch.float64).expand(len(points))
    initial = torch.as_tensor(transform.initial_values(start_coords(points, problem)))
    return float(torch.max(torch.abs(initial.to(torch.float64) - data))), float(torch.max(torch.abs(data)))


DECAYING = 2.0  # λ (t₁ − t₀) from which the initial data count as decaying (e² ≈ 7.4-fold at their initial rate)
DECAY_POINTS = 1024


def initial_decay_rate(transform: OutputTransform, samples: int = DECAY_POINTS) -> float:
    """``λ = −⟨w, F(u₀)⟩ / ⟨w, w⟩`` with ``w = u₀ − g(·, t₀)``, over Hammersley points of the domain at ``t₀``:
    the rate at which the initial data start to decay under ``u_t = F(u)`` (for ``F = νΔu`` and ``g = 0``,
    ν times the Rayleigh quotient ``∫|∇u₀|² / ∫u₀²``, at least ν λ₁)."""
    problem = transform.problem
    dim, t0 = problem.dim, float(problem.time[0])
    space = torch.as_tensor(problem.domain.sample_interior(samples, seed=0, method="Hammersley"), dtype=torch.float64)
    names = SPACE_NAMES[:dim] + ("t",)
    coords = {name: column.clone().requires_grad_(True) for name, column in zip(names, space.T)}
    coords["t"] = torch.full((len(space),), t0, dtype=torch.float64, requires_grad=True)
    x = Coords([coords[name] for name in names[:dim]], t=coords["t"])
    u0 = torch.as_tensor(transform.initial_values(x), dtype=torch.float64).expand(len(space))
    change = problem.rhs(NetworkField(u0, coords), x, problem.p)
    change = torch.as_tensor(getattr(change, "values", change), dtype=torch.float64).expand(len(space))
    points = torch.stack([coords[name] for name in names], dim=1)
    w = u0 - (torch.as_tensor(transform.boundary_values(points, x)) if transform.dirichlet else 0.0)
    size = float(torch.sum(w.detach() ** 2))
    return 0.0 if size == 0.0 else -float(torch.sum(w.detach() * change.detach())) / size
