"""Finite elements for PDE systems read off the problem: Taylor–Hood P2/P1 for Stokes and Navier–Stokes,
vector P2 for elasticity and other second-order systems, solved by Newton's method with a line search.

The residual is linearised at the current state on the quadrature points
(:mod:`pdesolve.classical.fem_system_forms`). Unknowns whose second derivatives appear are
"velocities" (P2), the others "pressures" (P1). The k-th equation with second derivatives is tested
with the k-th velocity, the remaining equations with the pressures, in the order of ``unknowns``.
Weak form of equation i with test function ψ: second derivatives and pressure gradients are
integrated by parts, ``∫ c ∂_k∂_l w ψ → −∫ c ∂_l w ∂_k ψ`` and ``∫ c ∂_k p ψ → −∫ c p ∂_k ψ``, so the
boundary term that is dropped where no Dirichlet value is given makes the do-nothing outflow
``ν ∂w/∂n − p n = 0`` of ``−ν Δw + ∇p`` natural (Heywood, Rannacher & Turek 1996); everything else is
tested as it stands. Dirichlet values are set per component, a :class:`~pdesolve.problem.Gauge` adds a
Lagrange multiplier (the mean, or the value at a point). Newton (:func:`pdesolve.classical.newton.newton`)
starts from the solve of the linear part (Stokes for Navier–Stokes); a linear problem is solved by that
first step. An evolution system is read through its stationary residual ``(−rhs, constraints)``
(:func:`pdesolve.problem.systems.evolution_residual`) at a time ``t``; Dirichlet values may depend on ``t``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import skfem
from scipy.sparse.linalg import splu, spsolve
from skfem import BilinearForm, LinearForm

from pdesolve.classical.fem_meshes import build_mesh, default_nodes
from pdesolve.classical.fem_system_forms import WHAT_FEM_TAKES, LinearTracer, jets_of
from pdesolve.classical.mesh_solution import probes
from pdesolve.classical.newton import newton as newton_loop
from pdesolve.errors import DivergenceError, NotApplicableError, ProblemError
from pdesolve.problem import Coords, Dirichlet, Gauge, Outflow, Problem
from pdesolve.problem.conditions import evaluate_value
from pdesolve.problem.systems import Unknowns, equation_list, evolution_residual

QUADRATURE_ORDER = 6  # exact for the P2·P2·∇P2 convection of Navier–Stokes


@dataclass(frozen=True)
class Structure:
    """Which unknowns are velocities (P2) and pressures (P1), and the equation tested with each unknown."""

    velocities: tuple[int, ...]
    pressures: tuple[int, ...]
    equation_of: tuple[int, ...]  # equation index per unknown


def system_residual(problem: Problem) -> Callable[..., Any]:
    """The residual a stationary system gives, or the ``(−rhs, constraints)`` rows of an evolution system."""
    return evolution_residual(problem.rhs, problem.constraints) if problem.is_evolution else problem.residual


def trace(problem: Problem, x: Coords, jets: dict) -> list[LinearTracer]:
    """The residual's equations linearised at the state whose values and first derivatives are ``jets``."""
    names, dim = problem.unknowns, problem.dim
    fields = {name: LinearTracer.unknown(j, dim, jets) for j, name in enumerate(names)}
    rows = equation_list(system_residual(problem)(Unknowns(fields, dim), x, problem.p))
    equations = []
    for i, row in enumerate(rows):
        if not isinstance(row, LinearTracer) or not row.depends_on_u:
            raise NotApplicableError(f"equation {i + 1} of the residual does not depend on the unknowns")
        equations.append(row)
    return equations


