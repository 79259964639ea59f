"""A mass-conserving stream function with exact velocity conditions for 2D channel flows (``ansatz="channel"``).

The domain is a box ``[x₀, x₁] × [a, b]`` less disks (obstacles); the velocity is given on the inflow face
``x = x₀`` (``u = u_in(y)``, ``v = 0``) and vanishes on the walls ``y = a``, ``y = b`` and on every disk; the face
``x = x₁`` has a natural condition (a do-nothing outflow, a loss term). The network's first output ``N`` enters

    ψ = G + Q φ² N,   (u, v) = (∂ψ/∂y, −∂ψ/∂x),

- ``Ψ_in(y) = ∫_a^y u_in`` (Gauss–Legendre, exact for polynomial profiles of degree < 2 ``QUADRATURE``),
  ``Q = Ψ_in(b)`` the inflow's flux;
- ``G = (1 − Σ_k η_k) Ψ_in(y) + Σ_k η_k c_k``: ``η_k = S(s)`` of ``s = (r_k − R_k)/(ρ_k − R_k)``, the C³ septic
  step ``S = 1 − (35s⁴ − 84s⁵ + 70s⁶ − 20s⁷)`` (1 on the circle and 0 from ``ρ_k`` on, its first three derivatives 0
  at both ends, so the momentum residual's third derivatives of ψ stay continuous), ``ρ_k − R_k`` = ``REACH`` × the
  disk's gap to the nearest other boundary (a C^∞ bump ``exp(−s²/(1 − s²))`` instead: its steep derivatives near
  ``s = 1`` left residuals 1e3× the rest there);
  ``c_k = Ψ_in(y_k) + Q θ_k``, the stream function's unknown value on disk k, with ``θ_k`` trained (a bias-free
  ``nn.Linear`` on a column of ones, so the per-sample Gauss–Newton Jacobian takes it as any other weight);
- ``φ = (1 − e^{−(x − x₀)/ℓ}) · 4(y − a)(b − y)/(b − a)² · Π_k (r_k² − R_k²)/(r_k² + R_k²)``, ``ℓ = (b − a)/2``:
  zero on the inflow face, the walls and the disks, where then ``ψ = G`` and ``∇ψ = ∇G``.

Hence ``∇·w = ψ_yx − ψ_xy = 0`` whatever the weights, the velocity equals its data exactly on the inflow face,
walls and disks (``∇G = (0, u_in)``, ``0``, ``0`` there), and the flux between the walls at every x is
``ψ(x, b) − ψ(x, a) = Q``. Other domains would need ``G`` from a transfinite interpolation of the boundary's stream
function with its normal derivative (Hermite data; Sukumar & Srinivasan 2022 interpolate values only): not built
here, where the channel's data give ``G`` in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from pdesolve.errors import PdesolveError
from pdesolve.pinn.hard_parts import hard_system_parts
from pdesolve.problem import Box, Coords, Dirichlet, Disk, Problem
from pdesolve.problem import pieces as bp
from pdesolve.problem.conditions import evaluate_value
from pdesolve.problem.csg import Difference, Union

QUADRATURE = 8  # Gauss–Legendre nodes of Ψ_in
REACH = 0.9  # a disk's blend ends at this share of its gap to the nearest other boundary
SAMPLES = 64  # points per boundary piece at which the data are checked
ZERO = 1e-12  # |data| below this (relative to the inflow's peak) counts as zero


@dataclass(frozen=True)
class ChannelLayout:
    """The channel box ``[x₀, x₁] × [a, b]``, its disks (centre, radius, end of the blend) and the conditions
    the ansatz satisfies exactly (the inflow's first)."""

    lower: tuple[float, float]
    upper: tuple[float, float]
    disks: tuple[tuple[tuple[float, float], float, float], ...]
    conditions: tuple[Dirichlet, ...]


def _disks(domain) -> list[Disk]:
    if isinstance(domain, Disk):
        return [domain]
    if isinstance(domain, Union):
        return _disks(domain.first) + _disks(domain.second)
    raise PdesolveError("pinn: ansatz=channel needs a box less disks")


def _face(piece, lower: tuple[float, float], upper: tuple[float, float]) -> str | None:
    """Which face of the box a segment lies on ('left', 'right', 'bottom', 'top'), None for an arc."""
    if not isinstance(piece, bp.Segment):
        return None
    (xa, ya), (xb, yb) = piece.a, piece.b
    for name, axis, value in (("left", 0, lower[0]), ("right", 0, upper[0]), ("bottom", 1, lower[1])):
        if (xa, ya)[axis] == value == (xb, yb)[axis]:
            return name
    return "top"


def channel_layout(problem: Problem) -> ChannelLayout:
    """The layout of a channel flow; a one-line error where ``problem`` is not one (module docstring)."""
    domain = problem.domain
    need = "pinn: ansatz=channel needs"
    if problem.dim != 2 or problem.is_evolution or problem.unknowns[:2] != ("u", "v"):
        raise PdesolveError(f"{need} a stationary 2D flow with unknowns (u, v, ...)")
    if not (isinstance(domain, Difference) and isinstance(domain.first, Box)):
        raise PdesolveError(f"{need} a box less disks")
    lower, upper = tuple(map(float, domain.first.lower)), tuple(map(float, domain.first.upper))
    parts = hard_system_parts(problem)
    pieces = domain.pieces()
    claims = [
        [next((c for c, chosen in parts.get(n, []) if i in chosen), None) for n in "uv"] for i in range(len(pieces))
    ]
    inflow: Dirichlet | None = None
    walls: list[Dirichlet] = []
    for piece, (cu, cv) in zip(pieces, claims):
        face = _face(piece, lower, upper)
        if face == "right":
            if cu is not None or cv is not None:
                raise PdesolveError(f"{need} a natural (outflow) condition on the right face")
            continue
        if cu is None or cu is not cv:
            raise PdesolveError(f"{need} one exact velocity condition on every part but the outflow")
        if face == "left":
            if inflow is not None and cu is not inflow:
                raise PdesolveError(f"{need} one inflow condition on the left face")
            inflow = cu
        elif all(cu is not w for w in walls):
            walls.append(cu)
    if inflow is None:
        raise PdesolveError(f"{need} an inflow condition on the left face")
    if any(inflow is w for w in walls):
        raise PdesolveError(f"{need} the inflow condition on the left face only")
    _check_data(problem, pieces, claims, inflow, lower, upper)
    disks = _disks(domain.second)
    reach = []
    for k, disk in enumerate(disks):
        (cx, cy), r = disk.center, disk.radius
        gaps = [cx - lower[0] - r, upper[0] - cx - r, cy - lower[1] - r, upper[1] - cy - r]
        gaps += [
            float(np.hypot(cx - o.center[0], cy - o.center[1])) - r - o.radius for j, o in enumerate(disks) if j != k
        ]
        if min(gaps) <= 0:
            raise PdesolveError(f"{need} disks inside the box, apart from each other")
        reach.append(r + REACH * min(gaps) / (2 if len(disks) > 1 else 1))
    described = tuple((tuple(map(float, d.center)), float(d.radius), rho) for d, rho in zip(disks, reach))
    return ChannelLayout(lower, upper, described, (inflow, *walls))


def _check_data(problem: Problem, pieces: list, claims: list, inflow: Dirichlet, lower, upper) -> None:
    """A one-line error where the inflow is zero or has v ≠ 0, u_in does not vanish at the walls, or the walls'
    or disks' data are not 0."""
    need = "pinn: ansatz=channel needs"

    def data(condition: Dirichlet, name: str, points: np.ndarray) -> np.ndarray:
        x = Coords([torch.as_tensor(points[:, 0]), torch.as_tensor(points[:, 1])])
        value = torch.as_tensor(evaluate_value(condition.value[name], x, problem.p), dtype=torch.float64)
        return value.expand(len(points)).numpy()

    s = np.linspace(0.0, 1.0, SAMPLES)
    ends = np.array([[lower[0], lower[1]], [lower[0], upper[1]]])
    left = np.stack([np.full_like(s, lower[0]), lower[1] + s * (upper[1] - lower[1])], axis=1)
    peak = float(np.max(np.abs(data(inflow, "u", left))))
    if peak == 0.0:
        raise PdesolveError(f"{need} a non-zero inflow")
    if np.max(np.abs(data(inflow, "v", left))) > ZERO * peak or np.max(np.abs(data(inflow, "u", ends))) > ZERO * peak:
        raise PdesolveError(f"{need} v = 0 on the inflow and u = 0 where it meets the walls")
    for piece, (cu, _) in zip(pieces, claims):
        if cu is None or cu is inflow:
            continue
        points = piece.at(s)
        if max(np.max(np.abs(data(cu, n, points))) for n in "uv") > ZERO * peak:
            raise PdesolveError(f"{need} no slip (u = v = 0) on the walls and the disks")


def _step(s: torch.Tensor) -> torch.Tensor:
    """``1 − (35s⁴ − 84s⁵ + 70s⁶ − 20s⁷)`` on [0, 1], 1 below and 0 above: C³."""
    s = s.clamp(0.0, 1.0)
    return 1 - s**4 * (35 - 84 * s + 70 * s**2 - 20 * s**3)


class ChannelStream(nn.Module):
    """``ψ(points, N)`` of the module docstring for a :class:`ChannelLayout` and the problem's inflow data."""

    def __init__(self, problem: Problem, layout: ChannelLayout) -> None:
        super().__init__()
        self.problem, self.layout = problem, layout
        self.inflow = layout.conditions[0].value["u"]
        nodes, weights = np.polynomial.legendre.leggauss(QUADRATURE)
        self.register_buffer("nodes", torch.as_tensor(nodes, dtype=torch.float64))
        self.register_buffer("weights", torch.as_tensor(weights, dtype=torch.float64))
        self.levels = nn.Linear(1, len(layout.disks), bias=False)  # θ_k
        nn.init.zeros_(self.levels.weight)
        with torch.no_grad():
            a, b = layout.lower[1], layout.upper[1]
            self.flux = float(self.inflow_stream(torch.tensor([b], dtype=torch.float64)))
            self.base = [
                float(self.inflow_stream(torch.tensor([cy], dtype=torch.float64))) for (_, cy), *_ in layout.disks
            ]
        self.height = b - a

    @property
    def conditions(self) -> tuple[Dirichlet, ...]:
        return self.layout.conditions

    def inflow_stream(self, y: torch.Tensor) -> torch.Tensor:
        """``Ψ_in(y) = ∫_a^y u_in(x₀, s) ds`` by Gauss–Legendre."""
        x0, a = self.layout.lower
        half = (y - a)[:, None] / 2
        s = a + half * (1 + self.nodes.to(y))  # (N, nodes)
        x = Coords([torch.full_like(s, x0).reshape(-1), s.reshape(-1)])
        u = torch.as_tensor(evaluate_value(self.inflow, x, self.problem.p)).to(y).expand(s.numel()).reshape(s.shape)
        return half[:, 0] * (u @ self.weights.to(y))

    def forward(self, points: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
        x, y = points[:, 0], points[:, 1]
        (x0, a), (_, b) = self.layout.lower, self.layout.upper
        inflow = self.inflow_stream(y)
        levels = self.levels(torch.ones_like(x)[:, None])  # (N, disks): θ_k at every point
        blend, shift = torch.zeros_like(x), torch.zeros_like(x)
        phi = (1 - torch.exp(-(x - x0) / (self.height / 2))) * 4 * (y - a) * (b - y) / (b - a) ** 2
        for k, ((cx, cy), radius, reach) in enumerate(self.layout.disks):
            squared = (x - cx) ** 2 + (y - cy) ** 2
            eta = _step((torch.sqrt(squared) - radius) / (reach - radius))
            blend = blend + eta
            shift = shift + eta * (self.base[k] + self.flux * levels[:, k])
            phi = phi * (squared - radius**2) / (squared + radius**2)
        return (1 - blend) * inflow + shift + self.flux * phi**2 * raw


def section_flux(model: nn.Module, layout: ChannelLayout, x: float, nodes: int = 20, panels: int = 20) -> float:
    """``∫ u(x, y) dy`` over the fluid of the channel's section at ``x`` (any model whose first output is u):
    Gauss–Legendre, ``panels`` panels of ``nodes`` nodes on each stretch between the walls, the disks and the
    circles where their blends end (the blend's step is C³ there, so the rule is split at it)."""
    points, weights = np.polynomial.legendre.leggauss(nodes)
    (_, a), (_, b) = layout.lower, layout.upper
    inside, cuts = [], []
    for (cx, cy), radius, reach in layout.disks:
        for rho in (radius, reach):
            half = np.sqrt(max(rho**2 - (x - cx) ** 2, 0.0))
            cuts += [cy - half, cy + half]
            if rho == radius and half > 0:
                inside.append((cy - half, cy + half))
    edges = sorted({a, b, *(c for c in cuts if a < c < b)})
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        if any(lo >= low and hi <= high for low, high in inside):
            continue
        ends = np.linspace(lo, hi, panels + 1)
        for left, right in zip(ends[:-1], ends[1:]):
            y = left + (right - left) * (1 + points) / 2
            with torch.no_grad():
                u = model(torch.as_tensor(np.stack([np.full_like(y, x), y], axis=1), dtype=torch.float64))[:, 0]
            total += (right - left) / 2 * float(u.numpy() @ weights)
    return total
