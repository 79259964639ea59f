"""Evolution systems on meshes by the method of lines: Taylor–Hood P2/P1 (or vector P2) in space, BDF2 or
the θ-method in time, Newton in every step; unsteady Stokes and incompressible Navier–Stokes.

The problem gives ``∂U_e/∂t = rhs`` for the evolving unknowns and ``0 = constraints`` for the algebraic
ones (:mod:`pdesolve.problem.systems`). With ``F(U, t)`` the weak form of the stationary residual
``(−rhs, constraints)`` assembled by :class:`~pdesolve.classical.fem_system.SystemAssembler` (viscous
terms and pressure gradients integrated by parts, so outflow stays do-nothing), the semi-discrete
system is the differential-algebraic ``M U' = −F(U, t)``: ``M`` the mass matrix of each evolving
unknown's space, zero on the pressures and on the multipliers of a gauge. It is stepped by
:class:`~pdesolve.classical.fem_stepping.Stepper`, the pressure taken implicitly at the new level in
every scheme (BDF2: Hairer & Wanner, "Solving ODEs II", §VI.2, the pressure as the index-2 algebraic
variable; its velocity keeps order 2). Initial velocities are interpolated at the degrees of freedom;
the first step projects them onto the discretely divergence-free ones. Where the velocities are named
``u, v(, w)``, the kinetic energy ``½ ∫ |w|²`` at each output time goes into the statistics, and so do the
drag and lift the problem declares (:class:`~pdesolve.problem.quantities.Force`) after every step, in the
reaction form of the unsteady weak residual ``M ∂w/∂t + F(U, t)`` (John 2004), ``∂w/∂t`` from the BDF2
polynomial; the solution's ``boundary_force`` gives the force at the final time.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp
import skfem
from skfem import BilinearForm

from pdesolve.classical.evolution import output_times
from pdesolve.classical.fem_stepping import SCHEMES, Stepper, integrate, jacobian_is_constant
from pdesolve.classical.fem_system import SystemAssembler, factor_saddle, part_dofs, reaction, recognise_system
from pdesolve.classical.mesh_solution import MeshSystemSolution, probes
from pdesolve.errors import NotApplicableError
from pdesolve.problem import Coords, Problem
from pdesolve.problem.quantities import Force
from pdesolve.problem.systems import per_unknown, vector_names


@BilinearForm
def _mass(u, v, w):
    return u * v


@skfem.Functional
def _squared(w):
    return (w.uh - w.exact) ** 2


class MeshSystemEvolution(MeshSystemSolution):
    """Levels ``fields[j][1][k]`` of every unknown at ``times[k]``, linear in time between them."""

    def __init__(
        self,
        problem: Problem,
        fields: list[tuple[skfem.CellBasis, np.ndarray]],
        times: np.ndarray,
        stats: dict,
        final_forces: dict[str, np.ndarray] | None = None,
    ) -> None:
        super().__init__(problem, fields, stats)
        self.times = np.asarray(times, dtype=float)
        if final_forces:
            self.boundary_force = lambda on: (final_forces[repr(on)], "reaction of the unsteady weak residual, t1")

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Values of shape (N, unknowns) at points (x, y[, z], t)."""
        points = np.atleast_2d(np.asarray(points, dtype=float))
        dim = self.mesh.dim()
        t = np.clip(points[:, dim], self.times[0], self.times[-1])
        upper = np.clip(np.searchsorted(self.times, t), 1, len(self.times) - 1)
        lower = upper - 1
        weight = (t - self.times[lower]) / (self.times[upper] - self.times[lower])
        rows = np.arange(len(points))
        columns = []
        for basis, levels in self.fields:
            at_levels = probes(basis, points[:, :dim]) @ levels.T
            columns.append((1 - weight) * at_levels[rows, lower] + weight * at_levels[rows, upper])
        return np.column_stack(columns)

    def level_errors(self, exact: Any, level: int = -1) -> dict[str, float]:
        """``‖U_j − exact_j‖_{L²}`` per unknown at ``times[level]`` (quadrature of order 6)."""
        t, names = float(self.times[level]), self.problem.unknowns
        errors = {}
        for name, (basis, levels) in zip(names, self.fields):
            fine = skfem.Basis(self.mesh, basis.elem, intorder=6)
            points = fine.global_coordinates().value
            x = Coords(list(points), t=np.full(points[0].shape, t))
            given = dict(zip(names, per_unknown(exact(x, self.problem.p), names, "exact(x, p)")))[name]
            values = np.broadcast_to(np.asarray(given, dtype=float), points[0].shape)
            errors[name] = float(np.sqrt(_squared.assemble(fine, uh=fine.interpolate(levels[level]), exact=values)))
        return errors

    def vertex_values(self) -> np.ndarray:
        return np.column_stack([levels[-1, basis.nodal_dofs[0]] for basis, levels in self.fields])

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"points": self.mesh.p[:, : self.mesh.nvertices].T, "cells": self.mesh.t.T, "t": self.times}
        for name, (basis, levels) in zip(self.problem.unknowns, self.fields):
            out[name] = levels[:, basis.nodal_dofs[0]]
            out[f"{name}_dof_points"] = basis.doflocs.T
            out[f"{name}_dofs"] = levels
        return out


