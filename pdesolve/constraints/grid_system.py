"""Constraint rows of a problem on a grid, for backbones that output basis functions on that grid (FNO).

Every expert works on its own window of the grid (:mod:`~pdesolve.constraints.subdomains`): its subdomain
plus a halo of ``halo`` cells. The basis values are cut into windows once, all experts at once
``(batch, K, nb, *window)``; each expert's field ``u_k = Σᵢ ω_ki bᵢ`` is formed on its window only and
handed to the problem's own ``residual`` / ``rhs`` as a :class:`~pdesolve.constraints.subdomains.BlockField`
(second-order finite differences on the window), so the cost of all experts together is about that of one
whole-grid constraint, and a row equals the whole-grid evaluation of its expert's combination. Rows:

- PDE rows: ``residual(u)`` at the interior nodes, or in time the θ-method residual between time levels in step
  or rate form, and the initial rows ``u^0 - u_0`` (:mod:`~pdesolve.constraints.time_rows`);
- boundary rows ``α u + β ∂u/∂n - g`` on non-periodic boundary nodes (every level but the first), ``∂u/∂n``
  by the grid's one-sided second-order differences.

Each expert owns the rows located in its subdomain. With ``shared_conditions`` every expert also takes all the
initial and boundary rows, so that each expert's combination meets the whole initial condition and both
boundaries while its PDE rows stay in its subdomain: the diffusion–sorption MoE of Chalapathi, Du &
Krishnapriyan (ICLR 2024; their code replicates the initial and boundary terms to every expert and partitions
only the residual terms). Its windows then span the axes those rows reach. Without it an interior expert has
no condition at its interfaces: its values there are left to the training loss, and physics-only training
stalls.
``overlap`` > 0 takes each expert's PDE (and unshared) rows from its subdomain widened by that fraction of its
width on both sides (overlapping domain decomposition; not in the paper), the output staying the hard
partition.

``interfaces`` closes each expert's problem: where the stencils of its PDE rows reach nodes outside its (widened)
subdomain that none of its initial or boundary rows fix, the rows ``u_k - g`` tie its field to interface values
``g``, one more channel of the backbone after the basis functions, learned with the rest. Each expert then solves
a Dirichlet problem on its own subdomain, like the subdomain solves of an overlapping Schwarz method, and its
window is that subdomain. ``blend`` (with ``overlap`` > 0) assembles the output as ``Σ_k φ_k u_k``, ``φ_k`` the
smooth partition of unity of :meth:`~pdesolve.constraints.experts.ExpertPartition.blend_weights`, supported in the
widened subdomains. The hard partition jumps at the interfaces, and a step-form row across a jump δ carries
``Δt D δ / (R h²)`` (≈ 100 δ / R on diffusion–sorption at 64 × 11, R ≈ 3–5), which dominates the training loss of
the paper's construction there; the blend's cross terms scale with ``(overlap · W)⁻²`` for subdomains of width
``W`` instead. Both together (``overlap = 0.5``, each expert its own initial and boundary rows) reach the rows'
floor (figures for every choice here: benchmarks/RESULTS.md, "Design choices of the constraint rows").

Basis values are ``(batch, nb, *grid)`` for stationary and ``(batch, nb, T, *grid)`` for evolution problems.
Jacobians in ω: :func:`~pdesolve.constraints.gauss_newton.rows_and_jacobian` (``nb`` copies of the weights).
The pieces: windows, interface nodes and row offsets in :mod:`~pdesolve.constraints.layout`, the PDE rows of each
time discretisation in :mod:`~pdesolve.constraints.time_rows`, boundary rows in :mod:`~pdesolve.constraints.boundary`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pdesolve.constraints.boundary import boundary_rows, window_boundary_rows
from pdesolve.constraints.experts import ExpertPartition
from pdesolve.constraints.gauss_newton import rows_and_jacobian
from pdesolve.constraints.layout import expert_windows, ghost_nodes, normal_axes, window_offsets
from pdesolve.constraints.rows import ExpertRows, expert_rows
from pdesolve.constraints.subdomains import BlockField
from pdesolve.constraints.time_rows import TIME_ROWS, StationaryRows, ThetaRows
from pdesolve.errors import NotApplicableError
from pdesolve.problem import Box, Coords, Grid, GridField, Problem


class _Channel:
    """Stands in for a family field ``p.a``: on the windows it returns the batch's input channel."""

    def __init__(self, values: torch.Tensor) -> None:
        self.values = values

    def __call__(self, x: Coords) -> torch.Tensor:
        return self.values


