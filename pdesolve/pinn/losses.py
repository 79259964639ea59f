"""Residuals of every condition at the training points, and how they are weighted into one loss.

- PDE residual: stationary ``residual(u, x, p)``, evolution ``u_t − rhs(u, x, p)``, on a
  :class:`~pdesolve.problem.NetworkField` (autograd derivatives).
- A system's equations as columns of an (N, equations) residual; its Dirichlet conditions per named unknown;
  a gauge ``mean(p) − c`` over the interior points or ``p(x₀) − c``; a do-nothing outflow's traction
  ``ν ∂w/∂n − p n`` per velocity component (:mod:`pdesolve.pinn.outflow`).
- Dirichlet ``u − g``, Neumann ``∂u/∂n − h``, Robin ``αu + β∂u/∂n − g``; soft periodicity
  ``u(a) − u(b)`` and ``∂u(a) − ∂u(b)``; the initial condition ``u(x, t₀) − u₀(x)``.
- Weights: fixed, or balanced by gradient norms, ``λ_i = Σ_j ‖∇L_j‖ / ‖∇L_i‖`` as a moving average
  (Wang, Wang, Wang & Perdikaris 2023, "An expert's guide to training PINNs", §3; after Wang, Teng &
  Perdikaris 2021).
- Causal weights (Wang, Sankaran & Perdikaris 2022, "Respecting causality"): the residual loss of time
  chunk ``i`` is weighted by ``exp(−ε Σ_{k<i} L_k)``, without gradient through the weight.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from pdesolve.pinn.outflow import traction, viscosity
from pdesolve.pinn.sampling import PointSet
from pdesolve.pinn.transforms import start_coords
from pdesolve.problem import Coords, Dirichlet, Gauge, NetworkField, Neumann, Outflow, Problem, Robin, Unknowns
from pdesolve.problem.conditions import evaluate_value
from pdesolve.problem.coords import SPACE_NAMES
from pdesolve.problem.field import Field
from pdesolve.problem.systems import equation_list, time_residual


def _values(result: Any, like: torch.Tensor) -> torch.Tensor:
    values = result.values if isinstance(result, Field) else result
    return torch.as_tensor(values, dtype=like.dtype, device=like.device).expand_as(like)


def network_field(model: nn.Module, problem: Problem, points: torch.Tensor) -> tuple[Any, Coords]:
    """The model at ``points`` as a differentiable field (a system's :class:`Unknowns`, one field per output
    column), with the coordinates the problem functions see."""
    names = SPACE_NAMES[: problem.dim] + (("t",) if problem.is_evolution else ())
    coords = {name: points[:, k].detach().clone().requires_grad_(True) for k, name in enumerate(names)}
    output = model(torch.stack([coords[name] for name in names], dim=1))
    if problem.is_system:
        fields = {name: NetworkField(output[:, k], coords) for k, name in enumerate(problem.unknowns)}
        u: Any = Unknowns(fields, problem.dim)
    else:
        u = NetworkField(output, coords)
    x = Coords([coords[name] for name in names[: problem.dim]], t=coords.get("t"))
    return u, x


def pde_residual(model: nn.Module, problem: Problem, points: torch.Tensor) -> torch.Tensor:
    """``residual(u, x, p)`` (stationary) or ``u_t − rhs(u, x, p)`` (evolution) at the points: shape (N,),
    or (N, equations) for a system (an evolution system's: ``∂U_j/∂t − rhs_j``, then its constraints)."""
    if problem.is_system:  # equation e from copy e of the points: each row depends on its own network call point
        count, n = len(problem.unknowns), len(points)
        u, x = network_field(model, problem, points.repeat(count, 1))
        like = u[problem.unknowns[0]].values
        if problem.is_evolution:
            rows = time_residual(problem, u, x)
        else:
            rows = equation_list(problem.residual(u, x, problem.p))
        return torch.stack([_values(row, like)[e * n : (e + 1) * n] for e, row in enumerate(rows)], dim=1)
    u, x = network_field(model, problem, points)
    if problem.is_evolution:
        result = u.derivative("t") - problem.rhs(u, x, problem.p)
    else:
        result = problem.residual(u, x, problem.p)
    return _values(result, u.values)


def pointwise(residual: torch.Tensor) -> torch.Tensor:
    """``|r|`` per point: the norm over a system's equations."""
    return residual.abs() if residual.dim() == 1 else torch.linalg.vector_norm(residual, dim=1)


def soft_gauges(model: nn.Module, problem: Problem) -> list[Gauge]:
    """The gauges that are loss terms: all but the one the model sets itself (:class:`~pdesolve.pinn.gauges.MeanGauge`)."""
    built = getattr(getattr(model, "gauge", None), "gauge", None)
    return [c for c in problem.boundary if isinstance(c, Gauge) and c is not built]


def gauge_residual(model: nn.Module, problem: Problem, gauge: Gauge, interior: torch.Tensor) -> torch.Tensor:
    """``mean(p) − c`` over the interior points (a Monte Carlo mean over the domain), or ``p(x₀) − c``; in time
    ``p(x₀, t) − c`` at the interior points' times (a mean in space at each time is the model's
    :class:`~pdesolve.pinn.gauges.MeanGauge`)."""
    column = problem.unknowns.index(gauge.unknown)
    if gauge.at is None:
        return model(interior)[:, column].mean().reshape(1) - gauge.value
    at = torch.as_tensor([gauge.at], dtype=interior.dtype, device=interior.device)
    if problem.is_evolution:
        at = torch.cat([at.expand(len(interior), -1), interior[:, -1:]], dim=1)
    return model(at)[:, column] - gauge.value


def boundary_residual(model: nn.Module, problem: Problem, index: int, points: torch.Tensor, normals: torch.Tensor):
    """The residual of boundary condition ``problem.boundary[index]`` at points with outward ``normals``."""
    condition = problem.boundary[index]
    p = problem.p
    if isinstance(condition, Dirichlet) and problem.is_system:  # unknown j on copy j of the points
        n, names = len(points), list(condition.value)
        u, x = network_field(model, problem, points.repeat(len(names), 1))
        error = [
            u[name].values - _values(evaluate_value(condition.value[name], x, p), u[name].values) for name in names
        ]
        return torch.cat([e[j * n : (j + 1) * n] for j, e in enumerate(error)])
    if isinstance(condition, Outflow):  # component k on copy k of the points
        n, dim = len(points), problem.dim
        u, _ = network_field(model, problem, points.repeat(dim, 1))
        rows = traction(u, problem, viscosity(problem), normals.repeat(dim, 1))
        return torch.cat([row[k * n : (k + 1) * n] for k, row in enumerate(rows)])
    u, x = network_field(model, problem, points)
    if isinstance(condition, Dirichlet):
        return u.values - _values(evaluate_value(condition.value, x, p), u.values)
    normal = sum(u.derivative(name).values * normals[:, k] for k, name in enumerate(u.space_names))
    if isinstance(condition, Neumann):
        return normal - _values(evaluate_value(condition.flux, x, p), u.values)
    if isinstance(condition, Robin):
        target = _values(evaluate_value(condition.value, x, p), u.values)
        return condition.alpha * u.values + condition.beta * normal - target
    raise TypeError(f"no boundary residual for {type(condition).__name__}")


def initial_residual(model: nn.Module, problem: Problem, points: torch.Tensor) -> torch.Tensor:
    """``u(x, t₀) − u₀(x)``; a system's per evolving unknown ``j`` on copy ``j`` of the points."""
    x = start_coords(points, problem)
    if not problem.is_system:
        return model(points) - _values(problem.initial(x, problem.p), points[:, 0])
    n, names = len(points), problem.evolving
    values = problem.initial_values(x)
    output = model(points.repeat(len(names), 1))
    return torch.cat(
        [
            output[j * n : (j + 1) * n, problem.unknowns.index(name)] - _values(values[name], points[:, 0])
            for j, name in enumerate(names)
        ]
    )


def periodic_residual(model: nn.Module, problem: Problem, axis: int, low: torch.Tensor, high: torch.Tensor):
    """``u(a) − u(b)`` and ``∂_axis u(a) − ∂_axis u(b)`` on matching points of opposite faces."""
    name = SPACE_NAMES[axis]
    u_low, _ = network_field(model, problem, low)
    u_high, _ = network_field(model, problem, high)
    du = u_low.derivative(name).values - u_high.derivative(name).values
    return torch.cat([u_low.values - u_high.values, du])


def residuals(model: nn.Module, problem: Problem, points: PointSet) -> dict[str, torch.Tensor]:
    """Residual vectors by loss term: "pde", "bc<i>" per soft boundary condition, "periodic", "initial"."""
    out = {"pde": pde_residual(model, problem, points.interior)}
    for index, (x, normals) in points.boundary.items():
        out[f"bc{index}"] = boundary_residual(model, problem, index, x, normals)
    for index, condition in enumerate(problem.boundary):
        if any(condition is gauge for gauge in soft_gauges(model, problem)):
            out[f"gauge{index}"] = gauge_residual(model, problem, condition, points.interior)
    if points.periodic:
        out["periodic"] = torch.cat([periodic_residual(model, problem, k, a, b) for k, a, b in points.periodic])
    if points.initial is not None:
        out["initial"] = initial_residual(model, problem, points.initial)
    return out


class CausalWeights:
    """Chunked residual loss ``(1/M) Σ_i w_i L_i``, ``w_i = exp(−ε Σ_{k<i} L_k)`` (Wang et al. 2022).

    As a least-squares residual (Gauss–Newton) row ``j`` in chunk ``i`` is scaled by
    ``√(w_i / (M n_i))``; ``refresh=False`` keeps the weights of the last refresh, so that the trial
    points of one Gauss–Newton step are compared on one loss.
    """

    def __init__(self, time: tuple[float, float], chunks: int = 32, epsilon: float = 1.0) -> None:
        self.t0, self.t1 = time
        self.chunks, self.epsilon = chunks, epsilon
        self.last_min_weight = 1.0
        self._frozen: torch.Tensor | None = None

    def _chunks(self, residual: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Chunk index per row, mean square per chunk, points per chunk."""
        m = self.chunks
        index = ((t.detach() - self.t0) / (self.t1 - self.t0) * m).floor().long().clamp(0, m - 1)
        sums = torch.zeros(m, dtype=residual.dtype, device=residual.device).index_add(0, index, residual**2)
        counts = torch.bincount(index, minlength=m).to(residual.dtype).clamp(min=1)
        return index, sums / counts, counts

    def _weights(self, per_chunk: torch.Tensor) -> torch.Tensor:
        before = torch.cumsum(per_chunk.detach(), 0) - per_chunk.detach()
        weights = torch.exp(-self.epsilon * before)
        self.last_min_weight = float(weights.min())
        return weights

    def loss(self, residual: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        _, per_chunk, _ = self._chunks(residual, t)
        return torch.mean(self._weights(per_chunk) * per_chunk)

    def scale_rows(self, residual: torch.Tensor, t: torch.Tensor, refresh: bool = True) -> torch.Tensor:
        """``r_j √(w_i / (M n_i))``: its squared norm is :meth:`loss` (weights of the last refresh if not
        ``refresh``)."""
        index, per_chunk, counts = self._chunks(residual, t)
        if refresh or self._frozen is None:
            self._frozen = self._weights(per_chunk)
        return residual * torch.sqrt(self._frozen / (self.chunks * counts))[index]


class LossWeights:
    """Fixed weights, or gradient-norm balancing updated every ``every`` steps with moving average ``alpha``;
    ``factors``: fixed factors per term on top of either (the initial condition's ``initial_weight``)."""

    def __init__(
        self, adaptive: bool, every: int = 100, alpha: float = 0.9, factors: dict[str, float] | None = None
    ) -> None:
        self.adaptive, self.every, self.alpha = adaptive, every, alpha
        self.factors = dict(factors or {})
        self.values: dict[str, float] = {}
        self.step = 0

    def __getitem__(self, name: str) -> float:
        return self.factors.get(name, 1.0) * self.values.get(name, 1.0)

    def update(self, terms: dict[str, torch.Tensor], params: list[torch.Tensor]) -> None:
        """Call once per optimiser step (before backward): every ``every`` calls λ is re-balanced."""
        self.step += 1
        if not self.adaptive or len(terms) < 2 or (self.step - 1) % self.every:
            return
        norms = {}
        for name, term in terms.items():
            grads = torch.autograd.grad(term, params, retain_graph=True, allow_unused=True)
            norms[name] = float(torch.sqrt(sum((g**2).sum() for g in grads if g is not None)))
        total = sum(norms.values())
        for name, norm in norms.items():
            target = total / max(norm, 1e-30)
            old = self.values.get(name)
            self.values[name] = target if old is None else self.alpha * old + (1 - self.alpha) * target

    def state_dict(self) -> dict[str, Any]:
        return {"values": dict(self.values), "step": self.step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.values, self.step = dict(state["values"]), state["step"]


class Objective:
    """The training loss ``Σ_i λ_i mean(r_i²)`` (causal on the PDE term when asked)."""

    def __init__(self, model: nn.Module, problem: Problem, weights: LossWeights, causal: CausalWeights | None):
        self.model, self.problem, self.weights, self.causal = model, problem, weights, causal

    def terms(self, points: PointSet) -> dict[str, torch.Tensor]:
        """Unweighted mean-square loss per term."""
        out = {}
        for name, r in residuals(self.model, self.problem, points).items():
            if name == "pde" and self.causal is not None:
                out[name] = self.causal.loss(r, points.interior[:, -1])
            else:
                out[name] = torch.mean(r**2)
        return out

    def weighted(self, terms: dict[str, torch.Tensor]) -> torch.Tensor:
        return sum(self.weights[name] * term for name, term in terms.items())

    def residual_vector(self, points: PointSet, refresh: bool = True) -> torch.Tensor:
        """``r`` with ``‖r‖² = Σ_i λ_i mean(r_i²)`` (causal on the PDE term): the Gauss–Newton residual.

        ``refresh=False`` keeps the causal weights of the previous call (one loss within a step).
        """
        parts = []
        for name, r in residuals(self.model, self.problem, points).items():
            if name == "pde" and self.causal is not None:
                parts.append(self.causal.scale_rows(r, points.interior[:, -1], refresh) * self.weights[name] ** 0.5)
            else:
                rows = r.transpose(0, 1).reshape(-1) if r.dim() == 2 else r  # a system's: equation by equation
                parts.append(rows * (self.weights[name] / r.numel()) ** 0.5)
        return torch.cat(parts)