def evolution_reason(problem: Problem) -> str | None:
    """Why the Taylor–Hood method of lines cannot take the evolution system ``problem``, or None."""
    lower, upper = problem.domain.bounds
    points = lower + (upper - lower) * np.linspace(0.3, 0.7, 4)[:, None]
    try:
        structure = recognise_system(problem, Coords(list(points.T)))
    except NotApplicableError as error:
        return str(error)
    mismatched = [name for j, name in enumerate(problem.evolving) if structure.equation_of[j] != j]
    if mismatched:
        return (
            f"the rhs rows of {mismatched} are not the ones with their second derivatives; fem_mol tests each "
            "evolving unknown's row with its own space (order the unknowns as the rows of rhs)"
        )
    return None


def mass_matrix(assembler: SystemAssembler) -> sp.csr_matrix:
    """The mass matrix of each evolving unknown's space; zero on the algebraic unknowns and multipliers."""
    evolving = len(assembler.problem.evolving)
    blocks = [
        skfem.asm(_mass, basis) if j < evolving else sp.csr_matrix((basis.N, basis.N))
        for j, basis in enumerate(assembler.bases)
    ]
    if assembler.gauges:
        blocks.append(sp.csr_matrix((len(assembler.gauges), len(assembler.gauges))))
    return sp.block_diag(blocks, format="csr")


def initial_vector(assembler: SystemAssembler) -> np.ndarray:
    """Initial data at the degrees of freedom (algebraic unknowns where given, else 0), Dirichlet values at t0."""
    problem = assembler.problem
    t0 = float(problem.time[0])
    vector = np.zeros(assembler.size)
    for j, (name, basis) in enumerate(zip(problem.unknowns, assembler.bases)):
        x = Coords(list(basis.doflocs), t=np.full(basis.N, t0))
        given = problem.initial_values(x).get(name)
        if given is not None:
            vector[assembler.offsets[j] : assembler.offsets[j + 1]] = np.broadcast_to(
                np.asarray(given, dtype=float), (basis.N,)
            )
    fixed = np.setdiff1d(np.arange(assembler.size), assembler.free)
    vector[fixed] = assembler.dirichlet(t0)[fixed]
    return vector


def kinetic_energy(assembler: SystemAssembler, mass: sp.csr_matrix, levels: np.ndarray) -> list[float] | None:
    """``½ ∫ |w|²`` per level when the velocity is named ``u, v(, w)``, else None."""
    names = vector_names(assembler.problem.unknowns, assembler.problem.dim)
    if names is None:
        return None
    total = np.zeros(len(levels))
    for name in names:
        j = assembler.problem.unknowns.index(name)
        block = slice(assembler.offsets[j], assembler.offsets[j + 1])
        part = levels[:, block]
        total += np.einsum("ki,ki->k", part, (mass[block, block] @ part.T).T)
    return [float(e) for e in 0.5 * total]


