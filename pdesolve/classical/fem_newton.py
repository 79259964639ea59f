"""Nonlinear stationary problems by finite elements and Newton's method with a line search.

The residual is read as ``c(x, u, ∇u) + ∇·F(x, u, ∇u) = 0`` (:mod:`pdesolve.classical.fem_weak`:
e.g. ``-Δu + u³ - f``, Bratu's ``-Δu - λ e^u``, the p-Laplacian ``-div(|∇u|^{p-2} ∇u) - f``,
advection ``b·∇u``), its Galerkin form and Jacobian assembled at the quadrature points
(:mod:`pdesolve.classical.fem_weak_system`) and solved by :func:`pdesolve.classical.newton.newton`
from the Dirichlet lift (zero inside). Where the Jacobian is degenerate at that start (a p-Laplacian
at ∇u = 0), the first iteration solves with a Laplacian in place of the Jacobian.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from pdesolve.classical.fem import FiniteElement
from pdesolve.classical.fem_meshes import default_nodes, nodes_option
from pdesolve.classical.fem_weak import linearise, torch_coords
from pdesolve.classical.fem_weak_system import WeakSystem, build_weak_system
from pdesolve.classical.mesh_solution import MeshSolution
from pdesolve.classical.newton import newton
from pdesolve.errors import NotApplicableError
from pdesolve.problem import Ball, Box, Disk, Mesh, Periodic, Polygon, Problem
from pdesolve.problem.csg import Combination
from pdesolve.solvers.base import Solver, option, register


def mesh_reason(problem: Problem) -> str | None:
    """Why the finite elements have no mesh (or no periodic conditions) for the problem, or None."""
    if not isinstance(problem.domain, (Box, Ball, Disk, Polygon, Mesh, Combination)):
        return f"no mesh for a {type(problem.domain).__name__} domain"
    if any(isinstance(c, Periodic) for c in problem.boundary):
        return "periodic conditions are not implemented in the finite elements; use fd, mol or spectral"
    return None


def weak_form_reason(problem: Problem) -> str | None:
    """Why the finite elements cannot read the problem's equation, or None (evaluated at a few points)."""
    reason = mesh_reason(problem)
    if reason is not None:
        return reason
    lower, upper = problem.domain.bounds
    points = lower + (upper - lower) * np.linspace(0.3, 0.7, 4)[:, None]
    function = problem.rhs if problem.is_evolution else problem.residual
    t = problem.time[0] if problem.is_evolution else None
    u = np.linspace(0.2, 0.4, 4)
    try:
        linearise(function, u, [u + 0.1 * k for k in range(problem.dim)], torch_coords(points.T, t), problem.p)
    except NotApplicableError as error:
        return str(error)
    return None


def newton_stats(system: WeakSystem, result: Any) -> dict[str, Any]:
    return {
        "n": system.n,
        "order": system.order,
        "elements": int(system.mesh.t.shape[1]),
        "dofs": int(system.basis.N),
        "unknowns": int(len(system.free)),
        "iterations": result.iterations,
        "newton_steps": result.steps,
        "newton_residuals": result.residuals,
        "line_search": result.alphas,
    }


@register
class FiniteElementNewton(Solver):
    """Lagrange finite elements and Newton's method for nonlinear stationary problems."""

    name = "fem_newton"

    @dataclass(frozen=True)
    class Options:
        n: int | None = nodes_option()
        order: int = option(2, "Lagrange element order: 1 or 2")
        refine: int = option(0, "uniform refinements of the initial mesh")
        tol: float = option(1e-10, "Newton stops when its step is below tol (1 + max |u|)")
        maxiter: int = option(50, "Newton's iteration cap")

    @classmethod
    def not_applicable(cls, problem: Problem) -> str | None:
        if problem.is_evolution:
            return "it solves stationary problems; fem_mol integrates evolution problems"
        reason = weak_form_reason(problem)
        if reason is None and FiniteElement.not_applicable(problem) is None:
            return "the problem is linear: fem solves it in one linear solve"
        return reason

    @classmethod
    def compare_variants(cls, problem: Problem) -> list[dict[str, Any]]:
        return [{}, {"refine": 1}]

    def solve(self, problem: Problem) -> MeshSolution:
        self.check(problem)
        config = self.config
        system = build_weak_system(
            problem,
            int(config.order),
            int(self.from_problem("n", problem, default_nodes(problem.dim))),
            int(config.refine),
            default_nodes(problem.dim),
        )
        return MeshSolution(problem, system.basis, *solve_stationary(system, config.tol, int(config.maxiter)))


def solve_stationary(system: WeakSystem, tol: float, maxiter: int) -> tuple[np.ndarray, dict[str, Any]]:
    """The coefficients of ``G(U) = 0`` by Newton from the Dirichlet lift, and the statistics."""
    start = time.perf_counter()
    full = system.dirichlet()
    free = system.free

    def embed(y: np.ndarray) -> np.ndarray:
        values = full.copy()
        values[free] = y
        return values

    def linearised(y: np.ndarray):
        r, J = system.linearise(embed(y))
        return r[free], J[free][:, free]

    sign = system.start_sign(full)
    laplacian = sign * system.stiffness()[free][:, free] if sign else None
    result = newton(
        lambda y: system.residual(embed(y))[free],
        linearised,
        full[free],
        tol=tol,
        maxiter=maxiter,
        first_matrix=None if laplacian is None else (lambda J: laplacian),
    )
    stats = newton_stats(system, result)
    stats["solve_time"] = time.perf_counter() - start
    return embed(result.y), stats
