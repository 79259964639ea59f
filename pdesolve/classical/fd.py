"""Finite differences for linear stationary problems: assemble ``A u = b`` on a grid, solve it sparsely.

The matrix comes from the problem's own residual (:func:`pdesolve.classical.assembly.assemble`):
second-order central / compact conservative stencils, Dirichlet and periodic conditions, boxes and
polygons whose edges follow the grid lines (the L-shape with odd ``n``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from pdesolve.classical.assembly import assemble, box_grid
from pdesolve.classical.footprint import check_fd
from pdesolve.classical.linear_solvers import LINSOLVE_HELP, METHODS, PRECOND_HELP, linear_method, solve_assembled
from pdesolve.errors import NotApplicableError, ProblemError
from pdesolve.linalg.registry import names
from pdesolve.problem import Box, Dirichlet, Periodic, Polygon, Problem
from pdesolve.solvers.base import Solver, option, problem_default, register
from pdesolve.solvers.solution import GridSolution

DEFAULT_NODES = 65


def nodes_per_axis(problem: Problem, n: int | None) -> int:
    """The option ``n``, or the problem's default when it is None."""
    return int(problem_default(n, problem, FiniteDifference.name, "n", DEFAULT_NODES))


def grid_domain_refusal(problem: Problem) -> str | None:
    """Why a finite-difference grid does not fit the problem's domain (None: a box or a grid-aligned polygon)."""
    if not isinstance(problem.domain, (Box, Polygon)):
        return f"a {type(problem.domain).__name__} domain has a curved or unstructured boundary; use fem"
    if isinstance(problem.domain, Polygon) and not _grid_aligned(problem.domain):
        return "the polygon has slanted edges, which a grid only staircases; use fem"
    return None


def _grid_aligned(polygon: Polygon) -> bool:
    """Every edge is horizontal or vertical (corners on grid nodes then make the domain exact)."""
    vertices = np.array(polygon.vertices)
    edges = np.roll(vertices, -1, axis=0) - vertices
    return bool(np.all(np.min(np.abs(edges), axis=1) == 0))


def _check_corners(problem: Problem, n: int) -> None:
    """Polygon corners must be grid nodes, else the boundary becomes a first-order staircase."""
    if not isinstance(problem.domain, Polygon):
        return
    lower, upper = problem.domain.bounds
    steps = (np.array(problem.domain.vertices) - lower) / (upper - lower) * (n - 1)
    if not np.allclose(steps, np.round(steps), atol=1e-9):
        raise NotApplicableError(
            f"with n={n} the corners of the polygon are not grid nodes; pick n so that (n - 1) times each "
            "corner's relative position is a whole number (e.g. odd n for the L-shape), or use fem"
        )


@register
class FiniteDifference(Solver):
    """Second-order finite differences on a uniform grid; direct or preconditioned CG solves."""

    name = "fd"

    @dataclass(frozen=True)
    class Options:
        n: int | None = option(None, "nodes per axis (None: the problem's default)")
        linsolve: str = option("auto", LINSOLVE_HELP, choices=("auto", *METHODS))
        precond: str = option("ic0", PRECOND_HELP, choices=names("host"))
        tol: float = option(1e-10, "cg: relative residual to stop at", positive=True)
        maxiter: int = option(0, "cg: iteration cap (0: max(1000, unknowns))")

    @classmethod
    def not_applicable(cls, problem: Problem) -> str | None:
        if problem.is_evolution:
            return "it solves stationary problems; evolution problems need mol or spectral"
        refusal = grid_domain_refusal(problem)
        if refusal:
            return refusal
        for condition in problem.boundary:
            if not isinstance(condition, (Dirichlet, Periodic)):
                return (
                    "finite differences here take Dirichlet and periodic conditions; "
                    f"{type(condition).__name__} needs fem"
                )
        try:  # linearity shows on a tiny grid
            assemble(problem, box_grid(problem, 9))
        except NotApplicableError as error:
            return str(error)
        except ProblemError:  # e.g. no interior node on the tiny grid: solve() will tell
            return None
        return None

    @classmethod
    def compare_variants(cls, problem: Problem) -> list[dict[str, Any]]:
        """The default grid and one with half the spacing (in 3D: twice the spacing, to stay within seconds)."""
        n = nodes_per_axis(problem, None)
        if problem.dim == 3:
            return [{"n": (n + 1) // 2}, {"n": n}]
        return [{"n": n}, {"n": 2 * n - 1}]

    def solve(self, problem: Problem) -> GridSolution:
        self.check(problem)
        n = nodes_per_axis(problem, self.config.n)
        if n < 3:
            raise ProblemError(f"fd needs n >= 3 nodes per axis (one interior node at least), got n={n}")
        _check_corners(problem, n)
        method = linear_method(self.config.linsolve, problem.dim, self.settings.device)
        check_fd(n, problem.dim, method)
        start = time.perf_counter()
        system = assemble(problem, box_grid(problem, n))
        x, solve_stats = solve_assembled(
            system.matrix, system.rhs, method, self.config, self.settings.device, time.perf_counter() - start
        )
        stats = {"n": n, "unknowns": int(system.matrix.shape[0]), "nonzeros": int(system.matrix.nnz), **solve_stats}
        return GridSolution(problem, system.grid, system.to_grid(x), stats=stats)
