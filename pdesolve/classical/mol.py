"""Method of lines: second-order finite differences in space, an implicit stiff integrator in time.

The problem's ``rhs(u, x, p)`` is evaluated on a finite-difference :class:`GridField`. The interior
nodes form the ODE system ``y' = F(y, t)``; the boundary nodes follow them through their conditions
(Dirichlet values, or Neumann / Robin rows with one-sided second-order normal derivatives, possibly
time-dependent: :mod:`pdesolve.classical.boundary_closure`). The system is integrated by scipy's BDF
(variable-order backward differentiation formulas) or Radau IIA with a finite-difference Jacobian
whose sparsity comes from the stencil (:mod:`pdesolve.classical.stencil_sparsity`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.integrate import BDF, Radau

from pdesolve.classical.assembly import box_grid
from pdesolve.classical.boundary_closure import BoundaryClosure
from pdesolve.classical.evolution import check_finite, output_times, time_bar
from pdesolve.classical.footprint import check_time_grid
from pdesolve.classical.spline_solution import SplineGridSolution
from pdesolve.classical.stencil_sparsity import jacobian_sparsity
from pdesolve.errors import DivergenceError, ProblemError
from pdesolve.problem import Box, Coords, Grid, GridField, Periodic, Problem
from pdesolve.problem.field import VectorField
from pdesolve.solvers.base import Solver, option, problem_default, register

DEFAULT_NODES = {1: 2049, 2: 129, 3: 33}
INTEGRATORS = {"BDF": BDF, "Radau": Radau}


class InteriorRHS:
    """``F`` on the interior nodes; the boundary nodes follow from the interior and the conditions at ``t``."""

    def __init__(self, problem: Problem, grid: Grid) -> None:
        self.problem, self.grid = problem, grid
        self.closure = BoundaryClosure(problem, grid)
        self.unknown = ~grid.boundary_mask()
        self.coords = grid.coordinates()
        self.p = problem.p

    def full(self, y: np.ndarray, t: float) -> np.ndarray:
        """Grid values: the unknowns ``y`` inside, the boundary values they imply at time ``t``."""
        u = np.zeros(self.grid.shape)
        u[self.unknown] = y
        return self.closure.fill(u, t)

    def on_grid(self, u: np.ndarray, t: float) -> np.ndarray:
        """``rhs(u, x, p)`` at time ``t`` as an array of the grid's shape."""
        x = Coords(self.coords, t=np.full(self.grid.shape, float(t)))
        with np.errstate(invalid="ignore", divide="ignore"):  # boundary rows are dropped; the interior is checked
            out = self.problem.rhs(GridField(u, self.grid), x, self.p)
        if isinstance(out, VectorField):
            raise ProblemError(f"problem {self.problem.name!r}: rhs must be a scalar expression, not a vector")
        if isinstance(out, GridField):
            out = out.at_nodes().values
        return np.broadcast_to(np.asarray(out, dtype=float), self.grid.shape)

    def __call__(self, t: float, y: np.ndarray) -> np.ndarray:
        return self.on_grid(self.full(y, t), t)[self.unknown]

    def initial(self) -> np.ndarray:
        t0 = self.problem.time[0]
        x = Coords(self.coords, t=np.full(self.grid.shape, float(t0)))
        values = np.broadcast_to(np.asarray(self.problem.initial(x, self.p), dtype=float), self.grid.shape)
        return values[self.unknown]


@register
class MethodOfLines(Solver):
    name = "mol"

    @dataclass(frozen=True)
    class Options:
        n: int | None = option(None, "grid nodes per axis (None: the problem's default)")
        rtol: float = option(1e-8, "relative tolerance of the time integrator", positive=True)
        atol: float = option(1e-10, "absolute tolerance of the time integrator")
        method: str = option("BDF", "implicit integrator of scipy: BDF | Radau", choices=tuple(INTEGRATORS))
        outputs: int = option(
            50, "stored time levels after t0 (a data file's own times when the problem has one)", positive=True
        )

    @classmethod
    def not_applicable(cls, problem: Problem) -> str | None:
        if not problem.is_evolution:
            return "it integrates evolution problems (rhs=); use fd or fem for stationary ones"
        if not isinstance(problem.domain, Box):
            return "uniform finite-difference grids need a box-shaped domain"
        if not problem.is_fully_periodic and len(problem.conditions(Periodic)) == len(problem.boundary):
            return "the non-periodic boundaries need Dirichlet, Neumann or Robin conditions"
        return None

    @classmethod
    def compare_variants(cls, problem: Problem) -> list[dict[str, Any]]:
        n = int(problem_default(None, problem, cls.name, "n", DEFAULT_NODES.get(problem.dim, 33)))
        return [{"n": n // 2 + 1}, {"n": n}]

    def solve(self, problem: Problem) -> SplineGridSolution:
        self.check(problem)
        method = self.config.method
        n = int(self.from_problem("n", problem, DEFAULT_NODES[problem.dim]))
        check_time_grid(self.name, n, problem.dim, self.config.outputs)
        grid = box_grid(problem, n, method="fd")
        rhs = InteriorRHS(problem, grid)
        if not rhs.unknown.any():
            raise ProblemError(f"mol: the grid {grid.shape} of {problem.name!r} has no interior nodes")
        t0, t1 = problem.time
        sparsity = jacobian_sparsity(
            lambda u: rhs.on_grid(rhs.closure.fill(u, t0), t0), grid, rhs.unknown, seed=self.settings.seed
        )
        integrator = INTEGRATORS[method](
            rhs, t0, rhs.initial(), t1, rtol=self.config.rtol, atol=self.config.atol, jac_sparsity=sparsity
        )
        times = output_times(problem, self.config.outputs)
        values, steps = self._integrate(integrator, rhs, times, problem)
        stats = {
            "steps": steps,
            "rhs_evaluations": integrator.nfev,
            "jacobians": integrator.njev,
            "lu_factorizations": integrator.nlu,
            "nodes": n,
            "method": method,
        }
        return SplineGridSolution(problem, grid, values, times, stats=stats, interpolation="cubic")

    def _integrate(
        self, integrator: Any, rhs: InteriorRHS, times: np.ndarray, problem: Problem
    ) -> tuple[np.ndarray, int]:
        """Step to the end, reading the dense output at every output time on the way; (values, steps)."""
        snapshots = [rhs.full(integrator.y, times[0])]
        pending = 1
        steps = 0
        with time_bar(self.settings.progress, problem, self.name) as bar:
            while pending < len(times):
                t_before = integrator.t
                try:
                    message = integrator.step()
                except RuntimeError as error:  # scipy's sparse LU of a Jacobian gone NaN or singular
                    raise DivergenceError(
                        f"mol: {self.config.method} failed at t = {integrator.t:.6g} ({error}); "
                        "check that the boundary "
                        "conditions are well posed (the signs of Robin alpha, beta) or change n"
                    ) from None
                steps += 1
                if integrator.status == "failed":
                    raise DivergenceError(f"mol: {self.config.method} stopped at t = {integrator.t:.6g}: {message}")
                check_finite(bool(np.isfinite(integrator.y).all()), steps, integrator.t, "refine the grid")
                bar.update(integrator.t - t_before)
                dense = integrator.dense_output()
                while pending < len(times) and (times[pending] <= integrator.t or integrator.status == "finished"):
                    snapshots.append(rhs.full(dense(times[pending]), times[pending]))
                    pending += 1
        return np.stack(snapshots), steps