def structure(problem: Problem, equations: list[LinearTracer]) -> Structure:
    """Classify unknowns and pair each with its equation; one-line refusals for what fem cannot take."""
    absent = [
        name for j, name in enumerate(problem.unknowns) if not any(j == k for e in equations for k, _ in e.linear)
    ]
    if absent:
        raise NotApplicableError(f"no equation depends on {absent}")
    second = [i for i, e in enumerate(equations) if e.second_order]
    others = [i for i in range(len(equations)) if i not in second]
    velocities = tuple(sorted({j for i in second for (j, alpha) in equations[i].linear if sum(alpha) == 2}))
    pressures = tuple(j for j in range(len(problem.unknowns)) if j not in velocities)
    if not velocities:
        raise NotApplicableError(f"no equation has second derivatives; {WHAT_FEM_TAKES}")
    if len(second) != len(velocities):
        raise NotApplicableError(
            f"{len(second)} equation(s) have second derivatives of {len(velocities)} unknown(s) "
            f"{[problem.unknowns[j] for j in velocities]}; fem pairs one such equation with each"
        )
    for i in others:
        if any(j in pressures and sum(alpha) > 0 for j, alpha in equations[i].linear):
            raise NotApplicableError(
                f"equation {i + 1} differentiates {problem.unknowns[pressures[0]]!r}, which has no second "
                "derivative anywhere; pressure gradients belong in the momentum equations"
            )
    pairing = dict(zip(velocities, second)) | dict(zip(pressures, others))
    return Structure(velocities, pressures, tuple(pairing[j] for j in range(len(problem.unknowns))))


def recognise_system(problem: Problem, x: Coords) -> Structure:
    """The structure of ``problem`` at points ``x`` (raises NotApplicableError with the reason)."""
    for condition in problem.boundary:
        if not isinstance(condition, (Dirichlet, Gauge, Outflow)):
            raise NotApplicableError(
                f"fem takes Dirichlet, Outflow and Gauge conditions for systems, not {type(condition).__name__}"
            )
    if problem.is_evolution and x.t is None:
        x = Coords(list(x), t=np.full(np.shape(x[0]), float(problem.time[0])))
    shape = np.shape(x[0])
    zero = [(np.zeros(shape), np.zeros((problem.dim, *shape))) for _ in problem.unknowns]
    return structure(problem, trace(problem, x, jets_of(zero)))


def _form(a: int, b: int) -> BilinearForm:
    """``∫ c D_a φ D_b ψ`` with ``D_k`` the derivative in axis k, or the value for ``k = -1``."""

    def part(function: Any, k: int) -> Any:
        return function if k < 0 else function.grad[k]

    return BilinearForm(lambda u, v, w: w.c * part(u, a) * part(v, b))


FORMS = {(a, b): _form(a, b) for a in range(-1, 3) for b in range(-1, 3)}


@LinearForm
def _load(v, w):
    return w.f * v


