"""Finite elements (scikit-fem, Lagrange P1/P2) for ``-∇·(K∇u) + q u = f`` with Dirichlet, Neumann and Robin
conditions: the system from :func:`pdesolve.classical.fem_assembly.assemble_fem`, solved directly or by PCG.
Systems (Stokes, Navier–Stokes, elasticity) go to :mod:`pdesolve.classical.fem_system`: Taylor–Hood P2/P1
and Newton's method.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from pdesolve.classical.fem_assembly import assemble_fem, is_dirichlet
from pdesolve.classical.fem_forms import recognise
from pdesolve.classical.fem_meshes import default_nodes, nodes_option
from pdesolve.classical.fem_system import SystemAssembler, boundary_force, newton, recognise_system
from pdesolve.classical.footprint import check_fem
from pdesolve.classical.linear_solvers import LINSOLVE_HELP, METHODS, PRECOND_HELP, linear_method, solve_assembled
from pdesolve.classical.mesh_solution import MeshSolution, MeshSystemSolution
from pdesolve.errors import NotApplicableError, PdesolveError
from pdesolve.linalg.registry import names
from pdesolve.problem import Ball, Box, Coords, Disk, Mesh, Periodic, Polygon, Problem
from pdesolve.problem.csg import Combination
from pdesolve.solvers.base import Solver, option, problem_default, register


@register
class FiniteElement(Solver):
    """Lagrange finite elements on triangles / tetrahedra for linear elliptic problems."""

    name = "fem"
    systems = True

    @dataclass(frozen=True)
    class Options:
        n: int | None = nodes_option()
        order: int = option(
            1, "Lagrange element order: 1 or 2 (systems: always P2 velocities, P1 pressures)", positive=True
        )
        refine: int = option(0, "uniform refinements of the initial mesh")
        linsolve: str = option("auto", LINSOLVE_HELP, choices=("auto", *METHODS))
        precond: str = option("ic0", PRECOND_HELP, choices=names("host"))
        tol: float = option(1e-10, "cg: relative residual to stop at", positive=True)
        maxiter: int = option(0, "cg: iteration cap (0: max(1000, unknowns)); systems: Newton's step cap (0: 25)")

    @classmethod
    def not_applicable(cls, problem: Problem) -> str | None:
        if problem.is_evolution:
            return "it solves stationary problems; evolution problems need mol or spectral"
        if not isinstance(problem.domain, (Box, Ball, Disk, Polygon, Mesh, Combination)):
            return f"no mesh for a {type(problem.domain).__name__} domain"
        if any(isinstance(c, Periodic) for c in problem.boundary):
            return "periodic conditions are not implemented in fem; use fd or spectral"
        lower, upper = problem.domain.bounds
        points = lower + (upper - lower) * np.linspace(0.3, 0.7, 4)[:, None]
        if problem.is_system:
            try:
                recognise_system(problem, Coords(list(points.T)))
            except NotApplicableError as error:
                return str(error)
            return None
        try:
            form = recognise(problem.residual, Coords(list(points.T)), problem.p)
        except NotApplicableError as error:
            return str(error)
        natural = [c for c in problem.boundary if not is_dirichlet(c)]
        if natural and not form.isotropic:
            return "Neumann and Robin conditions need an isotropic diffusion coefficient"
        return None

    @classmethod
    def compare_variants(cls, problem: Problem) -> list[dict[str, Any]]:
        """The default mesh refined once more (in 3D: a box mesh of half the resolution, to stay within seconds)."""
        if problem.dim == 3 and isinstance(problem.domain, Box):
            n = int(problem_default(None, problem, cls.name, "n", default_nodes(problem.dim)))
            return [{"n": (n + 1) // 2}, {}]
        return [{}, {"refine": 1}]

    def solve(self, problem: Problem) -> MeshSolution | MeshSystemSolution:
        self.check(problem)
        if problem.is_system:
            return self._solve_system(problem)
        order, refine = int(self.config.order), int(self.config.refine)
        n = int(self.from_problem("n", problem, default_nodes(problem.dim)))
        method = linear_method(self.config.linsolve, problem.dim, self.settings.device)
        if order not in (1, 2):
            raise PdesolveError(f"--set order={order}: fem has Lagrange elements of order 1 or 2")
        if not isinstance(problem.domain, Mesh):
            check_fem(n, problem.dim, order, refine, method)
        start = time.perf_counter()
        system = assemble_fem(problem, order, n, refine)
        x, solve_stats = solve_assembled(
            system.matrix, system.rhs, method, self.config, self.settings.device, time.perf_counter() - start
        )
        stats = {
            "n": system.n,
            "order": system.order,
            "elements": int(system.mesh.t.shape[1]),
            "dofs": int(system.basis.N),
            "unknowns": int(len(system.free)),
            **solve_stats,
        }
        return MeshSolution(problem, system.basis, system.to_dofs(x), stats)

    def _solve_system(self, problem: Problem) -> MeshSystemSolution:
        """Taylor–Hood P2/P1 (or vector P2) and Newton's method, Stokes first."""
        start = time.perf_counter()
        n = int(self.from_problem("n", problem, default_nodes(problem.dim)))
        assembler = SystemAssembler(problem, n, int(self.config.refine))
        vector, newton_stats = newton(assembler, maxiter=int(self.config.maxiter) or 25)
        names = problem.unknowns
        stats = {
            "n": n,
            "elements": int(assembler.mesh.t.shape[1]),
            "spaces": {names[j]: "P2" if j in assembler.structure.velocities else "P1" for j in range(len(names))},
            "dofs": int(assembler.size),
            "unknowns": int(len(assembler.free)),
            "iterations": newton_stats["newton_steps"],
            "solve_time": time.perf_counter() - start,
            **newton_stats,
        }
        fields = list(zip(assembler.bases, assembler.split(vector)))
        return MeshSystemSolution(problem, fields, stats, reaction=partial(boundary_force, assembler, vector))