def solve_evolution_system(problem: Problem, config: Any, progress: Any) -> MeshSystemEvolution:
    """Step ``problem`` with the options of fem_mol (n, refine, scheme, theta, dt, tol, outputs, newton); ``dt``
    0: adaptive steps to ``tol``."""
    start = time.perf_counter()
    assembler = SystemAssembler(problem, int(config.n or 0), int(config.refine))
    mass = mass_matrix(assembler)
    gauges = len(assembler.gauges)

    def dirichlet(t: float) -> np.ndarray:
        return np.concatenate([assembler.dirichlet(t), np.zeros(gauges)])

    def linearise(vector: np.ndarray, t: float) -> tuple[np.ndarray, sp.csr_matrix]:
        F, J = assembler.linearise(vector, t)
        return -F, -J

    u0 = initial_vector(assembler)
    t0, t1 = problem.time
    constant = jacobian_is_constant(linearise, u0, t0, t1)
    stepper = Stepper(
        mass,
        None,
        linearise,
        dirichlet,
        assembler.free,
        scheme=SCHEMES[config.scheme](float(config.theta)),
        constant_jacobian=constant,
        linearly_implicit=constant or config.newton == "once",
        factor=factor_saddle,
    )
    times = output_times(problem, config.outputs)
    dt = float(config.dt)
    forces = ForceSeries(assembler, mass, linearise)
    levels, steps = integrate(stepper, u0, t0, t1, times, dt, float(config.tol), progress, forces.observe)
    levels = np.asarray(levels)
    names = problem.unknowns
    stats: dict[str, Any] = {
        "n": int(config.n or problem.defaults.get("n", 0)) or None,
        "elements": int(assembler.mesh.t.shape[1]),
        "spaces": {names[j]: "P2" if j in assembler.structure.velocities else "P1" for j in range(len(names))},
        "dofs": int(assembler.size),
        "steps": steps,
        "rejected_steps": stepper.rejected,
        "newton_iterations": stepper.newton_iterations,
        "factorisations": stepper.factorisations,
        "linear": constant,
        "scheme": config.scheme,
        "dt": dt or None,
        "newton": "once" if constant else config.newton,
    }
    energy = kinetic_energy(assembler, mass, levels)
    if energy is not None:
        stats["kinetic_energy"] = {"t": [float(t) for t in times], "value": energy}
    if forces.parts:
        stats["forces"] = forces.series()
    stats["solve_time"] = time.perf_counter() - start
    fields = [
        (basis, levels[:, assembler.offsets[j] : assembler.offsets[j + 1]]) for j, basis in enumerate(assembler.bases)
    ]
    return MeshSystemEvolution(problem, fields, times, stats, forces.final())


class ForceSeries:
    """The drag and lift the problem declares, after every accepted step (reaction form)."""

    def __init__(self, assembler: SystemAssembler, mass: sp.csr_matrix, linearise: Any) -> None:
        self.assembler, self.mass, self.linearise = assembler, mass, linearise
        quantities = {k: q for k, q in assembler.problem.quantities.items() if isinstance(q, Force)}
        self.quantities = quantities
        self.parts = {repr(q.on): part_dofs(assembler, q.on) for q in quantities.values()}
        self.times: list[float] = []
        self.values: dict[str, list[np.ndarray]] = {key: [] for key in self.parts}

    def observe(self, stepper: Stepper) -> None:
        if not self.parts:
            return
        t, u = stepper.times[-1], stepper.levels[-1]
        G, _ = self.linearise(u, t)  # G = −F
        residual = self.mass @ stepper.derivative() - G
        self.times.append(float(t))
        for key, dofs in self.parts.items():
            self.values[key].append(reaction(self.assembler, residual, dofs))

    def series(self) -> dict[str, dict[str, Any]]:
        out = {}
        for label, quantity in self.quantities.items():
            values = [float(quantity.scale * f[quantity.axis]) for f in self.values[repr(quantity.on)]]
            out[label] = {"t": self.times, "value": values, "max": max(values), "min": min(values)}
        return out

    def final(self) -> dict[str, np.ndarray]:
        return {key: values[-1] for key, values in self.values.items() if values}