class SystemAssembler:
    """Spaces, Dirichlet values and the Newton residual/Jacobian of a system on one mesh."""

    def __init__(self, problem: Problem, n: int, refine: int) -> None:
        self.problem = problem
        self.mesh = build_mesh(
            problem.domain,
            int(n or problem.defaults.get("n", default_nodes(problem.dim))),
            int(refine),
            order=2,
            near=problem.defaults.get("refine_near"),
        )
        dim = self.mesh.dim()
        elements = {2: skfem.ElementTriP2, 3: skfem.ElementTetP2}, {2: skfem.ElementTriP1, 3: skfem.ElementTetP1}
        if dim not in elements[0]:
            raise NotApplicableError(f"fem solves systems in 2D and 3D, not {dim}D")
        self.velocity_basis = skfem.Basis(self.mesh, elements[0][dim](), intorder=QUADRATURE_ORDER)
        self.pressure_basis = skfem.Basis(self.mesh, elements[1][dim](), intorder=QUADRATURE_ORDER)
        self.x = Coords(list(self.velocity_basis.global_coordinates().value))
        self.structure = recognise_system(problem, self.at(problem.time[0] if problem.is_evolution else None))
        self.bases = [
            self.velocity_basis if j in self.structure.velocities else self.pressure_basis
            for j in range(len(problem.unknowns))
        ]
        self.offsets = np.cumsum([0] + [b.N for b in self.bases])
        self.essential, fixed = self._dirichlet()
        self.values = self.dirichlet(problem.time[0] if problem.is_evolution else None)
        self.gauges = self._gauges()
        self.size = int(self.offsets[-1]) + len(self.gauges)
        self.free = np.setdiff1d(np.arange(self.size), fixed)

    def at(self, t: float | None) -> Coords:
        """The quadrature points, at time ``t`` (None: stationary)."""
        return self.x if t is None else Coords(list(self.x), t=np.full(np.shape(self.x[0]), float(t)))

    # --- conditions -----------------------------------------------------------------------
    def _dirichlet(self) -> tuple[list[tuple[int, np.ndarray, Dirichlet]], np.ndarray]:
        """(unknown, its fixed degrees of freedom, the condition) per Dirichlet set (first claiming condition
        wins), and the fixed global indices."""
        problem, mesh = self.problem, self.mesh
        facets = mesh.boundary_facets()
        midpoints = Coords(list(mesh.p[:, mesh.facets[:, facets]].mean(axis=1)))
        essential: list[tuple[int, np.ndarray, Dirichlet]] = []
        fixed: list[np.ndarray] = []
        for j, name in enumerate(problem.unknowns):
            basis, velocity = self.bases[j], j in self.structure.velocities
            owner = np.full(len(facets), -1)
            for index, condition in enumerate(problem.boundary):
                relevant = (isinstance(condition, Dirichlet) and name in condition.names) or (
                    isinstance(condition, Outflow) and velocity
                )
                if relevant:
                    todo = owner < 0
                    owner[todo & np.broadcast_to(condition.applies(midpoints), todo.shape)] = index
            if velocity and np.any(owner < 0):
                raise ProblemError(
                    f"problem {problem.name!r}: {np.sum(owner < 0)} boundary facets have no condition for {name!r} "
                    "(a Dirichlet value or Outflow)"
                )
            done = np.zeros(basis.N, dtype=bool)
            for index in np.unique(owner[owner >= 0]):
                condition = problem.boundary[index]
                if not isinstance(condition, Dirichlet):
                    continue
                dofs = basis.get_dofs(facets=facets[owner == index]).all()
                dofs = dofs[~done[dofs]]
                essential.append((j, dofs, condition))
                done[dofs] = True
            fixed.append(self.offsets[j] + np.flatnonzero(done))
        return essential, np.concatenate(fixed)

    def dirichlet(self, t: float | None = None) -> np.ndarray:
        """The Dirichlet values at time ``t`` at their degrees of freedom, zeros elsewhere (no multipliers)."""
        values = np.zeros(int(self.offsets[-1]))
        for j, dofs, condition in self.essential:
            points = self.bases[j].doflocs[:, dofs]
            x = Coords(list(points), t=None if t is None else np.full(len(dofs), float(t)))
            given = evaluate_value(condition.value[self.problem.unknowns[j]], x, self.problem.p)
            values[self.offsets[j] + dofs] = np.broadcast_to(np.asarray(given, dtype=float), dofs.shape)
        return values

    def _gauges(self) -> list[tuple[int, np.ndarray, float]]:
        """(unknown, functional row, value) per Gauge: the mean over the domain or the value at a point."""
        gauges = []
        for condition in self.problem.conditions(Gauge):
            j = self.problem.unknowns.index(condition.unknown)
            basis = self.bases[j]
            if condition.at is None:
                row = skfem.asm(_load, basis, f=np.ones(np.shape(self.x[0])))
                row = row / row.sum()
            else:
                point = np.asarray(condition.at, dtype=float)[None, :]
                row = probes(basis, point).toarray().ravel()
            gauges.append((j, row, float(condition.value)))
        return gauges

    # --- Newton's residual and Jacobian ---------------------------------------------------
    def split(self, vector: np.ndarray) -> list[np.ndarray]:
        return [vector[self.offsets[j] : self.offsets[j + 1]] for j in range(len(self.bases))]

    def linearise(self, vector: np.ndarray, t: float | None = None) -> tuple[np.ndarray, sp.csr_matrix]:
        """The weak residual F(U) and its Jacobian J(U) at the state ``vector`` (at time ``t``)."""
        parts = self.split(vector)
        states = []
        for basis, coefficients in zip(self.bases, parts):
            field = basis.interpolate(coefficients)
            states.append((field.value, field.grad))
        jets = jets_of(states)
        equations = trace(self.problem, self.at(t), jets)
        count = len(self.bases)
        blocks = [[None] * count for _ in range(count)]
        residual = np.zeros(self.size)
        for i, test in enumerate(self.structure.equation_of):
            equation, test_basis = equations[test], self.bases[i]
            remainder = np.broadcast_to(np.asarray(equation.value, dtype=float), np.shape(self.x[0])).copy()
            integrated = {}
            for (j, alpha), c in equation.linear.items():
                order = sum(alpha)
                axes = [k for k, a in enumerate(alpha) for _ in range(a)]
                by_parts = order == 2 or (order == 1 and j in self.structure.pressures)
                if by_parts and np.ndim(c) > 0:
                    raise NotApplicableError(
                        f"a second derivative or pressure gradient has a variable coefficient; {WHAT_FEM_TAKES}"
                    )
                if order == 1 and j in self.structure.pressures and i in self.structure.pressures:
                    raise NotApplicableError("a pressure gradient in a constraint equation; " + WHAT_FEM_TAKES)
                if by_parts:  # −∫ c ∂_l φ ∂_k ψ  (order 2, axes k, l)  or  −∫ c φ ∂_k ψ  (pressure)
                    a, b = (axes[1], axes[0]) if order == 2 else (-1, axes[0])
                    remainder -= c * jets.get((j, alpha), 0.0)
                    integrated[(j, a, b)] = integrated.get((j, a, b), 0.0) - c
                else:
                    a = axes[0] if order == 1 else -1
                    key = (j, a, -1)
                    integrated[key] = integrated.get(key, 0.0) + c
            residual[self.offsets[i] : self.offsets[i + 1]] += skfem.asm(_load, test_basis, f=remainder)
            for (j, a, b), c in integrated.items():
                matrix = skfem.asm(FORMS[(a, b)], self.bases[j], test_basis, c=np.broadcast_to(c, np.shape(self.x[0])))
                blocks[i][j] = matrix if blocks[i][j] is None else blocks[i][j] + matrix
                if b >= 0:  # integrated by parts: its weak action on the state
                    residual[self.offsets[i] : self.offsets[i + 1]] += matrix @ parts[j]
        jacobian = sp.bmat(blocks, format="csr")
        return self._with_gauges(vector, residual, jacobian)

    def _with_gauges(
        self, vector: np.ndarray, residual: np.ndarray, jacobian: sp.csr_matrix
    ) -> tuple[np.ndarray, sp.csr_matrix]:
        if not self.gauges:
            return residual, jacobian
        rows = np.zeros((len(self.gauges), int(self.offsets[-1])))
        for g, (j, row, value) in enumerate(self.gauges):
            rows[g, self.offsets[j] : self.offsets[j + 1]] = row
            residual[self.offsets[-1] + g] = row @ self.split(vector)[j] - value
        multipliers = vector[self.offsets[-1] :]
        residual[: self.offsets[-1]] += rows.T @ multipliers
        constraint = sp.csr_matrix(rows)
        return residual, sp.bmat([[jacobian, constraint.T], [constraint, None]], format="csr")

    def start(self) -> np.ndarray:
        vector = np.zeros(self.size)
        vector[: self.offsets[-1]] = self.values
        return vector


