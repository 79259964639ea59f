"""Stokes corner flows where the wall velocity jumps at a corner of a box (the lid-driven cavity's top corners).

Two walls meet at an angle α and slide along themselves with speeds ``U_a``, ``U_b`` (no flow through them):
the velocity jumps at the corner, its gradient and the pressure blow up like ``1/r``, and a smooth network
cannot follow. The Stokes flow of that corner is known in closed form (Taylor's scraper; Moffatt 1964,
"Viscous and resistive eddies near a sharp corner", §2): with ``θ`` from wall a to wall b, the stream
function ``ψ = r f(θ)``,

    f = A sin θ + B cos θ + C θ sin θ + D θ cos θ,   f(0) = f(α) = 0,  f'(0) = U_a,  f'(α) = U_b,

``u_r = f'(θ)``, ``u_θ = −f(θ)`` (self-similar: the velocity depends on θ only and equals each wall's data
on it), and ``p = 2ν (C sin θ + D cos θ) / r`` (the harmonic conjugate of ``Δψ = 2(C cos θ − D sin θ)/r``),
so ``∇p − ν Δw = 0`` and ``∇·w = 0`` exactly.

The network's velocity becomes ``w = Σ_c η_c (w_c − ĝ_c) + ĝ + φ N`` and its pressure ``p = Σ_c η_c p_c +
N_p``: ``η_c = 1 − S(r_c/R_c)`` is the quintic cut-off of :mod:`pdesolve.pinn.singular`, ``ĝ`` the
transfinite blend of the walls' data (:mod:`pdesolve.pinn.transforms`) and ``ĝ_c`` the same blend of the
data frozen at corner c's value. On a wall next to c, ``w_c`` is that wall's data at c, so the sum is the
data again (the conditions stay exact to round-off); ``R_c`` is the distance from c to the nearest face not
at c, so ``η_c = 0`` on every other face. What the residual then sees: near the corner ``ĝ − ĝ_c`` and
``(1 − η_c)(w_c − ĝ_c)`` are ``O(r)`` and ``O(r³)`` times bounded angular functions, the cut-off's
products (``∇η·∇w_c``, ``p_c ∇η``, ``w_c·∇η``) are bounded, and the Stokes part cancels exactly; what is
left unbounded is the inertia of the corner flow, ``(w·∇)w ~ 1/r`` — the Navier–Stokes flow departs from
the Stokes one by ``O(Re r)`` there, which the network takes up as best it can. At the vertex itself the
term is 0: the model keeps the value the blend gives there (the condition listed first claims the corner).

A corner is enriched where both faces carry exact Dirichlet data for both velocity components, the data's
normal components at the corner are zero and its tangential ones are not both zero (a jump). Elsewhere the
data are continuous at the corner (or the flow there is not of this kind) and nothing changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from torch import nn

from pdesolve.errors import NotApplicableError
from pdesolve.pinn.outflow import viscosity
from pdesolve.pinn.singular import cutoff, polar
from pdesolve.pinn.transforms import SystemTransform
from pdesolve.problem import Box, Coords, Problem
from pdesolve.problem.conditions import evaluate_value
from pdesolve.problem.systems import vector_names

NORMAL_TOL = 1e-12  # largest normal velocity at a corner for the corner flow to apply (no flow through the walls)


@dataclass(frozen=True)
class SlidingCorner:
    """Walls meeting at ``vertex``: wall a along the direction ``start`` (radians), wall b at ``start + angle``
    (counter-clockwise, the domain between), tangential speeds ``speeds = (U_a, U_b)`` away from the vertex,
    cut-off radius ``radius``; ``faces``: the faces (axis, side) of walls a and b."""

    vertex: tuple[float, float]
    start: float
    angle: float
    speeds: tuple[float, float]
    radius: float
    faces: tuple[tuple[int, int], tuple[int, int]]

    @cached_property
    def coefficients(self) -> tuple[float, float, float, float]:
        """``(A, B, C, D)`` of ``f`` from ``f(0) = f(α) = 0``, ``f'(0) = U_a``, ``f'(α) = U_b``."""
        a = self.angle
        s, c = math.sin(a), math.cos(a)
        rows = [
            [0.0, 1.0, 0.0, 0.0],  # f(0)
            [s, c, a * s, a * c],  # f(α)
            [1.0, 0.0, 0.0, 1.0],  # f'(0)
            [c, -s, s + a * c, c - a * s],  # f'(α)
        ]
        return tuple(float(v) for v in np.linalg.solve(np.array(rows), np.array([0.0, 0.0, *self.speeds])))


def corner_flow(corner: SlidingCorner, points: torch.Tensor, nu: float) -> tuple[torch.Tensor, ...]:
    """The Stokes corner flow ``(u, v, p)`` at points (N, 2), without cut-off."""
    return _corner_flow(corner, *polar(points, corner.vertex, corner.start, corner.angle), nu)


def _corner_flow(corner: SlidingCorner, r: torch.Tensor, theta: torch.Tensor, nu: float) -> tuple[torch.Tensor, ...]:
    A, B, C, D = corner.coefficients
    sin, cos = torch.sin(theta), torch.cos(theta)
    f = A * sin + B * cos + C * theta * sin + D * theta * cos
    df = A * cos - B * sin + C * (sin + theta * cos) + D * (cos - theta * sin)
    # (u_r, u_θ) = (f', −f) along e_r, e_θ at the global angle start + θ
    s0, c0 = math.sin(corner.start), math.cos(corner.start)
    cos_phi, sin_phi = cos * c0 - sin * s0, sin * c0 + cos * s0
    u = df * cos_phi + f * sin_phi
    v = df * sin_phi - f * cos_phi
    return u, v, 2 * nu * (C * sin + D * cos) / r


def _polar_cutoff(corner: SlidingCorner, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(r, θ, η)`` about the corner, ``η = 0`` at the vertex itself."""
    r, theta = polar(points, corner.vertex, corner.start, corner.angle)
    away = (points[:, 0] != corner.vertex[0]) | (points[:, 1] != corner.vertex[1])
    return r, theta, torch.where(away, cutoff(r, corner.radius), torch.zeros_like(r))


