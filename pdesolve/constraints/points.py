"""Hard constraints for point backbones: an MLP maps ``(x[, t])`` to ``nb`` basis values at sampled points.

Each expert owns the collocation points sampled in its subdomain (``points`` PDE points, plus the initial
and boundary points that fall in it, padded with zero-weight rows to a common count) and solves for its
own ω by the batched Levenberg–Marquardt of :mod:`~pdesolve.constraints.gauss_newton`, with the implicit
backward of :mod:`~pdesolve.constraints.implicit` to the network's parameters (Chalapathi et al., ICLR 2024;
one expert is the global hard constraint of Négiar et al. 2023).

Since ω does not depend on the coordinates, ``∂u = Σᵢ ωᵢ ∂bᵢ``: the derivatives of the basis functions
are taken once per solve, column by column with :class:`~pdesolve.problem.NetworkField` (autograd with
``create_graph``), and :class:`PointField` hands the problem's ``residual`` / ``rhs`` the combinations. A
residual may therefore differentiate the unknown and its derivatives (``d``, ``grad``, ``div(grad u)``,
products of such terms), but not a nonlinear expression of it (``d(u**2, "x")`` raises). Rows: the PDE
residual (``u_t - rhs(u)`` for evolution problems), ``u - u_0`` at ``t_0``, ``α u + β ∂u/∂n - g`` on
non-periodic faces, and with ``interfaces`` ``u - g`` on the inner faces of each expert's widened subdomain,
``g`` the network's last output.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from pdesolve.constraints.boundary import boundary_rows
from pdesolve.constraints.distributed import on_every_rank
from pdesolve.constraints.experts import ExpertPartition
from pdesolve.constraints.gauss_newton import LMOptions, rows_and_jacobian
from pdesolve.constraints.layer import SolveReport, constrained_weights
from pdesolve.constraints.rows import ExpertRows
from pdesolve.errors import NotApplicableError, PdesolveError
from pdesolve.problem import Box, Coords, NetworkField, Problem
from pdesolve.problem.coords import SPACE_NAMES
from pdesolve.problem.field import Field, VectorField


class _BasisTables:
    """Basis values ``(K·M, nb)`` at the points and their derivatives, keyed by the sorted axes differentiated."""

    def __init__(self, net: nn.Module, theta: dict[str, torch.Tensor], points: torch.Tensor, names: tuple[str, ...]):
        with torch.enable_grad():  # derivatives in the coordinates, also inside the no-grad solve
            self.coords = {name: points[:, a].clone().requires_grad_() for a, name in enumerate(names)}
            stacked = torch.stack([self.coords[name] for name in names], dim=1)
            self.cache = {(): functional_call(net, theta, (stacked,))}

    def table(self, key: tuple[str, ...]) -> torch.Tensor:
        if key not in self.cache:
            previous = self.table(key[:-1])
            with torch.enable_grad():
                columns = [NetworkField(b, self.coords).derivative(key[-1]).values for b in previous.unbind(1)]
                self.cache[key] = torch.stack(columns, dim=1)
        return self.cache[key]


class _Expression(Field):
    """A value computed from the unknown: no derivatives (they would be those of every basis copy at once)."""

    def __init__(self, values: torch.Tensor) -> None:
        self.values = values

    def with_values(self, values) -> _Expression:
        return _Expression(values)

    def derivative(self, axis: str, order: int = 1) -> Field:
        raise NotApplicableError("a point hard constraint differentiates the unknown and its derivatives only")


class PointField(Field):
    """``Σᵢ ω_ki ∂^key bᵢ`` at each expert's points: values (batch, K, c, M) for ω (batch, K, c, nb)."""

    def __init__(self, tables: _BasisTables, omega: torch.Tensor, shape: tuple[int, int], key: tuple[str, ...] = ()):
        self.tables, self.omega, self.shape, self.key = tables, omega, shape, key
        basis = tables.table(key).reshape(*shape, -1)[..., : omega.shape[-1]]  # without the interface channel
        self.values = torch.einsum("bkci,kmi->bkcm", omega, basis)

    def with_values(self, values) -> Field:
        return _Expression(values)

    def derivative(self, axis: str, order: int = 1) -> PointField:
        if axis not in self.tables.coords:
            raise ValueError(f"no coordinate {axis!r}")
        return PointField(self.tables, self.omega, self.shape, tuple(sorted(self.key + (axis,) * order)))

    def gradient(self) -> VectorField:
        return VectorField([self.derivative(name) for name in self.tables.coords if name != "t"])

    def divergence_of(self, vector: VectorField) -> Field:
        names = [name for name in self.tables.coords if name != "t"]
        return sum((c.derivative(name) for c, name in zip(vector.components, names)), start=0.0)


