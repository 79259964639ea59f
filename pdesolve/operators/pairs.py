"""One training pair of a neural operator: the input fields of a family member and its classical solution.

Inputs are what varies over the problem's family, sampled on the data grid: for a stationary problem the
family's grid-valued parameters (the Darcy coefficient ``a``), for an evolution problem the initial condition
``u(x, t0)``. The output is ``u`` on the same grid (at the final time ``t1`` for evolution problems), from a
classical solver: ``direct`` (finite-difference assembly + sparse LU) or any registered solver by name, run
at the data resolution or on a finer grid whose nodes include the data grid's (the FNO paper solves Burgers
on 8192 points and keeps every 8th, Darcy on 421² and keeps every 5th node), then subsampled.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse.linalg as spla

from pdesolve.classical.assembly import assemble, box_grid
from pdesolve.errors import NotApplicableError, PdesolveError
from pdesolve.problem import Coords, Grid, GridFunction, Problem
from pdesolve.solvers.available import SOLVER_MODULES
from pdesolve.solvers.base import SOLVERS, Settings, option_fields

INITIAL = "initial"

ClassicalSolve = Callable[[Problem, Grid], np.ndarray]


def family_description(problem: Problem) -> str:
    """A stable text naming the family's samplers and their settings (stored with data and models)."""
    if problem.family is None:
        return ""
    return "; ".join(f"{name}={sampler!r}" for name, sampler in sorted(problem.family.samplers.items()))


def input_names(problem: Problem) -> list[str]:
    """Names of the input channels: ``initial`` for evolution problems, else the family's field parameters."""
    if problem.family is None:
        raise NotApplicableError(f"problem {problem.name!r} has no family= of inputs to learn an operator over")
    if problem.is_evolution:
        return [INITIAL]
    member = problem.sample(0)
    names = sorted(name for name in problem.family.samplers if isinstance(member.params[name], GridFunction))
    if not names:
        raise NotApplicableError(
            f"problem {problem.name!r}: its family samples no field (GaussianRandomField, Thresholded) to use as input"
        )
    return names


def data_grid(problem: Problem, resolution: int) -> Grid:
    """``resolution`` nodes per axis on the problem's box (periodic axes leave out the right end)."""
    if problem.dim not in (1, 2, 3) or resolution < 4:
        raise PdesolveError(f"a data grid needs a 1D-3D box problem and at least 4 nodes per axis (got {resolution})")
    return box_grid(problem, resolution)


def solve_stride(problem: Problem, resolution: int, solve_resolution: int) -> tuple[int, ...]:
    """Per axis, the step between data-grid nodes on the solve grid (periodic: ``N / n``, else ``(N-1)/(n-1)``)."""
    fine, coarse = data_grid(problem, solve_resolution), data_grid(problem, resolution)
    strides = []
    for periodic, big, small in zip(coarse.periodic, fine.shape, coarse.shape):
        cells, kept = (big, small) if periodic else (big - 1, small - 1)
        if cells % kept:
            raise PdesolveError(
                f"the data grid ({resolution} nodes per axis) is not a subset of the solve grid "
                f"({solve_resolution}): {'n' if periodic else 'n - 1'} must divide evenly"
            )
        strides.append(cells // kept)
    return tuple(strides)


def input_channels(problem: Problem, member: Problem, grid: Grid) -> np.ndarray:
    """The inputs of one family member on ``grid``, shape (channels, *grid.shape)."""
    x = Coords(grid.coordinates(), t=None)
    channels = []
    for name in input_names(problem):
        if name == INITIAL:
            x.t = np.full(grid.shape, member.time[0])
            values = member.initial(x, member.p)
        else:
            values = member.params[name](x)
        channels.append(np.broadcast_to(np.asarray(values, dtype=float), grid.shape))
    return np.stack(channels)


def direct_solve(member: Problem, grid: Grid) -> np.ndarray:
    """Assemble the finite-difference system of a linear stationary member and solve it by sparse LU."""
    system = assemble(member, grid)
    return system.to_grid(spla.spsolve(system.matrix.tocsc(), system.rhs))


def registry_solve(name: str, settings: Settings) -> ClassicalSolve:
    """A registered solver (e.g. ``spectral``) run at the data resolution and read off at the grid nodes."""
    register_solvers()
    if name not in SOLVERS:
        known = ", ".join(sorted(SOLVERS)) or "none"
        raise PdesolveError(f"classical solver {name!r} is not available (registered: {known}; or use 'direct')")
    cls = SOLVERS[name]

    def solve(member: Problem, grid: Grid) -> np.ndarray:
        wanted: dict[str, Any] = {"n": grid.shape[0], "outputs": 1}  # the data resolution; only the final time
        options = {key: value for key, value in wanted.items() if key in option_fields(cls.Options)}
        solver = cls(settings, **options)
        solver.check(member)
        solution = solver.solve(member)
        points = grid.points()
        if member.is_evolution:
            points = np.column_stack([points, np.full(len(points), member.time[1])])
        return np.asarray(solution(points), dtype=float).reshape(grid.shape)

    return solve


def register_solvers() -> None:
    """Import the registered solver modules that exist (some may still be missing from a checkout)."""
    for module in SOLVER_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise


def default_solver(problem: Problem) -> str:
    """``spectral`` for evolution problems, ``direct`` (assembly + sparse LU) for stationary ones."""
    return "spectral" if problem.is_evolution else "direct"


def classical_solver(name: str, settings: Settings) -> ClassicalSolve:
    return direct_solve if name == "direct" else registry_solve(name, settings)