class CornerFlows(nn.Module):
    """``Σ_c η_c (w_c, p_c)`` as columns in the order of the problem's unknowns (others 0); the ``− η_c ĝ_c``
    part enters through the data, ``g_i − Σ_c η_c g_i(c)`` on part i (:meth:`data_shift`, installed in the
    transform)."""

    def __init__(self, corners: list[SlidingCorner], nu: float, unknowns: tuple[str, ...], velocity: tuple[str, str]):
        super().__init__()
        self.corners, self.nu, self.unknowns, self.velocity = list(corners), nu, unknowns, velocity
        self.corner_data: dict[tuple[str, frozenset], list[float]] = {}  # (unknown, part) → g_part(c) per corner

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        columns = {name: torch.zeros_like(points[:, 0]) for name in self.unknowns}
        for c in self.corners:
            r, theta, eta = _polar_cutoff(c, points)
            u, v, p = _corner_flow(c, r, theta, self.nu)
            columns[self.velocity[0]] = columns[self.velocity[0]] + eta * u
            columns[self.velocity[1]] = columns[self.velocity[1]] + eta * v
            columns["p"] = columns["p"] + eta * p
        return torch.stack([columns[name] for name in self.unknowns], dim=1)

    def data_shift(self, points: torch.Tensor, unknown: str, part: frozenset) -> torch.Tensor:
        """``Σ_c η_c(r_c) g_part(c)``: subtracted from the data of ``part`` for ``unknown`` (0 at the vertices)."""
        out = torch.zeros_like(points[:, 0])
        for c, value in zip(self.corners, self.corner_data.get((unknown, part), [0.0] * len(self.corners))):
            if value != 0.0:
                out = out + value * _polar_cutoff(c, points)[2]
        return out


def _data_at(problem: Problem, condition, name: str, vertex: tuple[float, float]) -> float:
    x = Coords([torch.tensor([vertex[0]], dtype=torch.float64), torch.tensor([vertex[1]], dtype=torch.float64)])
    return float(torch.as_tensor(evaluate_value(condition.value[name], x, problem.p)).reshape(-1)[0])


def sliding_corners(problem: Problem, transform: SystemTransform) -> CornerFlows | None:
    """The corner flows of a stationary 2D flow on a rectangle whose exact velocity data jump at corners
    (None if none), with the data shifts installed in ``transform``'s velocity columns."""
    domain = problem.domain
    velocity = vector_names(problem.unknowns, problem.dim) if "p" in problem.unknowns else None
    if not isinstance(domain, Box) or problem.dim != 2 or problem.is_evolution or velocity is None:
        return None
    if not all(name in transform.columns for name in velocity):
        return None
    try:
        nu = viscosity(problem)
    except NotApplicableError:
        return None
    lower, upper = domain.lower, domain.upper
    parts = {name: list(zip(transform.columns[name].dirichlet, transform.columns[name].atoms)) for name in velocity}
    corners, owners = [], []
    for sx in (0, 1):
        for sy in (0, 1):
            vertex = (float((lower, upper)[sx][0]), float((lower, upper)[sy][1]))
            # wall a along y (face x = const), wall b along x; directions away from the vertex
            faces = ((0, sx), (1, sy))
            along = ((0.0, 1.0 - 2 * sy), (1.0 - 2 * sx, 0.0))
            walls = []
            for face in faces:
                owner = {name: next((c, a) for c, a in parts[name] if face in a) for name in velocity}
                if len({id(c) for c, _ in owner.values()}) != 1:
                    break
                walls.append(next(iter(owner.values())))
            if len(walls) < 2:
                continue
            data = [[_data_at(problem, c, name, vertex) for name in velocity] for c, _ in walls]
            normal = (data[0][0], data[1][1])
            speeds = [sum(d * e for d, e in zip(data[k], along[k])) for k in range(2)]
            if max(map(abs, normal)) > NORMAL_TOL or speeds == [0.0, 0.0]:
                continue
            order = (0, 1) if along[0][0] * along[1][1] - along[0][1] * along[1][0] > 0 else (1, 0)
            start = math.atan2(along[order[0]][1], along[order[0]][0])
            others = [abs(vertex[0] - (lower, upper)[1 - sx][0]), abs(vertex[1] - (lower, upper)[1 - sy][1])]
            corners.append(
                SlidingCorner(
                    vertex,
                    start,
                    math.pi / 2,
                    (speeds[order[0]], speeds[order[1]]),
                    min(others),
                    (faces[order[0]], faces[order[1]]),
                )
            )
            owners.append(walls)
    if not corners:
        return None
    flows = CornerFlows(corners, nu, problem.unknowns, velocity)
    for name in velocity:
        column = transform.columns[name]
        for condition, part in zip(column.dirichlet, column.atoms):
            values = []
            for corner, walls in zip(corners, owners):
                touching = [c for c, a in walls if c is condition and a == part]
                values.append(_data_at(problem, condition, name, corner.vertex) if touching else 0.0)
            flows.corner_data[(name, part)] = values
        column.data_shift = flows.data_shift
    return flows
