"""Constraint rows of a problem on a grid, for backbones that output basis functions on that grid (FNO).

The field ``u = Σᵢ ωᵢ bᵢ`` of each expert is built on the whole grid and handed to the problem's own
``residual`` / ``rhs`` as a :class:`~pdesolve.problem.GridField` with torch values (finite differences or FFTs
per the grid's method); each expert then keeps the rows located in its subdomain (so derivatives at an
expert's points are those of its own combination, as in Chalapathi et al., ICLR 2024). Rows:

- stationary: ``residual(u)`` at the nodes off non-periodic boundaries;
- evolution on time levels ``t_0 … t_{T-1}``: the trapezoidal residual
  ``(u^{n+1} - u^n)/Δt - ½ (rhs(u^{n+1}) + rhs(u^n))`` at ``(t_{n+½}, x)`` for interior ``x``, and the initial
  rows ``u^0 - u_0`` (``u_0`` the input channel);
- boundary rows ``α u + β ∂u/∂n - g`` on non-periodic boundary nodes (every level but the first), ``∂u/∂n``
  by the grid's one-sided second-order differences.

Basis values are ``(batch, nb, *grid)`` for stationary and ``(batch, nb, T, *grid)`` for evolution problems.
Jacobians use reverse mode twice (the transpose trick ``J t = ∂/∂c ⟨J^T c, t⟩``), which the sparse grid
operators support, on ``nb`` copies of each expert's field at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pdesolve.constraints.boundary import boundary_rows
from pdesolve.constraints.experts import ExpertPartition
from pdesolve.constraints.rows import ExpertRows, expert_rows
from pdesolve.errors import NotApplicableError
from pdesolve.problem import Box, Coords, Grid, GridField, Problem


class _Channel:
    """Stands in for a family field ``p.a``: at the grid it returns the batch's input channel."""

    def __init__(self, values: torch.Tensor) -> None:
        self.values = values

    def __call__(self, x: Coords) -> torch.Tensor:
        return self.values


