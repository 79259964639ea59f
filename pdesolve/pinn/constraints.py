"""Hard constraints built from a problem's conditions.

- Periodic axes enter the network only through ``cos(2πm(x − a)/L), sin(2πm(x − a)/L)``, so the
  output and all its derivatives are exactly periodic (Dong & Ni 2021).
- Dirichlet data on boxes, disks and polygons: ``u = g + φ N`` with ``φ`` a smooth function vanishing
  exactly on the boundary (products of ``(x − a)(b − x)`` on boxes; on polygons the approximate distance
  function of Sukumar & Srinivasan 2022, segments joined by the R-equivalence of order 1).
- The initial condition: ``u = u₀(x) + τ N`` with ``τ = (t − t₀)/(t₁ − t₀)`` (Lagaris et al. 1998).

Together: ``u = g(x, t) + u₀(x) − g(x, t₀) + φ(x) τ N``; on the boundary this is ``g`` whenever the
data are compatible (``u₀ = g(·, t₀)`` there).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from pdesolve.problem import Box, Coords, Dirichlet, Disk, Periodic, Polygon, Problem
from pdesolve.problem.conditions import evaluate_value

Distance = Callable[[torch.Tensor], torch.Tensor]


class InputEmbedding(nn.Module):
    """Maps points (N, dim[+1], time last) to network inputs: [−1, 1] per free axis, cos/sin per periodic one."""

    def __init__(self, lower: list[float], upper: list[float], periodic: list[bool], modes: int = 1) -> None:
        super().__init__()
        self.register_buffer("lower", torch.tensor(lower, dtype=torch.float64))
        self.register_buffer("upper", torch.tensor(upper, dtype=torch.float64))
        self.periodic = list(periodic)
        self.modes = modes

    @property
    def n_out(self) -> int:
        return sum(2 * self.modes if p else 1 for p in self.periodic)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        lower, upper = self.lower.to(points.dtype), self.upper.to(points.dtype)
        scaled = (points - lower) / (upper - lower)  # [0, 1] per axis
        columns = []
        for k, periodic in enumerate(self.periodic):
            if periodic:
                for m in range(1, self.modes + 1):
                    angle = 2 * math.pi * m * scaled[:, k]
                    columns += [torch.cos(angle), torch.sin(angle)]
            else:
                columns.append(2 * scaled[:, k] - 1)
        return torch.stack(columns, dim=1)


def box_distance(lower: list[float], upper: list[float], axes: list[int]) -> Distance:
    """``Π_k 4 (x_k − a_k)(b_k − x_k)/(b_k − a_k)²`` over the given axes: 0 on their faces, 1 at the centre."""

    def phi(points: torch.Tensor) -> torch.Tensor:
        out = torch.ones_like(points[:, 0])
        for k in axes:
            a, b = lower[k], upper[k]
            out = out * 4 * (points[:, k] - a) * (b - points[:, k]) / (b - a) ** 2
        return out

    return phi


def disk_distance(center: tuple[float, float], radius: float) -> Distance:
    """``(r² − |x − c|²)/r²``."""

    def phi(points: torch.Tensor) -> torch.Tensor:
        squared = (points[:, 0] - center[0]) ** 2 + (points[:, 1] - center[1]) ** 2
        return (radius**2 - squared) / radius**2

    return phi


def polygon_distance(vertices: tuple[tuple[float, float], ...]) -> Distance:
    """Sukumar & Srinivasan (2022), eqs. (5)-(8): trimmed segment distances joined as ``1/φ = Σ_i 1/φ_i``.

    On the boundary some ``φ_i`` is 0, ``1/φ_i`` is infinite and ``φ`` exactly 0 (collocation points lie
    inside, where everything is smooth).
    """
    p1 = torch.tensor(vertices, dtype=torch.float64)
    p2 = torch.roll(p1, -1, dims=0)
    length = torch.linalg.vector_norm(p2 - p1, dim=1)
    centre = (p1 + p2) / 2
    scale = max(max(abs(c) for v in vertices for c in v), 1.0)

    def phi(points: torch.Tensor) -> torch.Tensor:
        a, b, c, n = (v.to(points) for v in (p1, p2, centre, length))
        x, y = points[:, :1], points[:, 1:2]  # (N, 1) against (segments,)
        dx, dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
        f = ((x - a[:, 0]) * dy - (y - a[:, 1]) * dx) / n
        t = ((n / 2) ** 2 - (x - c[:, 0]) ** 2 - (y - c[:, 1]) ** 2) / n
        varphi = torch.sqrt(t**2 + f**4)
        parts = torch.sqrt(f**2 + ((varphi - t) / 2) ** 2) / scale
        return 1 / torch.sum(1 / parts, dim=1)

    return phi


def dirichlet_distance(problem: Problem) -> Distance | None:
    """A function vanishing exactly where the problem's Dirichlet data hold, or None when none is known."""
    domain = problem.domain
    if isinstance(domain, Box):
        axes = [k for k, periodic in enumerate(problem.periodic_axes) if not periodic]
        return box_distance(list(domain.lower), list(domain.upper), axes)
    if isinstance(domain, Disk):
        return disk_distance(domain.center, domain.radius)
    if isinstance(domain, Polygon):
        return polygon_distance(domain.vertices)
    return None


