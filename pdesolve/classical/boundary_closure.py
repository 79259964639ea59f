"""Boundary values of a finite-difference grid from its interior: Dirichlet, Neumann and Robin conditions.

Every node on a non-periodic end gets one algebraic row from the first condition that claims it:

    Dirichlet            u_b = g
    Robin                α u_b + β ∂u/∂n = g        (Neumann: α = 0, β = 1, g the flux)

with the outward normal derivative by the one-sided second-order difference along the node's normal
axis, ``∂u/∂n ≈ (3 u_b − 4 u_1 + u_2) / 2h`` (``u_1``, ``u_2`` the next nodes inward). The rows form
``B_bb u_b + B_bi u_i = g(t)``; ``B_bb`` is factorised once, so the method of lines integrates the
interior nodes only and the boundary nodes follow them (an index-1 DAE with the algebraic part
eliminated). Edges and corners take the normal of the face whose condition claims them; their inward
neighbours are boundary nodes of the other faces, whose rows lead back to the interior.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from pdesolve.errors import ProblemError
from pdesolve.problem import Coords, Dirichlet, Grid, Neumann, Periodic, Problem, Robin
from pdesolve.problem.conditions import Condition, evaluate_value


def _row_kind(condition: Condition) -> tuple[float, float]:
    """``(α, β)`` of ``α u + β ∂u/∂n = g``."""
    if isinstance(condition, Dirichlet):
        return 1.0, 0.0
    if isinstance(condition, Neumann):
        return 0.0, 1.0
    if isinstance(condition, Robin):
        if condition.alpha == 0 and condition.beta == 0:
            raise ProblemError("a Robin condition needs alpha or beta non-zero")
        return float(condition.alpha), float(condition.beta)
    raise ProblemError(f"no finite-difference boundary row for a {type(condition).__name__} condition")


def _value(condition: Condition):
    return condition.flux if isinstance(condition, Neumann) else condition.value


class BoundaryClosure:
    """Fills the boundary nodes of grid values from the interior nodes and the conditions at time ``t``."""

    def __init__(self, problem: Problem, grid: Grid) -> None:
        self.problem, self.grid = problem, grid
        self.boundary = grid.boundary_mask().ravel()
        self.nodes = np.flatnonzero(self.boundary)
        self.interior = np.flatnonzero(~self.boundary)
        points = grid.points()[self.nodes]
        self.owner = self._owners(points)
        self.points = points
        self.time_dependent = any(callable(_value(problem.boundary[k])) for k in np.unique(self.owner))
        rows = self._rows()
        self._boundary_part = _factorise(rows[:, self.nodes].tocsc(), problem.name)
        self._interior_part = rows[:, self.interior].tocsr()
        self._values: tuple[float | None, np.ndarray] | None = None

    def _owners(self, points: np.ndarray) -> np.ndarray:
        """Index of the first condition claiming each boundary node (periodic ones claim none)."""
        owner = np.full(len(points), -1)
        for index, condition in enumerate(self.problem.boundary):
            todo = np.flatnonzero(owner < 0)
            if isinstance(condition, Periodic) or not len(todo):
                continue
            claimed = np.broadcast_to(condition.applies(Coords(list(points[todo].T))), todo.shape)
            owner[todo[claimed]] = index
        if np.any(owner < 0):
            raise ProblemError(
                f"problem {self.problem.name!r}: {np.sum(owner < 0)} boundary nodes have no boundary condition"
            )
        return owner

    def _rows(self) -> sp.csr_matrix:
        """``B`` of shape (boundary nodes, grid size): one row per boundary node, C-order columns."""
        grid = self.grid
        multi = np.unravel_index(self.nodes, grid.shape)
        owner_grid = np.full(grid.size, -1)
        owner_grid[self.nodes] = self.owner
        owner_grid = owner_grid.reshape(grid.shape)
        rows, cols, vals = [], [], []
        for r, node in enumerate(self.nodes):
            alpha, beta = _row_kind(self.problem.boundary[self.owner[r]])
            index = [int(m[r]) for m in multi]
            coefficients = {node: alpha}
            if beta != 0:
                axis, inward = self._normal(index, owner_grid)
                if grid.shape[axis] < 3:
                    raise ProblemError(f"Neumann and Robin rows need at least 3 nodes along axis {axis}")
                h = grid.spacing[axis]
                for step, weight in enumerate((3.0, -4.0, 1.0)):
                    neighbour = list(index)
                    neighbour[axis] += inward * step
                    column = int(np.ravel_multi_index(neighbour, grid.shape))
                    coefficients[column] = coefficients.get(column, 0.0) + beta * weight / (2 * h)
            for column, value in coefficients.items():
                rows.append(r)
                cols.append(column)
                vals.append(value)
        return sp.csr_matrix((vals, (rows, cols)), shape=(len(self.nodes), grid.size))

    def _normal(self, index: list[int], owner_grid: np.ndarray) -> tuple[int, int]:
        """(axis, inward step) of the face whose condition claims the node.

        On an edge or corner, that is the first end axis whose face continues with the same condition
        (the next node along the face, one step in along another end axis, has the same owner).
        """
        ends = {
            axis: 1 if i == 0 else -1
            for axis, (i, n, periodic) in enumerate(zip(index, self.grid.shape, self.grid.periodic))
            if not periodic and i in (0, n - 1)
        }
        for axis in ends:
            for other, step in ends.items():
                if other != axis:
                    along_face = list(index)
                    along_face[other] += step
                    if owner_grid[tuple(along_face)] == owner_grid[tuple(index)]:
                        return axis, ends[axis]
        first = next(iter(ends))
        return first, ends[first]

    def values(self, t: float | None) -> np.ndarray:
        """``g`` at every boundary node at time ``t`` (evaluated once when no value depends on time)."""
        key = float(t) if self.time_dependent and t is not None else None
        if self._values is None or self._values[0] != key:
            g = np.zeros(len(self.nodes))
            times = None if t is None else np.full(len(self.nodes), float(t))
            for index in np.unique(self.owner):
                mine = self.owner == index
                x = Coords(list(self.points[mine].T), t=None if times is None else times[mine])
                value = evaluate_value(_value(self.problem.boundary[index]), x, self.problem.p)
                g[mine] = np.broadcast_to(np.asarray(value, dtype=float), (int(mine.sum()),))
            self._values = (key, g)
        return self._values[1]

    def fill(self, u: np.ndarray, t: float | None) -> np.ndarray:
        """``u`` (grid shape) with its boundary nodes set from its interior nodes; a new array."""
        flat = np.array(u, dtype=float).ravel()
        if len(self.nodes):
            coupled = self.values(t) - self._interior_part @ flat[self.interior]
            flat[self.nodes] = self._boundary_part.solve(coupled)
        return flat.reshape(self.grid.shape)


def _factorise(matrix: sp.csc_matrix, name: str):
    """Sparse LU of the boundary rows; a one-line error when the conditions do not fix the boundary values."""
    if matrix.shape[0] == 0:
        return None
    try:
        return splu(matrix)
    except RuntimeError:
        raise ProblemError(
            f"problem {name!r}: the boundary rows are singular on this grid (a Robin condition with "
            "α + 3β/2h = 0?); change n"
        ) from None
