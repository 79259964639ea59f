"""Hard constraints built from a problem's conditions.

- Periodic axes enter the network only through ``cos(2πm(x − a)/L), sin(2πm(x − a)/L)``, so the
  output and all its derivatives are exactly periodic (Dong & Ni 2021).
- Dirichlet data on boxes, disks, polygons, their combinations and 2D meshes: ``u = g + φ N`` with ``φ``
  a smooth function vanishing exactly where the Dirichlet conditions hold (:mod:`pdesolve.problem.distance`:
  products of ``(x − a)(b − x)`` on boxes; elsewhere the approximate distance functions of Sukumar &
  Srinivasan 2022). Several conditions on different parts join by their transfinite interpolation,
  ``g = Σ_i w_i g_i`` with ``w_i = Π_{j≠i} φ_j / Σ_k Π_{j≠k} φ_j`` (their eq. 12).
- A mean-value gauge of an unknown known up to a constant (a pressure with no other condition): no loss term
  can see that constant, so it is dropped from the loss and set when the model is evaluated without autograd,
  ``p ← p + c − mean_Q p`` over fixed quadrature points Q (:class:`MeanGauge`).
- The initial condition: ``u = u₀(x) + τ N`` with ``τ = (t − t₀)/(t₁ − t₀)`` (Lagaris et al. 1998).
- Systems, per unknown: ``u_j = g_j + φ_j N_j`` with ``φ_j`` vanishing on the parts where the conditions naming
  ``u_j`` hold (each unknown claims parts on its own: an outflow claims its part for every unknown, a velocity
  condition only for the velocity); unknowns without such conditions (a pressure) stay free. An evolution
  system's initial condition, per evolving unknown, as below; its algebraic unknowns (the pressure) have none,
  and their mean-value gauge holds at every time, ``p(·, t) ← p(·, t) + c − mean_Q p(·, t)``.

Together: ``u = g(x, t) + u₀(x) − g(x, t₀) + φ(x) τ N``; on the boundary this is ``g + (u₀ − g(·, t₀))``,
so it holds both conditions only where the data are compatible, ``u₀ = g(·, t₀)`` on the Dirichlet boundary.
That is measured, not assumed: ``max |u₀ − g(·, t₀)|`` at boundary samples where ``φ = 0``
(:func:`initial_mismatch`). Above ``COMPATIBLE`` (relative to ``max(1, |g|)``) the Dirichlet condition stays
exact and the initial condition becomes a loss term, ``u = g(x, t) + φ(x) N``: no function continuous up to
``t₀`` can meet both, and the boundary value is the one a classical solver imposes too (FEM fixes the boundary
degrees of freedom after interpolating ``u₀``), whereas a misfit of the initial data is confined to ``t₀``. Initial data
that vanish on a circle miss a mesh's chords by ``O(h²)``; ``OutputTransform.initial_mismatch`` keeps the value.

Decaying data: where the initial data decay at a rate ``λ`` with ``λ (t₁ − t₀) ≥ DECAYING`` under the equation
(:func:`initial_decay_rate`; heat on a bounded domain with zero boundary data), the free part is scaled by
``e^{−λ(t − t₀)}``, ``u = g + e^{−λ(t − t₀)} (u₀ − g(t₀) + φτN)``: both conditions stay exact (the factor is 1 at
``t₀`` and multiplies ``φ`` on the boundary), and late values, 100× below ``u₀`` after a few ``1/λ``, are no
longer the difference of two ``O(u₀)`` terms (which turns the network's relative error into an absolute one).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from pdesolve.problem import Box, Coords, Dirichlet, Gauge, NetworkField, Periodic, Problem
from pdesolve.problem.conditions import evaluate_value
from pdesolve.problem.coords import SPACE_NAMES
from pdesolve.problem.distance import atoms, distance_to, has_distance, transfinite_weights
from pdesolve.problem.parts import PartSelector

COMPATIBLE = 1e-10  # largest |u₀ − g(t₀)| on the Dirichlet boundary, relative to max(1, |g|), for both to be exact
ON_BOUNDARY = 1e-12  # |φ| of a boundary sample on a Dirichlet part


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


def _periodic_faces(problem: Problem) -> set:
    """The faces of periodic axes of a box (claimed before any condition)."""
    if not isinstance(problem.domain, Box):
        return set()
    return {(k, side) for k, periodic in enumerate(problem.periodic_axes) if periodic for side in (0, 1)}


def hard_dirichlet_parts(problem: Problem) -> list[tuple[Dirichlet, frozenset]]:
    """The Dirichlet conditions of a scalar problem that can be imposed exactly, each with its boundary atoms.

    Conditions claim atoms (a box's faces, else boundary pieces; :func:`pdesolve.problem.distance.atoms`)
    in order, periodic faces first; a condition with ``on=None`` takes what is left. A condition whose
    ``on`` is a function of x cannot be placed on the geometry: it and everything after it stay soft.
    Systems: :func:`hard_system_parts`.
    """
    domain = problem.domain
    if problem.is_system or not has_distance(domain) or all(problem.periodic_axes):
        return []
    claimed = _periodic_faces(problem)
    out = []
    for condition in problem.boundary:
        if isinstance(condition, Periodic):
            continue
        if condition.on is not None and not isinstance(condition.on, PartSelector):
            break
        mine = atoms(domain, None if condition.on is None else condition.on.names) - claimed
        claimed |= mine
        if isinstance(condition, Dirichlet) and mine:
            out.append((condition, frozenset(mine)))
    return out


def hard_system_parts(problem: Problem, free: tuple[str, ...] = ()) -> dict[str, list[tuple[Dirichlet, frozenset]]]:
    """Per unknown of a system (less ``free``): its Dirichlet conditions imposed exactly, with their atoms.

    As :func:`hard_dirichlet_parts`, unknown by unknown: a Dirichlet condition claims atoms for the unknowns it
    names, any other boundary condition (an outflow) for all of them; a condition placed by a function of x
    leaves itself and the later ones soft for the unknowns it concerns. Unknowns left without: absent.
    """
    domain = problem.domain
    if not problem.is_system or not has_distance(domain):
        return {}
    chosen = [name for name in problem.unknowns if name not in free]
    claimed = {name: set(_periodic_faces(problem)) for name in chosen}
    out: dict[str, list[tuple[Dirichlet, frozenset]]] = {name: [] for name in chosen}
    placed = set(chosen)  # unknowns whose conditions can still be placed on the geometry
    for condition in problem.boundary:
        if isinstance(condition, (Periodic, Gauge)):
            continue
        names = [n for n in (condition.names if isinstance(condition, Dirichlet) else problem.unknowns) if n in placed]
        if condition.on is not None and not isinstance(condition.on, PartSelector):
            placed -= set(names)
            continue
        whole = atoms(domain, None if condition.on is None else condition.on.names)
        for name in names:
            mine = whole - claimed[name]
            claimed[name] |= mine
            if isinstance(condition, Dirichlet) and mine:
                out[name].append((condition, frozenset(mine)))
    return {name: parts for name, parts in out.items() if parts}


def hard_dirichlet_conditions(problem: Problem, free: tuple[str, ...] = ()) -> tuple[Dirichlet, ...]:
    """The Dirichlet conditions the output transform imposes exactly (a system's: for every unknown they name)."""
    if not problem.is_system:
        return tuple(condition for condition, _ in hard_dirichlet_parts(problem))
    parts = hard_system_parts(problem, free)
    exact = {name: [c for c, _ in chosen] for name, chosen in parts.items()}
    conditions = [c for c in problem.boundary if isinstance(c, Dirichlet)]
    return tuple(c for c in conditions if all(any(c is e for e in exact.get(n, [])) for n in c.names))


def split_coords(points: torch.Tensor, dim: int, evolution: bool) -> Coords:
    """Columns of (N, dim[+1]) points as the :class:`Coords` a problem's functions receive."""
    return Coords([points[:, k] for k in range(dim)], t=points[:, dim] if evolution else None)


def start_coords(points: torch.Tensor, problem: Problem) -> Coords:
    """The space columns of ``points`` at ``t = t₀``: what ``initial(x, p)`` receives (it may read ``x.t``)."""
    space = [points[:, k] for k in range(problem.dim)]
    return Coords(space, t=torch.full_like(space[0], float(problem.time[0])))


class OutputTransform(nn.Module):
    """``u = A(x, t) + B(x, t) N`` imposing the chosen conditions exactly (A = 0, B = 1 when none);
    ``unknown``: the system's unknown whose values the conditions give."""

    def __init__(
        self,
        problem: Problem,
        dirichlet: list[tuple[Dirichlet, frozenset]],
        initial: bool,
        initial_mismatch: float | None = None,
        unknown: str | None = None,
    ) -> None:
        super().__init__()
        self.problem = problem
        self.unknown = unknown
        self.dirichlet = tuple(condition for condition, _ in dirichlet)
        self.atoms = tuple(chosen for _, chosen in dirichlet)
        # (points, unknown, atoms) -> a field subtracted from that part's data (corner flows: pdesolve.pinn.corner)
        self.data_shift: Callable[[torch.Tensor, str | None, frozenset], torch.Tensor] | None = None
        self.initial = initial
        self.initial_mismatch = initial_mismatch  # max |u₀ − g(t₀)| on the Dirichlet boundary, where measured
        self.decay = 0.0  # λ of the decay factor e^{−λ(t − t₀)} (:func:`initial_decay_rate`); 0: none
        domain = problem.domain
        every = frozenset().union(*(chosen for _, chosen in dirichlet))
        self.distance = distance_to(domain, every) if dirichlet else None
        self.parts = [distance_to(domain, chosen, False) for _, chosen in dirichlet] if len(dirichlet) > 1 else []
        self.everywhere = bool(dirichlet) and every == atoms(domain, None)

    @property
    def active(self) -> bool:
        return bool(self.dirichlet) or self.initial

    def initial_values(self, x: Coords) -> Any:
        """``u₀`` (a system's: of ``unknown``) at space coordinates ``x``."""
        if self.unknown is None:
            return self.problem.initial(x, self.problem.p)
        return self.problem.initial_values(x)[self.unknown]

    def boundary_values(self, points: torch.Tensor, x: Coords) -> Any:
        """``Σ_i w_i g_i``: the Dirichlet data of every hard condition blended (one condition: its ``g``)."""
        p = self.problem.p
        data = [c.value if self.unknown is None else c.value[self.unknown] for c in self.dirichlet]
        values = [evaluate_value(value, x, p) for value in data]
        if self.data_shift is not None:
            values = [g - self.data_shift(points, self.unknown, part) for g, part in zip(values, self.atoms)]
        if len(values) == 1:
            return values[0]
        weights = transfinite_weights([phi(points) for phi in self.parts])
        return sum(w * g for w, g in zip(weights, values))

    def forward(self, points: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
        if not self.active:
            return raw
        problem = self.problem
        dim, evolution = problem.dim, problem.is_evolution
        x = split_coords(points, dim, evolution)
        shift: Any = 0.0
        factor: Any = 1.0
        if self.dirichlet:
            shift = self.boundary_values(points, x)
            factor = self.distance(points)
        boundary = shift  # g(x, t)
        if self.initial:
            t0, t1 = problem.time
            start = start_coords(points, problem)
            shift = shift + self.initial_values(start)
            if self.dirichlet:
                shift = shift - self.boundary_values(points, start)
            factor = factor * (points[:, dim] - t0) / (t1 - t0)
        if self.decay:  # g + e^{−λ(t − t₀)} (u₀ − g(t₀) + φτN)
            decay = torch.exp(-self.decay * (points[:, dim] - problem.time[0]))
            return boundary + decay * (shift - boundary + factor * raw)
        return shift + factor * raw


class SystemTransform(nn.Module):
    """Column ``j`` of the network's output through the :class:`OutputTransform` of unknown ``j`` (when it has
    exact conditions; free otherwise); ``initial``: every evolving unknown's initial condition exact too."""

    everywhere = False

    def __init__(self, problem: Problem, free: tuple[str, ...] = (), initial: bool = False) -> None:
        super().__init__()
        parts = hard_system_parts(problem, free)
        names = [name for name in problem.unknowns if name in parts or (initial and name in problem.evolving)]
        self.columns = nn.ModuleDict(
            {name: OutputTransform(problem, parts.get(name, []), initial, unknown=name) for name in names}
        )
        self.names = problem.unknowns
        self.initial = initial
        self.dirichlet = hard_dirichlet_conditions(problem, free)

    @property
    def active(self) -> bool:
        return bool(self.columns)

    def forward(self, points: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
        if not self.active:
            return raw
        columns = [
            self.columns[name](points, raw[:, j]) if name in self.columns else raw[:, j]
            for j, name in enumerate(self.names)
        ]
        return torch.stack(columns, dim=1)


GAUGE_POINTS = 8192
GAUGE_BATCH = 2**18  # points per evaluation of the gauge of an evolution system (Q × times)


class MeanGauge(nn.Module):
    """``mean(u_j) = c`` over ``GAUGE_POINTS`` Hammersley points of the domain, for an unknown that every loss
    term sees only up to a constant: outside autograd (evaluation) the constant is set; inside it (training) the
    output is left as it is, so that no row couples the points (the per-sample Gauss–Newton Jacobian stays exact)."""

    def __init__(self, problem: Problem, gauge: Gauge) -> None:
        super().__init__()
        self.gauge = gauge
        self.column = problem.unknowns.index(gauge.unknown)
        self.evolution = problem.is_evolution
        points = problem.domain.sample_interior(GAUGE_POINTS, seed=0, method="Hammersley")
        self.register_buffer("points", torch.as_tensor(points, dtype=torch.float64))

    def shift(self, evaluate: Any, points: torch.Tensor) -> torch.Tensor:
        """``c − mean_Q u_j`` with ``evaluate(points) -> outputs`` (the model before this gauge): a scalar, or in
        time one value per point, the mean in space at its time (one pass over Q per distinct time)."""
        space = self.points.to(points)
        if not self.evolution:
            return self.gauge.value - evaluate(space).mean(dim=0)[self.column]
        times, index = torch.unique(points[:, -1], return_inverse=True)
        chunk = max(1, GAUGE_BATCH // len(space))
        means = [points.new_zeros(0)]  # no points, no times
        for start in range(0, len(times), chunk):
            some = times[start : start + chunk]
            grid = torch.cat([space.repeat(len(some), 1), some.repeat_interleave(len(space))[:, None]], dim=1)
            means.append(evaluate(grid)[:, self.column].reshape(len(some), len(space)).mean(dim=1))
        return self.gauge.value - torch.cat(means)[index]


def exact_gauges(problem: Problem, free: tuple[str, ...]) -> list[Gauge]:
    """The mean-value gauges whose unknown no other condition fixes (no Dirichlet value anywhere, no outflow),
    and is not among ``free``: each residual sees it only through its derivatives."""
    fixed = {name for c in problem.boundary if isinstance(c, Dirichlet) for name in c.names or ()}
    if any(not isinstance(c, (Dirichlet, Gauge, Periodic)) for c in problem.boundary):
        fixed = set(problem.unknowns)  # an outflow (or any natural condition) sees the level
    gauges = [c for c in problem.boundary if isinstance(c, Gauge)]
    return [g for g in gauges if g.at is None and g.unknown not in fixed | set(free) and len(gauges) == 1]


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


def build_transform(problem: Problem, hard: bool, free: tuple[str, ...] = ()) -> OutputTransform | SystemTransform:
    """The output transform for ``hard_constraints``: Dirichlet where possible; the initial condition unless
    it is not periodic to first order along a periodic axis, or not compatible with the exact Dirichlet data
    (then it is a loss term; the module docstring says why). A system's per unknown (less ``free``)."""
    initial = hard and problem.is_evolution and initial_is_periodic(problem)
    if problem.is_system:
        parts = hard_system_parts(problem, free) if hard else {}
        for name in problem.evolving if initial else ():
            if name in parts:
                with torch.no_grad():
                    mismatch, scale = initial_mismatch(OutputTransform(problem, parts[name], False, unknown=name))
                initial = initial and mismatch <= COMPATIBLE * max(1.0, scale)
        return SystemTransform(problem, free if hard else tuple(problem.unknowns), initial)
    dirichlet = hard_dirichlet_parts(problem) if hard else []
    mismatch = None
    if initial and dirichlet:
        with torch.no_grad():
            mismatch, scale = initial_mismatch(OutputTransform(problem, dirichlet, initial=False))
        initial = mismatch <= COMPATIBLE * max(1.0, scale)
    transform = OutputTransform(problem, dirichlet, initial=initial, initial_mismatch=mismatch)
    if transform.active and problem.is_evolution:
        rate = initial_decay_rate(transform)
        if rate * (problem.time[1] - problem.time[0]) >= DECAYING:
            transform.decay = rate
    return transform