class GridConstraintSystem:
    """Rows of ``problem`` on ``grid`` (and ``times`` for evolution problems) shared out among experts."""

    def __init__(
        self,
        problem: Problem,
        grid: Grid,
        experts: int | tuple[int, ...] = 1,
        times: np.ndarray | None = None,
        points: int | None = None,
        inputs: list[str] | None = None,
        weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
        seed: int = 0,
    ) -> None:
        if not isinstance(problem.domain, Box):
            raise NotApplicableError("a grid hard constraint needs a box-shaped domain")
        if problem.is_evolution and (times is None or len(times) < 2):
            raise NotApplicableError("an evolution problem needs at least two time levels for its grid constraint")
        self.problem, self.grid = problem, grid
        self.times = np.asarray(times, dtype=float) if problem.is_evolution else np.zeros(1)
        self.inputs = list(inputs or (["initial"] if problem.is_evolution else []))
        lower, upper = list(grid.lower), list(grid.upper)
        if problem.is_evolution:
            lower.append(float(self.times[0]))
            upper.append(float(self.times[-1]))
        self.partition = ExpertPartition.for_axes(tuple(lower), tuple(upper), experts)
        self._build_rows(points, weights, seed)
        self._coords: dict[tuple, Coords] = {}

    @property
    def experts(self) -> int:
        return self.partition.count

    @property
    def field_shape(self) -> tuple[int, ...]:
        """Shape of one basis function: ``(*grid)`` or ``(T, *grid)``."""
        return (len(self.times), *self.grid.shape) if self.problem.is_evolution else self.grid.shape

    # --- where the rows are --------------------------------------------------------------------
    def _build_rows(self, points: int | None, weights: tuple[float, float, float], seed: int) -> None:
        space = self.grid.points()
        interior = ~self.grid.boundary_mask().ravel()
        levels = len(self.times)
        evolution = self.problem.is_evolution
        mid = 0.5 * (self.times[1:] + self.times[:-1]) if evolution else np.zeros(1)

        def located(nodes: np.ndarray, t: np.ndarray) -> np.ndarray:
            if not evolution:
                return nodes
            return np.column_stack([np.tile(nodes, (len(t), 1)), np.repeat(t, len(nodes))])

        self.pde_index = np.flatnonzero(np.tile(interior, len(mid)))
        pde = located(space, mid)[self.pde_index]
        initial = located(space, self.times[:1]) if evolution else np.zeros((0, space.shape[1]))
        boundary_nodes = np.flatnonzero(~interior)
        bc_levels = np.arange(1, levels) if evolution else np.arange(1)
        t = self.times[bc_levels] if evolution else None
        nodes = space[boundary_nodes]
        x = Coords(list(np.tile(nodes, (len(bc_levels), 1)).T), t=None if t is None else np.repeat(t, len(nodes)))
        rows = boundary_rows(self.problem, x)
        node_of_row = np.tile(boundary_nodes, len(bc_levels))[rows.keep]
        level_of_row = np.repeat(bc_levels, len(boundary_nodes))[rows.keep]
        self.bc_flat = level_of_row * self.grid.size + node_of_row
        self.bc_axis, self.bc_sign = self._normal_axes(node_of_row)
        self.bc_alpha, self.bc_beta, self.bc_value = rows.alpha[rows.keep], rows.beta[rows.keep], rows.value[rows.keep]
        bc_points = np.tile(nodes, (len(bc_levels), 1))[rows.keep]
        if evolution:
            bc_points = np.column_stack([bc_points, np.repeat(t, len(nodes))[rows.keep]])
        self.rows: ExpertRows = expert_rows(
            self.partition, [pde, initial, bc_points], [True, False, False], points, list(weights), seed
        )
        self._tensors: dict[tuple, dict[str, torch.Tensor]] = {}
        nodes_at = located(space, self.times) if evolution else space
        self.node_owner = self.partition.assign(nodes_at).reshape(self.field_shape)

    def _normal_axes(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each boundary node, the first non-periodic axis it ends, and the outward sign."""
        index = np.array(np.unravel_index(nodes, self.grid.shape))
        axis = np.full(len(nodes), -1)
        sign = np.zeros(len(nodes))
        for k in reversed(range(self.grid.dim)):
            if self.grid.periodic[k]:
                continue
            low, high = index[k] == 0, index[k] == self.grid.shape[k] - 1
            axis = np.where(low | high, k, axis)
            sign = np.where(low, -1.0, np.where(high, 1.0, sign))
        return axis, sign

    def subset(self, experts: range | list[int]) -> GridConstraintSystem:
        """The same system restricted to some experts (a rank's share)."""
        other = object.__new__(GridConstraintSystem)
        other.__dict__.update(self.__dict__)
        other.rows = self.rows.subset(experts)
        other._tensors = {}
        return other

    def _constants(self, like: torch.Tensor) -> dict[str, torch.Tensor]:
        key = (like.device, like.dtype)
        if key not in self._tensors:
            as_t = lambda a: torch.as_tensor(a, device=like.device, dtype=like.dtype)  # noqa: E731
            rows = self.rows.to(like.device, like.dtype)
            self._tensors[key] = {
                "index": rows.index,
                "weight": rows.weight,
                "pde_index": torch.as_tensor(self.pde_index, device=like.device),
                "bc_flat": torch.as_tensor(self.bc_flat, device=like.device),
                "bc_axis": torch.as_tensor(self.bc_axis, device=like.device),
                "bc_sign": as_t(self.bc_sign),
                "bc_alpha": as_t(self.bc_alpha),
                "bc_beta": as_t(self.bc_beta),
                "bc_value": as_t(self.bc_value),
                "dt": as_t(np.diff(self.times)) if self.problem.is_evolution else as_t([1.0]),
            }
            coords = [as_t(c) for c in self.grid.coordinates()]
            t = as_t(self.times).reshape(-1, *([1] * self.grid.dim)) if self.problem.is_evolution else None
            self._coords[key] = Coords(coords, t=t)
        return self._tensors[key]

    # --- the rows ------------------------------------------------------------------------------
    def _all_rows(self, u: torch.Tensor, inputs: torch.Tensor | None) -> torch.Tensor:
        """Every candidate row for fields ``u`` (batch, K, c, *field_shape) -> (batch, K, c, R)."""
        c = self._constants(u)
        x = self._coords[(u.device, u.dtype)]
        lead = u.shape[:3]
        params = self.problem.p
        if not self.problem.is_evolution and self.inputs:
            params = params.replace(**{name: _Channel(inputs[:, None, None, k]) for k, name in enumerate(self.inputs)})
        if self.problem.is_evolution:
            f = self.problem.rhs(GridField(u, self.grid), x, params)
            f = torch.broadcast_to(f.at_nodes().values if hasattr(f, "at_nodes") else torch.as_tensor(f), u.shape)
            dt = c["dt"].reshape(-1, *([1] * self.grid.dim))
            pde = (u[:, :, :, 1:] - u[:, :, :, :-1]) / dt - 0.5 * (f[:, :, :, 1:] + f[:, :, :, :-1])
            u0 = inputs[:, None, None, self.inputs.index("initial")]
            initial = (u[:, :, :, 0] - u0).flatten(3)
        else:
            res = self.problem.residual(GridField(u, self.grid), x, params)
            pde = torch.broadcast_to(res.at_nodes().values, lead + self.grid.shape)
            initial = u.new_zeros(*lead, 0)
        pde = pde.flatten(3)[..., c["pde_index"]]
        return torch.cat([pde, initial, self._boundary(u, c)], dim=-1)

    def _boundary(self, u: torch.Tensor, c: dict[str, torch.Tensor]) -> torch.Tensor:
        if len(self.bc_flat) == 0:
            return u.new_zeros(*u.shape[:3], 0)
        field = u if self.problem.is_evolution else u.reshape(*u.shape[:3], 1, *self.grid.shape)
        flat = field.flatten(3)
        values = c["bc_alpha"] * flat[..., c["bc_flat"]]
        normal = torch.zeros_like(values)
        for k in range(self.grid.dim):
            on_axis = c["bc_axis"] == k
            if self.grid.periodic[k] or not bool(on_axis.any()):
                continue
            derivative = GridField(field, self.grid).derivative(self.grid.names[k]).values.flatten(3)
            normal = normal + torch.where(on_axis, derivative[..., c["bc_flat"]], torch.zeros_like(normal))
        return values + c["bc_beta"] * c["bc_sign"] * normal - c["bc_value"]

    def _expert_rows(self, full: torch.Tensor) -> torch.Tensor:
        """Each expert's rows of ``full`` (batch, K, c, R) -> (batch, K, c, M), weighted."""
        c = self._constants(full)
        index = c["index"][None, :, None, :].expand(*full.shape[:3], -1)
        return torch.gather(full, -1, index) * c["weight"][None, :, None, :]

    def combine(self, omega: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
        """``u_k = Σᵢ ω_ki bᵢ``: (batch, K, nb) and (batch, nb, *field) -> (batch, K, *field)."""
        return torch.einsum("bki,bi...->bk...", omega, basis)

    def residual(self, omega: torch.Tensor, basis: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
        """Weighted rows of every expert, (batch, K, M)."""
        u = self.combine(omega, basis)[:, :, None]
        return self._expert_rows(self._all_rows(u, inputs))[:, :, 0]

    def residual_and_jacobian(
        self, omega: torch.Tensor, basis: torch.Tensor, inputs: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Rows (batch, K, M) and their Jacobian in ω (batch, K, M, nb)."""
        basis = basis.detach()
        nb = basis.shape[1]
        u = self.combine(omega.detach(), basis)
        with torch.enable_grad():
            copies = u[:, :, None].expand(-1, -1, nb, *u.shape[2:]).clone().requires_grad_()
            rows = self._expert_rows(self._all_rows(copies, inputs))
            probe = torch.zeros_like(rows, requires_grad=True)
            (transposed,) = torch.autograd.grad(rows, copies, probe, create_graph=True)
            tangent = basis[:, None].expand_as(copies)
            (jt,) = torch.autograd.grad(transposed, probe, tangent)
        return rows[:, :, 0].detach(), jt.transpose(-1, -2)

    def assemble(self, omega: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
        """The constrained field: at each node the combination of the expert owning it, (batch, *field)."""
        owner = torch.as_tensor(self.node_owner, device=basis.device)
        return (omega[:, owner] * basis.movedim(1, -1)).sum(-1)

    def describe(self) -> dict[str, Any]:
        return {"experts": self.experts, "rows_per_expert": self.rows.per_expert, "grid": list(self.field_shape)}