def newton(assembler: SystemAssembler, tol: float = 1e-10, maxiter: int = 25) -> tuple[np.ndarray, dict[str, Any]]:
    """Solve F(U) = 0: the linear part's solve (Stokes) first, then Newton with a backtracking line search.

    Stops when a step changes the state by less than ``tol`` relative to it or ``‖F‖`` on the free degrees
    of freedom falls below 10⁻¹³ of the state's size; ``newton_residuals`` are ``‖F‖`` after the start and
    after each step.
    """
    free = assembler.free
    vector = assembler.start()
    residual, jacobian = assembler.linearise(np.zeros_like(vector))  # the linear part: F(0) + J(0) U
    vector[free] -= solve_saddle(jacobian[free][:, free], (residual + jacobian @ vector)[free])
    scale = max(1.0, float(np.max(np.abs(vector))))

    def embed(y: np.ndarray) -> np.ndarray:
        full = vector.copy()
        full[free] = y
        return full

    def linearised(y: np.ndarray) -> tuple[np.ndarray, sp.csr_matrix]:
        r, J = assembler.linearise(embed(y))
        return r[free], J[free][:, free]

    result = newton_loop(
        None,
        linearised,
        vector[free],
        tol=tol,
        atol=1e-13 * scale,
        rtol=0.0,
        maxiter=maxiter,
        solve=solve_saddle,
        norm=lambda r: float(np.linalg.norm(r)),
        hint="; refine the mesh or lower the Reynolds number",
    )
    history = [*result.residuals, result.final_residual]
    stats = {"newton_steps": result.iterations, "newton_residuals": history, "line_search_halvings": result.halvings}
    return embed(result.y), stats