def hard_dirichlet_condition(problem: Problem) -> Dirichlet | None:
    """The Dirichlet condition that can be imposed exactly: one, covering every non-periodic face (a system's
    conditions are soft)."""
    if problem.is_system:
        return None
    others = [c for c in problem.boundary if not isinstance(c, Periodic)]
    if len(others) != 1 or not isinstance(others[0], Dirichlet) or others[0].on is not None:
        return None
    if all(problem.periodic_axes):
        return None
    return others[0] if dirichlet_distance(problem) is not None else None


def split_coords(points: torch.Tensor, dim: int, evolution: bool) -> Coords:
    """Columns of (N, dim[+1]) points as the :class:`Coords` a problem's functions receive."""
    return Coords([points[:, k] for k in range(dim)], t=points[:, dim] if evolution else None)


class OutputTransform(nn.Module):
    """``u = A(x, t) + B(x, t) N`` imposing the chosen conditions exactly (A = 0, B = 1 when none)."""

    def __init__(self, problem: Problem, dirichlet: Dirichlet | None, initial: bool) -> None:
        super().__init__()
        self.problem = problem
        self.dirichlet = dirichlet
        self.initial = initial
        self.distance = dirichlet_distance(problem) if dirichlet is not None else None

    @property
    def active(self) -> bool:
        return self.dirichlet is not None or self.initial

    def forward(self, points: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
        if not self.active:
            return raw
        problem, p = self.problem, self.problem.p
        dim, evolution = problem.dim, problem.is_evolution
        x = split_coords(points, dim, evolution)
        shift: Any = 0.0
        factor: Any = 1.0
        if self.dirichlet is not None:
            shift = evaluate_value(self.dirichlet.value, x, p)
            factor = self.distance(points)
        if self.initial:
            t0, t1 = problem.time
            start = split_coords(points, dim, False)
            shift = shift + problem.initial(start, p)
            if self.dirichlet is not None:
                at_start = Coords(list(start), t=torch.full_like(points[:, dim], t0))
                shift = shift - evaluate_value(self.dirichlet.value, at_start, p)
            factor = factor * (points[:, dim] - t0) / (t1 - t0)
        return shift + factor * raw


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
            u0 = problem.initial(split_coords(points, problem.dim, False), problem.p)
            u0 = torch.as_tensor(u0, dtype=torch.float64).expand(samples)
            (du0,) = torch.autograd.grad(u0.sum(), points, allow_unused=True, materialize_grads=True)
            ends.append(torch.cat([u0.detach(), du0[:, k]]))
        if float(torch.max(torch.abs(ends[0] - ends[1]))) > tol * max(1.0, float(torch.max(torch.abs(ends[0])))):
            return False
    return True


def build_transform(problem: Problem, hard: bool) -> OutputTransform:
    """The output transform for ``hard_constraints``: Dirichlet where possible, the initial condition
    unless it is not periodic to first order along a periodic axis."""
    dirichlet = hard_dirichlet_condition(problem) if hard else None
    initial = hard and problem.is_evolution and initial_is_periodic(problem)
    return OutputTransform(problem, dirichlet, initial=initial)