@dataclass
class WindowedBasis:
    """Basis values cut into the experts' windows, with what the rows read besides ω."""

    basis: torch.Tensor  # (batch, K, nb, *window)
    params: Any
    initial: torch.Tensor | None  # (batch, K, 1, *space window): u_0 of evolution problems
    whole: torch.Tensor  # (batch, nb, *field), for Δ⁻¹ on spectral grids
    trace: torch.Tensor | None = None  # (batch, K, 1, *window): the interface values g
    _potential: torch.Tensor | None = None

    def potential(self, system: GridConstraintSystem) -> torch.Tensor:
        """``Δ⁻¹bᵢ`` on the whole spectral grid, cut into windows (computed on first use)."""
        if self._potential is None:
            inverse = GridField(self.whole, system.grid).inverse_laplacian().values
            self._potential = system.windows.gather(inverse, system._constants(self.whole)["window"])
        return self._potential


class GridConstraintSystem:
    """Rows of ``problem`` on ``grid`` (and ``times`` for evolution problems) shared out among experts;
    ``shared_conditions`` gives every expert all initial and boundary rows, ``overlap`` widens the subdomains
    its other rows come from, ``time_rows`` puts the time rows in step or rate form, ``interfaces`` adds the
    interface rows and ``blend`` blends the experts' fields (the module's docstring)."""

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
        halo: int = 2,
        theta: float = 0.5,
        shared_conditions: bool = False,
        overlap: float = 0.0,
        time_rows: str = "step",
        interfaces: bool = False,
        blend: bool = False,
    ) -> None:
        if not isinstance(problem.domain, Box):
            raise NotApplicableError("a grid hard constraint needs a box-shaped domain")
        if problem.is_evolution and (times is None or len(times) < 2):
            raise NotApplicableError("an evolution problem needs at least two time levels for its grid constraint")
        self.problem, self.grid, self.halo, self.theta = problem, grid, halo, theta
        if time_rows not in TIME_ROWS:
            raise NotApplicableError(f"time_rows {time_rows!r}: choose one of {', '.join(TIME_ROWS)}")
        self.shared_conditions, self.overlap = shared_conditions, overlap
        self.interfaces, self.blend = interfaces, blend
        self.time_discretisation = ThetaRows(theta, TIME_ROWS[time_rows]) if problem.is_evolution else StationaryRows()
        if blend and not overlap > 0.0:
            raise NotApplicableError("blending experts needs overlapping subdomains: an overlap in (0, 0.5]")
        self.evolution = problem.is_evolution
        self.times = np.asarray(times, dtype=float) if self.evolution else np.zeros(1)
        self.inputs = list(inputs or (["initial"] if self.evolution else []))
        lower, upper = list(grid.lower), list(grid.upper)
        if self.evolution:
            lower.append(float(self.times[0]))
            upper.append(float(self.times[-1]))
        periodic = tuple(grid.periodic) + ((False,) if self.evolution else ())
        self.partition = ExpertPartition.for_axes(tuple(lower), tuple(upper), experts, periodic)
        self._build_rows(points, weights, seed)
        self._tensors: dict[tuple, dict[str, Any]] = {}

    @property
    def experts(self) -> int:
        return self.rows.experts

    @property
    def trace_channels(self) -> int:
        """Channels after the basis functions: the interface values ``g`` with ``interfaces``."""
        return 1 if self.interfaces else 0

    @property
    def field_shape(self) -> tuple[int, ...]:
        """Shape of one basis function: ``(*grid)`` or ``(T, *grid)``."""
        return (len(self.times), *self.grid.shape) if self.evolution else self.grid.shape

    # --- where the rows are --------------------------------------------------------------------
    def _build_rows(self, points: int | None, weights: tuple[float, float, float], seed: int) -> None:
        grid, evolution = self.grid, self.evolution
        space = grid.points()
        interior = ~grid.boundary_mask().ravel()
        mid = 0.5 * (self.times[1:] + self.times[:-1]) if evolution else np.zeros(1)

        def located(nodes: np.ndarray, t: np.ndarray) -> np.ndarray:
            if not evolution:
                return nodes
            return np.column_stack([np.tile(nodes, (len(t), 1)), np.repeat(t, len(nodes))])

        # candidate rows: (first level, last level, node) of each, PDE / initial / boundary
        pde_flat = np.flatnonzero(np.tile(interior, len(mid)))
        pde_level, pde_node = np.divmod(pde_flat, grid.size)
        initial_node = np.arange(grid.size) if evolution else np.zeros(0, dtype=int)
        boundary_nodes = np.flatnonzero(~interior)
        bc_levels = np.arange(1, len(self.times)) if evolution else np.arange(1)
        nodes = space[boundary_nodes]
        t = np.repeat(self.times[bc_levels], len(nodes)) if evolution else None
        rows = boundary_rows(self.problem, Coords(list(np.tile(nodes, (len(bc_levels), 1)).T), t=t))
        bc_node = np.tile(boundary_nodes, len(bc_levels))[rows.keep]
        bc_level = np.repeat(bc_levels, len(boundary_nodes))[rows.keep]
        bc_points = space[bc_node] if not evolution else np.column_stack([space[bc_node], self.times[bc_level]])
        pde_points = located(space, mid)[pde_flat]
        initial_points = located(space, self.times[:1]) if evolution else np.zeros((0, grid.dim))
        locations, sampled = [pde_points, initial_points, bc_points], [True, False, False]
        shared = [False, self.shared_conditions, self.shared_conditions]

        def chosen(n: int | None) -> ExpertRows:
            return expert_rows(self.partition, locations, sampled, n, list(weights), seed, shared, self.overlap)

        global_rows = chosen(points)
        self.row_ids = global_rows.index.numpy()
        first = np.concatenate([pde_level, np.zeros(len(initial_node), dtype=int), bc_level])
        last = np.concatenate([pde_level + (1 if evolution else 0), first[len(pde_level) :]])
        node = np.concatenate([pde_node, initial_node, bc_node])
        candidates = chosen(None)  # each expert's window covers all the rows it may own
        live = candidates.weight.numpy() > 0
        pick = candidates.index.numpy()[live]
        owner = np.nonzero(live)[0]
        nodes_at = located(space, self.times) if evolution else space
        if self.blend:
            weights_at = self.partition.blend_weights(nodes_at, self.overlap)
        else:
            weights_at = np.eye(self.partition.count)[:, self.partition.assign(nodes_at)]
        self.node_weights = weights_at.reshape(self.partition.count, *self.field_shape)
        levels = len(self.times) if evolution else None
        ghost_expert, ghost_level, ghost_node = (
            ghost_nodes(grid, self.partition, self.overlap, levels, candidates, first, node, len(pde_level), nodes_at)
            if self.interfaces
            else (np.zeros(0, dtype=int),) * 3
        )
        self.windows = expert_windows(
            grid,
            self.partition,
            self.halo,
            levels,
            np.concatenate([first[pick], ghost_level]),
            np.concatenate([last[pick], ghost_level]),
            np.concatenate([node[pick], ghost_node]),
            np.concatenate([owner, ghost_expert]),
        )
        self._local_rows(global_rows, len(pde_level), len(initial_node), first, node, rows, bc_node)
        self._interface_rows(ghost_expert, ghost_level, ghost_node, weights[2])

    def _interface_rows(self, expert: np.ndarray, level: np.ndarray, node: np.ndarray, weight: float) -> None:
        """Slots of the interface rows ``u_k - g`` after each expert's boundary slots, appended to its rows."""
        experts = self.partition.count
        position = np.array(np.unravel_index(node, self.grid.shape)).reshape(self.grid.dim, -1)
        if self.evolution:
            position = np.vstack([level, position])
        offsets = window_offsets(self.windows, self.field_shape, expert, position, np.zeros(len(expert), dtype=bool))
        counts = np.bincount(expert, minlength=experts)
        width = int(counts.max()) if len(expert) else 0
        slot = np.arange(len(expert)) - np.repeat(np.cumsum(counts) - counts, counts)
        padded = np.zeros((experts, width), dtype=np.int64)
        padded[expert, slot] = np.ravel_multi_index(tuple(offsets), self.windows.shape)
        self.interface = {"interface_position": padded}
        start = self._interface_start
        live = np.zeros((experts, width), dtype=bool)
        live[expert, slot] = True
        index = torch.as_tensor(np.where(live, start + np.arange(width), 0))
        weights = torch.as_tensor(np.where(live, weight, 0.0), dtype=self.rows.weight.dtype)
        self.rows = ExpertRows(torch.cat([self.rows.index, index], 1), torch.cat([self.rows.weight, weights], 1))

    def _local_rows(self, global_rows: ExpertRows, n_pde: int, n_initial: int, first, node, rows, bc_node) -> None:
        """Each expert's rows as indices into its own candidates ``[PDE on the window, initial, its boundary rows]``."""
        windows = self.windows
        pde_shape = (windows.shape[0] - 1, *windows.shape[1:]) if self.evolution else windows.shape
        n_local_pde = int(np.prod(pde_shape))
        n_local_initial = int(np.prod(windows.shape[1:])) if self.evolution else 0
        ids, weight = self.row_ids, global_rows.weight.numpy()
        experts, per = ids.shape
        expert = np.repeat(np.arange(experts), per)
        flat = ids.ravel()
        level = first[flat]
        position = np.array(np.unravel_index(node[flat], self.grid.shape))
        if self.evolution:
            position = np.vstack([level, position])
        local = np.zeros(flat.shape, dtype=np.int64)
        position = window_offsets(windows, self.field_shape, expert, position, weight.ravel() == 0)
        kind = np.searchsorted([n_pde, n_pde + n_initial], flat, side="right")
        pde = kind == 0
        local[pde] = np.ravel_multi_index(tuple(position[:, pde]), pde_shape)
        initial = kind == 1
        if self.evolution:
            local[initial] = n_local_pde + np.ravel_multi_index(tuple(position[1:, initial]), windows.shape[1:])
        # boundary rows: a slot per expert, in the order of its row list
        bc = (kind == 2) & (weight.ravel() != 0)
        slot = np.cumsum(bc.reshape(experts, per), axis=1).ravel() - 1
        width = max(1, int(bc.reshape(experts, per).sum(1).max()))
        local[bc] = n_local_pde + n_local_initial + slot[bc]
        self._interface_start = n_local_pde + n_local_initial + width
        self.rows = ExpertRows(torch.as_tensor(local.reshape(experts, per)), global_rows.weight)
        j = flat[bc] - n_pde - n_initial
        axis, sign = normal_axes(self.grid, bc_node[j])
        arrays = {
            "bc_position": np.ravel_multi_index(tuple(position[:, bc]), windows.shape),
            "bc_axis": axis, "bc_sign": sign, "bc_alpha": rows.alpha[rows.keep][j],
            "bc_beta": rows.beta[rows.keep][j], "bc_value": rows.value[rows.keep][j],
        }  # fmt: skip
        self.bc = {}
        for name, values in arrays.items():
            padded = np.full((experts, width), -1 if name == "bc_axis" else 0, dtype=values.dtype)
            padded[expert[bc], slot[bc]] = values
            self.bc[name] = padded

    def subset(self, experts: range | list[int]) -> GridConstraintSystem:
        """The same system restricted to some experts (a rank's share)."""
        keep = np.asarray(list(experts), dtype=int)
        other = object.__new__(GridConstraintSystem)
        other.__dict__.update(self.__dict__)
        other.rows = self.rows.subset(keep.tolist())
        other.row_ids = self.row_ids[keep]
        other.windows = self.windows.subset(keep)
        other.bc = {name: values[keep] for name, values in self.bc.items()}
        other.interface = {name: values[keep] for name, values in self.interface.items()}
        other._tensors = {}
        return other

    def _constants(self, like: torch.Tensor) -> dict[str, Any]:
        key = (like.device, like.dtype)
        if key not in self._tensors:
            as_t = lambda a: torch.as_tensor(a, device=like.device, dtype=like.dtype)  # noqa: E731
            rows = self.rows.to(like.device, like.dtype)
            window = tuple(torch.as_tensor(i, device=like.device) for i in self.windows.index)
            experts = rows.experts
            space_index = self.windows.index[1:] if self.evolution else self.windows.index
            lead = [experts, 1] + ([1] if self.evolution else [])  # experts, channels, time
            space = [
                as_t(axis[index]).reshape(*lead, *[-1 if b == a else 1 for b in range(self.grid.dim)])
                for a, (axis, index) in enumerate(zip(self.grid.axes, space_index))
            ]
            constants = {
                "index": rows.index, "weight": rows.weight, "window": window,
                "bc_position": torch.as_tensor(self.bc["bc_position"], device=like.device),
                "interface_position": torch.as_tensor(self.interface["interface_position"], device=like.device),
                "bc_axis": torch.as_tensor(self.bc["bc_axis"], device=like.device)[:, None],
                **{name: as_t(self.bc[name])[:, None] for name in ("bc_sign", "bc_alpha", "bc_beta", "bc_value")},
            }  # fmt: skip
            t = None
            if self.evolution:
                levels = as_t(self.times[self.windows.index[0]])  # (K, Tw)
                constants["dt"] = levels.diff(dim=1).reshape(experts, 1, -1, *([1] * self.grid.dim))
                t = levels.reshape(experts, 1, -1, *([1] * self.grid.dim))
            constants["coords"] = Coords(space, t=t)
            constants["node_weights"] = as_t(self.node_weights)
            self._tensors[key] = constants
        return self._tensors[key]

    # --- the rows ------------------------------------------------------------------------------
    def prepare(self, basis: torch.Tensor, inputs: torch.Tensor | None = None) -> WindowedBasis:
        """Cut ``basis`` (batch, nb [+ 1 interface values], *field) and the input channels into the experts'
        windows."""
        c = self._constants(basis)
        nb = basis.shape[1] - self.trace_channels
        params, initial = self.problem.p, None
        if self.evolution:
            u0 = inputs[:, self.inputs.index("initial")][:, None]
            initial = self.windows.gather(u0, c["window"][1:])
        elif self.inputs:
            windows = self.windows.gather(inputs, c["window"])
            params = params.replace(**{n: _Channel(windows[:, :, k, None]) for k, n in enumerate(self.inputs)})
        windows = self.windows.gather(basis, c["window"])
        trace = windows[:, :, nb:] if self.interfaces else None
        return WindowedBasis(windows[:, :, :nb], params, initial, basis[:, :nb], trace=trace)

    def local_rows(self, omega: torch.Tensor, local: WindowedBasis) -> torch.Tensor:
        """Weighted rows (batch, K, c, M) of every expert for weights ``omega`` (batch, K, c, nb)."""
        c = self._constants(local.basis)
        u = torch.einsum("bkci,bki...->bkc...", omega, local.basis)
        potential = None
        if self.grid.calculus.inverts_laplacian:
            potential = lambda: torch.einsum("bkci,bki...->bkc...", omega, local.potential(self))  # noqa: E731
        field = BlockField(u, self.windows.grid, potential)
        pde, initial = self.time_discretisation(self.problem, field, u, c, local.params, local.initial)
        full = [pde, initial, window_boundary_rows(u, c, self.grid, self.windows.grid)]
        if self.interfaces:
            index = c["interface_position"][None, :, None, :].expand(*u.shape[:3], -1)
            full.append(torch.gather((u - local.trace).flatten(3), -1, index))
        full = torch.cat(full, dim=-1)
        index = c["index"][None, :, None, :].expand(*full.shape[:3], -1)
        return torch.gather(full, -1, index) * c["weight"][None, :, None, :]

    def residual(self, omega: torch.Tensor, basis: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
        """Weighted rows of every expert, (batch, K, M)."""
        return self.local_rows(omega[:, :, None], self.prepare(basis, inputs))[:, :, 0]

    def residual_and_jacobian(
        self, omega: torch.Tensor, basis: torch.Tensor, inputs: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Rows (batch, K, M) and their Jacobian in ω (batch, K, M, nb)."""
        local = self.prepare(basis.detach(), inputs)
        return rows_and_jacobian(lambda copies: self.local_rows(copies, local), omega)

    def assemble(self, omega: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
        """The constrained field (batch, *field): at each node the combination of the expert owning it, or with
        ``blend`` the experts' combinations weighted by the partition of unity of
        :meth:`~pdesolve.constraints.experts.ExpertPartition.blend_weights`."""
        coefficients = torch.einsum("k...,bki->bi...", self._constants(basis)["node_weights"], omega)
        return (coefficients * basis[:, : omega.shape[-1]]).sum(1)

    def describe(self) -> dict[str, Any]:
        return {
            "experts": self.experts,
            "rows_per_expert": self.rows.per_expert,
            "grid": list(self.field_shape),
            "window": list(self.windows.shape),
            "interface_rows_per_expert": self.interface["interface_position"].shape[1],
        }
