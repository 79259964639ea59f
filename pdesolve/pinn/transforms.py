"""Output transforms ``u = A(x, t) + B(x, t) N`` that impose conditions exactly on the network's output ``N``.

Dirichlet data: ``u = g + φ N``, ``φ`` vanishing exactly where the conditions hold
(:mod:`pdesolve.problem.distance`); several conditions on different parts join by their transfinite
interpolation, ``g = Σ_i w_i g_i`` with ``w_i = Π_{j≠i} φ_j / Σ_k Π_{j≠k} φ_j`` (Sukumar & Srinivasan 2022, eq. 12).
The initial condition: ``u = u₀(x) + τ N`` with ``τ = (t − t₀)/(t₁ − t₀)`` (Lagaris et al. 1998); both together,
``u = g(x, t) + u₀(x) − g(x, t₀) + φ(x) τ N``, and with a decay factor (:mod:`pdesolve.pinn.initial`)
``u = g + e^{−λ(t − t₀)} (u₀ − g(t₀) + φτN)``. Systems: one transform per unknown (:class:`SystemTransform`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from pdesolve.pinn.hard_parts import hard_dirichlet_conditions, hard_system_parts
from pdesolve.problem import Coords, Dirichlet, Problem
from pdesolve.problem.conditions import evaluate_value
from pdesolve.problem.distance import atoms, distance_to, transfinite_weights


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