class PointConstraintSystem:
    """Collocation points of ``problem`` shared out among experts; rows for a basis network's parameters.

    With ``overlap`` > 0 each expert takes its PDE, initial and boundary points from its subdomain widened by that
    fraction of its width (wrapping around periodic axes). ``interfaces`` adds rows ``u_k - g`` at points on the
    faces of each widened subdomain that lie inside the domain (in time: the lower face only), where ``g`` is
    the network's last output, learned with the basis: each expert then solves a closed problem on its window,
    like a Schwarz subdomain solve. ``blend`` combines the experts with the smooth partition of unity of
    :meth:`~pdesolve.constraints.experts.ExpertPartition.blend_weights` instead of cutting them at the
    interfaces. The three are not in Chalapathi et al. (2024); RESULTS.md shows why the grid layer needs them.
    """

    def __init__(
        self,
        problem: Problem,
        net: nn.Module,
        experts: int | tuple[int, ...] = 1,
        points: int = 64,
        boundary_points: int = 16,
        seed: int = 0,
        overlap: float = 0.0,
        interfaces: bool = False,
        blend: bool = False,
    ) -> None:
        if not isinstance(problem.domain, Box):
            raise NotApplicableError("a point hard constraint needs a box-shaped domain")
        if overlap < 0.0 or (blend and not 0.0 < overlap <= 0.5):
            raise PdesolveError(f"overlap {overlap}: use 0 or more, and a value in (0, 0.5] with blend")
        self.problem, self.net = problem, net
        self.overlap, self.blend, self.trace_channels = overlap, blend, int(interfaces)
        lower, upper = (list(map(float, b)) for b in problem.domain.bounds)
        self.names = SPACE_NAMES[: len(lower)] + (("t",) if problem.is_evolution else ())
        periodic = tuple(problem.periodic_axes)
        if problem.is_evolution:
            lower.append(float(problem.time[0]))
            upper.append(float(problem.time[1]))
            periodic += (False,)
        self.partition = ExpertPartition.for_axes(tuple(lower), tuple(upper), experts, periodic)
        self._sample(np.array(lower), np.array(upper), points, boundary_points, np.random.default_rng(seed))

    def _interface_points(self, lo: np.ndarray, hi: np.ndarray, count: int, rng) -> np.ndarray:
        """``count`` points on each face of the window ``[lo, hi]`` that lies inside the domain (or on a periodic
        axis); along time only the lower face, since an evolution problem takes no condition at its end."""
        lower, upper, faces = self.partition.lower, self.partition.upper, []
        for a, splits in enumerate(self.partition.splits):
            if splits == 1:
                continue
            tolerance = 1e-12 * max(1.0, upper[a] - lower[a])
            for side in [lo[a]] if self.names[a] == "t" else [lo[a], hi[a]]:
                if self.partition.periodic[a] or lower[a] + tolerance < side < upper[a] - tolerance:
                    face = rng.uniform(lo, hi, (count, len(lo)))
                    face[:, a] = side
                    faces.append(self.partition.wrap(face))
        return np.concatenate(faces) if faces else np.zeros((0, len(lo)))

    def _sample(self, lower: np.ndarray, upper: np.ndarray, points: int, boundary: int, rng) -> None:
        dim, evolution = len(self.problem.domain.bounds[0]), self.problem.is_evolution
        windows = [self.partition.window(k, self.overlap) for k in range(self.partition.count)]
        pde = np.concatenate([self.partition.wrap(rng.uniform(lo, hi, (points, len(lo)))) for lo, hi in windows])
        faces = []
        for a in range(dim):
            for side in (lower[a], upper[a]):
                face = rng.uniform(lower, upper, (boundary, len(lower)))
                face[:, a] = side
                faces.append(face)
        bc = np.concatenate(faces) if faces else np.zeros((0, len(lower)))
        x = Coords(list(bc[:, :dim].T), t=bc[:, dim] if evolution else None)
        rows = boundary_rows(self.problem, x)
        keep = rows.keep
        bc, kinds = bc[keep], [np.zeros(len(pde), int), np.full(int(keep.sum()), 2)]
        alpha, beta, value = (
            np.concatenate([np.zeros(len(pde)), v[keep]]) for v in (rows.alpha, rows.beta, rows.value)
        )
        axis = np.concatenate([np.full(len(pde), -1), np.repeat(np.arange(dim), 2 * boundary)[keep]])
        sign = np.concatenate([np.zeros(len(pde)), np.tile(np.repeat([-1.0, 1.0], boundary), dim)[keep]])
        located = [pde, bc]
        if evolution:
            start = rng.uniform(lower, upper, (boundary, len(lower)))
            start[:, dim] = lower[dim]
            located.append(start)
            kinds.append(np.ones(boundary, int))
        if self.trace_channels:
            located += [self._interface_points(lo, hi, boundary, rng) for lo, hi in windows]
        everything = np.concatenate(located)
        extra = len(everything) - len(axis)  # initial and interface points: no boundary coefficients
        alpha, beta, value, sign = (np.concatenate([v, np.zeros(extra)]) for v in (alpha, beta, value, sign))
        axis = np.concatenate([axis, np.full(extra, -1)])
        kind = np.concatenate([*kinds, np.full(len(everything) - sum(map(len, kinds)), 3)])
        u0 = np.zeros(len(everything))
        if evolution:
            x0 = Coords(list(everything[kind == 1, :dim].T), t=everything[kind == 1, dim])
            u0[kind == 1] = np.broadcast_to(self.problem.initial(x0, self.problem.p), (int((kind == 1).sum()),))
        conditions = np.flatnonzero((kind == 1) | (kind == 2))
        seams = np.cumsum([0, *(len(f) for f in located[len(kinds) :])]) + sum(map(len, kinds))
        lists = [
            np.concatenate([
                np.arange(k * points, (k + 1) * points),
                conditions[self.partition.members(everything[conditions], k, self.overlap)],
                np.arange(seams[k], seams[k + 1]) if self.trace_channels else np.zeros(0, int),
            ])
            for k in range(self.partition.count)
        ]  # fmt: skip
        width = max(len(i) for i in lists)
        index = np.stack([np.concatenate([i, np.full(width - len(i), i[0])]) for i in lists])
        weight = np.stack([np.arange(width) < len(i) for i in lists]).astype(float)
        self.arrays = {"points": everything[index], "kind": kind[index], "alpha": alpha[index], "beta": beta[index],
                       "value": value[index], "axis": axis[index], "sign": sign[index], "u0": u0[index]}  # fmt: skip
        self.rows = ExpertRows(torch.as_tensor(np.tile(np.arange(width), (len(lists), 1))), torch.as_tensor(weight))

    @property
    def experts(self) -> int:
        return self.rows.experts

    def subset(self, experts: range | list[int]) -> PointConstraintSystem:
        keep = list(experts)
        other = object.__new__(PointConstraintSystem)
        other.__dict__.update(self.__dict__)
        other.arrays = {name: values[keep] for name, values in self.arrays.items()}
        other.rows = self.rows.subset(keep)
        return other

    def prepare(self, theta: list[torch.Tensor]) -> _BasisTables:
        """Basis values at the points for the network parameters ``theta`` (in ``net.named_parameters`` order)."""
        names = [name for name, _ in self.net.named_parameters()]
        points = torch.as_tensor(self.arrays["points"], dtype=theta[0].dtype, device=theta[0].device)
        return _BasisTables(self.net, dict(zip(names, theta)), points.reshape(-1, points.shape[-1]), self.names)

    def local_rows(self, omega: torch.Tensor, tables: _BasisTables) -> torch.Tensor:
        """Weighted rows (batch, K, c, M) for weights ``omega`` (batch, K, c, nb)."""
        like = tables.cache[()]
        a = {n: torch.as_tensor(v, device=like.device, dtype=like.dtype)[:, None] for n, v in self.arrays.items()}
        shape = tuple(self.arrays["kind"].shape)
        u = PointField(tables, omega, shape)
        space = [a["points"][..., i] for i, n in enumerate(self.names) if n != "t"]
        x = Coords(space, t=a["points"][..., -1] if self.problem.is_evolution else None)
        if self.problem.is_evolution:
            pde = u.derivative("t").values - _values(self.problem.rhs(u, x, self.problem.p), u)
        else:
            pde = _values(self.problem.residual(u, x, self.problem.p), u)
        normal = torch.zeros_like(u.values)
        for i, name in enumerate(n for n in self.names if n != "t"):
            if bool((a["axis"] == i).any()):
                normal = torch.where(a["axis"] == i, u.derivative(name).values, normal)
        bc = a["alpha"] * u.values + a["beta"] * a["sign"] * normal - a["value"]
        rows = torch.where(a["kind"] == 0, pde, torch.where(a["kind"] == 1, u.values - a["u0"], bc))
        if self.trace_channels:
            trace = tables.table(()).reshape(*shape, -1)[:, None, :, -1]  # (K, 1, M)
            rows = torch.where(a["kind"] == 3, u.values - trace, rows)
        return rows * self.rows.weight.to(rows)[:, None]

    def residual(
        self, omega: torch.Tensor, theta: list[torch.Tensor], tables: _BasisTables | None = None
    ) -> torch.Tensor:
        """Weighted rows (batch, K, M); ``tables`` of :meth:`prepare` for the same ``theta`` spare their rebuild."""
        return self.local_rows(omega[:, :, None], self.prepare(theta) if tables is None else tables)[:, :, 0]

    def residual_and_jacobian(
        self, omega: torch.Tensor, theta: list[torch.Tensor], tables: _BasisTables | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        tables = self.prepare([t.detach() for t in theta]) if tables is None else tables
        return rows_and_jacobian(lambda copies: self.local_rows(copies, tables), omega)


def _values(result, like: PointField) -> torch.Tensor:
    return torch.broadcast_to(
        result.values if isinstance(result, Field) else torch.as_tensor(result), like.values.shape
    )


class PointHardConstraint(nn.Module):
    """``forward(x (N, dims)) -> u (N,)``: the basis network's combination of the expert owning each point.

    After each call, :attr:`report` summarises the solve and :attr:`converged` (1,) says whether every expert's
    solve converged (on every rank), as for :class:`~pdesolve.constraints.layer.GridHardConstraint`."""

    def __init__(self, system: PointConstraintSystem, options: LMOptions = LMOptions(), group=None) -> None:
        super().__init__()
        self.system, self.options, self.group = system, options, group
        self.net = system.net
        self.report: SolveReport | None = None
        self.converged: torch.Tensor | None = None

    def weights(self) -> torch.Tensor:
        """The solved ω (1, K, nb)."""
        theta = list(self.net.parameters())
        nb = self.net(theta[0].new_zeros(1, len(self.system.names))).shape[-1] - self.system.trace_channels
        solve_tables: dict[int, _BasisTables] = {}

        def tables(system: PointConstraintSystem, theta: tuple[torch.Tensor, ...]) -> _BasisTables | None:
            """θ is fixed during the solve: one set of basis tables per (sub)system, built once; the implicit
            backward's rows (θ with grad) build their own, with the graph to θ."""
            if any(t.requires_grad for t in theta):
                return None
            if id(system) not in solve_tables:
                solve_tables[id(system)] = system.prepare(list(theta))
            return solve_tables[id(system)]

        omega, result = constrained_weights(
            self.system, theta, lambda s, w, *t: s.residual(w, list(t), tables(s, t)),
            lambda s, w, *t: s.residual_and_jacobian(w, list(t), tables(s, t)), 1, nb, self.options, self.group,
        )  # fmt: skip
        self.report = SolveReport.of(result)
        self.converged = on_every_rank(result.converged.all(-1), self.group)
        return omega

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        omega = self.weights()[0]
        basis = self.net(x)[:, : omega.shape[-1]]
        if self.system.blend:
            return ((basis @ omega.T) * self.system.partition.blend_weights(x, self.system.overlap).T).sum(-1)
        owner = torch.as_tensor(self.system.partition.assign(x.detach().cpu().numpy()), device=x.device)
        return (basis * omega[owner]).sum(-1)
