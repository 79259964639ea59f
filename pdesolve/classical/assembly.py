"""Sparse linear systems of linear stationary problems on finite-difference grids.

The residual is evaluated once on the affine field ``u = E v + g`` (``v`` the unknown nodes, ``E``
their extension to the grid, ``g`` the Dirichlet values), giving ``R = A v + b`` and the system
``A v = -b`` without a second definition of the operator. Grid nodes are unknowns when they and
all their neighbours lie in the (closed) domain: exact on boxes and on polygons whose corners are
grid nodes (the L-shape), a staircase otherwise.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from pdesolve.errors import NotApplicableError, ProblemError
from pdesolve.problem import Coords, Dirichlet, Grid, GridField, Periodic, Problem
from pdesolve.problem.affine import AffineMap
from pdesolve.problem.conditions import evaluate_value
from pdesolve.problem.field import VectorField


@dataclass
class LinearSystem:
    """``matrix @ v = rhs`` for the unknown nodes ``v`` of ``grid`` (mask ``unknown``, C order)."""

    matrix: sp.csr_matrix
    rhs: np.ndarray
    grid: Grid
    unknown: np.ndarray
    boundary_values: np.ndarray

    def to_grid(self, vector: np.ndarray) -> np.ndarray:
        """Put the solved unknowns and the Dirichlet values together on the grid."""
        full = self.boundary_values.ravel().copy()
        full[self.unknown.ravel()] = vector
        return full.reshape(self.grid.shape)


def box_grid(problem: Problem, n: int, method: str = "fd") -> Grid:
    """``n`` nodes per axis on the bounding box; periodic axes per the problem's conditions."""
    lower, upper = problem.domain.bounds
    return Grid(tuple(lower), tuple(upper), (n,) * problem.dim, problem.periodic_axes, method)


def unknown_mask(problem: Problem, grid: Grid) -> np.ndarray:
    """Nodes inside the domain whose neighbours, diagonal ones included, are all inside too.

    The diagonal neighbours keep a re-entrant corner (the L-shape's (0, 0)) a boundary node: its
    axis neighbours all lie on the closed domain's edges.
    """
    inside = problem.domain.inside(grid.points()).reshape(grid.shape)
    mask = inside.copy()
    for offset in itertools.product((-1, 0, 1), repeat=grid.dim):
        neighbour = np.roll(inside, offset, axis=tuple(range(grid.dim)))
        for k, shift in enumerate(offset):
            if shift and not grid.periodic[k]:  # nothing beyond a non-periodic end
                edge = [slice(None)] * grid.dim
                edge[k] = 0 if shift == 1 else -1
                neighbour[tuple(edge)] = False
        mask &= neighbour
    return mask


def dirichlet_values(problem: Problem, grid: Grid, boundary: np.ndarray, t: float | None = None) -> np.ndarray:
    """Values of the Dirichlet conditions on the ``boundary`` nodes (zeros elsewhere), at time ``t`` if given."""
    values = np.zeros(grid.size)
    todo = boundary.ravel().copy()
    points = grid.points()
    for condition in problem.boundary:
        if isinstance(condition, Periodic):
            continue
        if not isinstance(condition, Dirichlet):
            raise NotApplicableError(
                f"finite differences take Dirichlet and periodic conditions; {type(condition).__name__} needs fem"
            )
        if not todo.any():
            break
        x = Coords(list(points[todo].T), t=None if t is None else np.full(todo.sum(), float(t)))
        chosen = condition.applies(x)
        index = np.flatnonzero(todo)[chosen]
        values[index] = np.broadcast_to(evaluate_value(condition.value, x, problem.p), (todo.sum(),))[chosen]
        todo[index] = False
    if todo.any():
        raise ProblemError(f"problem {problem.name!r}: {todo.sum()} boundary nodes have no boundary condition")
    return values.reshape(grid.shape)


def assemble(problem: Problem, grid: Grid) -> LinearSystem:
    """The finite-difference system of a linear stationary problem."""
    if problem.residual is None:
        raise NotApplicableError("only stationary problems (residual=) assemble into one linear system")
    unknown = unknown_mask(problem, grid)
    if not unknown.any():
        raise ProblemError(f"problem {problem.name!r}: the grid {grid.shape} has no interior nodes")
    g = dirichlet_values(problem, grid, ~unknown)
    columns = np.flatnonzero(unknown.ravel())
    extension = sp.csr_matrix(
        (np.ones(len(columns)), (columns, np.arange(len(columns)))), shape=(grid.size, len(columns))
    )
    u = GridField(AffineMap(extension, g.ravel()), grid)
    residual = problem.residual(u, Coords(grid.coordinates()), problem.p)
    if isinstance(residual, VectorField) or not isinstance(residual, GridField):
        raise ProblemError(f"problem {problem.name!r}: the residual must be a scalar expression in u")
    values = residual.at_nodes().values
    if not isinstance(values, AffineMap):
        raise ProblemError(f"problem {problem.name!r}: the residual does not depend on u")
    matrix = values.matrix[columns].tocsr()
    matrix.eliminate_zeros()
    rhs = -values.offset[columns]
    check_finite_system(problem, matrix, rhs, grid.points()[columns])
    return LinearSystem(matrix, rhs, grid, unknown, g)


def check_finite_system(problem: Problem, matrix: sp.csr_matrix, rhs: np.ndarray, points: np.ndarray) -> None:
    """Refuse a system with NaN/inf entries (a coefficient or source that is not finite somewhere), naming
    the first such point (``points[i]`` is where row ``i`` lives), before it is mistaken for a singular matrix."""
    bad_entries = ~np.isfinite(matrix.data)
    bad = ~np.isfinite(rhs)
    if bad_entries.any():
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        bad[rows[bad_entries]] = True
    if bad.any():
        first = np.round(points[np.flatnonzero(bad)[0]], 6).tolist()
        raise ProblemError(
            f"problem {problem.name!r}: a coefficient or source of the residual is NaN or infinite at {bad.sum()} "
            f"of {len(bad)} unknowns (the first at x = {first}); check the problem's parameters and functions"
        )
