"""Evolution problems on any finite-element domain (boxes, disks, polygons, meshes) by the method of lines.

Space: P1/P2 Lagrange elements; ``u_t = rhs(u)`` is read off the problem's ``rhs`` as
``c(x, t, u, ∇u) + ∇·F(x, t, u, ∇u)`` (:mod:`pdesolve.classical.fem_weak`: diffusion, nonlinear
reaction such as Allen–Cahn's ``u − u³``, convection such as ``−u ∂_x u``), giving ``M U' = G(U, t)``
with Dirichlet, Neumann and Robin conditions that may depend on time
(:mod:`pdesolve.classical.fem_weak_system`). Time: BDF2 or the θ-method with Newton in every step,
fixed or adaptive steps (:mod:`pdesolve.classical.fem_stepping`). A linear problem (a Jacobian
constant in ``u`` and ``t``) is stepped with one solve per step, its factorisation reused while the
step does not change. Evolution systems (unsteady Stokes and Navier–Stokes, Taylor–Hood P2/P1 with the
pressure as the algebraic unknown) go to :mod:`pdesolve.classical.fem_system_mol`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pdesolve.classical.evolution import output_times, time_bar
from pdesolve.classical.fem_meshes import nodes_option
from pdesolve.classical.fem_newton import mesh_reason, weak_form_reason
from pdesolve.classical.fem_stepping import SCHEMES, Stepper, integrate, jacobian_is_constant
from pdesolve.classical.fem_system_mol import evolution_reason, solve_evolution_system
from pdesolve.classical.fem_weak_system import build_weak_system
from pdesolve.classical.mesh_solution import MeshEvolution
from pdesolve.errors import PdesolveError
from pdesolve.problem import Problem
from pdesolve.solvers.base import SOLVERS, Solver, option, problem_default, register

DEFAULT_NODES = 17  # P2: the compare variants are h ≈ extent/16 and extent/32
NEWTON = ("full", "once")


@register
class FiniteElementLines(Solver):
    """P1/P2 finite elements in space, implicit BDF2 or θ-method in time."""

    name = "fem_mol"
    systems = True

    @dataclass(frozen=True)
    class Options:
        n: int | None = nodes_option()
        order: int = option(2, "Lagrange element order: 1 or 2")
        refine: int = option(0, "uniform refinements of the initial mesh")
        scheme: str = option("bdf2", "bdf2 (Crank-Nicolson first step) | theta", choices=tuple(SCHEMES))
        theta: float = option(0.5, "the theta of the theta-method: 0.5 Crank-Nicolson, 1 backward Euler")
        dt: float = option(
            0.0, "fixed time step (0: adaptive steps to tol); systems take the problem's dt default unless dt is given"
        )
        tol: float = option(1e-6, "adaptive steps: local error per step, relative to max(1, max |u|)")
        outputs: int = option(50, "stored time levels after t0 (a data file's own times when the problem has one)")
        newton: str = option(
            "full",
            "full (Newton to convergence in every step) | once (one Newton step from the extrapolated "
            "state: linearly implicit)",
            choices=NEWTON,
        )

    @classmethod
    def not_applicable(cls, problem: Problem) -> str | None:
        if not problem.is_evolution:
            return "it integrates evolution problems (rhs=); fem and fem_newton solve stationary ones"
        if problem.is_system:
            reason = mesh_reason(problem)
            return reason if reason is not None else evolution_reason(problem)
        return weak_form_reason(problem)

    @classmethod
    def compare_variants(cls, problem: Problem) -> list[dict[str, Any]]:
        """Two meshes; none on boxes where mol (finite differences) applies: there it runs when named."""
        mol = SOLVERS.get("mol")
        if mol is not None and mol.not_applicable(problem) is None:
            return []
        return [{}, {"refine": 1}]

    def solve(self, problem: Problem) -> MeshEvolution:
        self.check(problem)
        config = self.config
        if not 0.5 <= float(config.theta) <= 1.0:
            raise PdesolveError(f"fem_mol: theta must lie in [0.5, 1] (A-stable), not {config.theta}")
        if float(config.dt) <= 0 and float(config.tol) <= 0:
            raise PdesolveError("fem_mol: give a fixed step dt > 0 or a tolerance tol > 0")
        if problem.is_system:  # the problem's dt default unless the user gave dt (0: adaptive)
            dt = config.dt if "dt" in self.given else problem_default(None, problem, self.name, "dt", 0.0)
            with time_bar(self.settings.progress, problem, self.name) as bar:
                return solve_evolution_system(problem, replace(config, dt=float(dt)), bar.update)
        start = time.perf_counter()
        system = build_weak_system(
            problem,
            int(config.order),
            int(self.from_problem("n", problem, DEFAULT_NODES)),
            int(config.refine),
            DEFAULT_NODES,
        )
        t0, t1 = problem.time
        u0 = system.initial()
        linear = jacobian_is_constant(system.linearise, u0, t0, t1)
        jacobian = system.linearise(u0, t0)[1] if linear else None
        stepper = Stepper(
            system.mass(),
            system.residual,
            system.linearise if not linear else lambda u, t: (system.residual(u, t), jacobian),
            system.dirichlet,
            system.free,
            scheme=SCHEMES[config.scheme](float(config.theta)),
            constant_jacobian=linear,
            linearly_implicit=linear or config.newton == "once",
        )
        times = output_times(problem, config.outputs)
        with time_bar(self.settings.progress, problem, self.name) as bar:
            levels, steps = integrate(stepper, u0, t0, t1, times, float(config.dt), float(config.tol), bar.update)
        stats = {
            "n": system.n,
            "order": system.order,
            "elements": int(system.mesh.t.shape[1]),
            "dofs": int(system.basis.N),
            "steps": steps,
            "rejected_steps": stepper.rejected,
            "newton_iterations": stepper.newton_iterations,
            "factorisations": stepper.factorisations,
            "linear": linear,
            "scheme": config.scheme,
            "solve_time": time.perf_counter() - start,
        }
        return MeshEvolution(problem, system.basis, times, np.asarray(levels), stats)