def factor_saddle(matrix: sp.spmatrix) -> Callable[[np.ndarray], np.ndarray]:
    """A solve with ``matrix`` by sparse LU. The saddle-point matrices are structurally symmetric, so
    SuperLU's symmetric mode (ordering of ``A + Aᵀ``, diagonal pivots preferred) fills in several times
    less than its default column ordering; should its answer not solve the system, the default is used."""
    reduced = sp.csc_matrix(matrix)
    try:
        factors = splu(reduced, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.01, options={"SymmetricMode": True})
    except RuntimeError:  # exactly singular in this ordering
        factors = None

    def solve(right: np.ndarray) -> np.ndarray:
        solution = None if factors is None else factors.solve(right)
        if solution is None or np.linalg.norm(reduced @ solution - right) > 1e-8 * max(np.linalg.norm(right), 1e-300):
            solution = spsolve(reduced, right)
        if not np.all(np.isfinite(solution)):
            raise DivergenceError("fem: the linearised system is singular (an undetermined unknown or pressure?)")
        return solution

    return solve


def solve_saddle(matrix: sp.spmatrix, right: np.ndarray) -> np.ndarray:
    """One solve with a fresh factorisation (:func:`factor_saddle`)."""
    return factor_saddle(matrix)(right)


def boundary_force(assembler: SystemAssembler, vector: np.ndarray, on: Any) -> tuple[np.ndarray, str]:
    """The force of the fluid on the boundary part ``on``, in its volume-integral (reaction) form.

    The weak momentum residual of ``−ν Δw + ∇p + ...`` at the discrete solution, tested with the
    velocity basis functions of the part's nodes (a test function 1 on the part, 0 on the rest of the
    boundary), equals ``∮_part (ν ∂w/∂n − p n) ds`` with ``n`` the fluid's outward normal; the force on
    the body is its negative (Giles, Larson, Levenstam & Süli 1997). Only volume integrals enter, so it
    converges like the energy error squared, faster than the line integral of the traction.
    """
    residual, _ = assembler.linearise(vector)
    return reaction(assembler, residual, part_dofs(assembler, on)), "volume integral (reaction) of the weak residual"


def part_dofs(assembler: SystemAssembler, on: Any) -> np.ndarray:
    """The velocity basis's degrees of freedom on the boundary part ``on``."""
    from pdesolve.problem.boundary_quadrature import part_selector

    mesh = assembler.mesh
    facets = mesh.boundary_facets()
    midpoints = Coords(list(mesh.p[:, mesh.facets[:, facets]].mean(axis=1)))
    chosen = facets[np.asarray(part_selector(assembler.problem, on)(midpoints), dtype=bool)]
    if not len(chosen):
        raise ProblemError(f"problem {assembler.problem.name!r}: no boundary facet lies on {on!r}")
    return assembler.velocity_basis.get_dofs(facets=chosen).all()


def reaction(assembler: SystemAssembler, residual: np.ndarray, dofs: np.ndarray) -> np.ndarray:
    """The force on the part whose velocity degrees of freedom are ``dofs``, from the weak momentum residual
    (an unsteady one includes ``M ∂w/∂t``)."""
    return np.array([-residual[assembler.offsets[j] + dofs].sum() for j in assembler.structure.velocities])
