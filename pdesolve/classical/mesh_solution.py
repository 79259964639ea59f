"""Finite-element solutions: a scikit-fem basis and its coefficient vector, evaluable anywhere.

Points inside the mesh get the finite-element interpolant. Points outside it (e.g. between a curved
boundary and its polygonal mesh, or round-off off an edge) get the value at the point of the nearest
element found by clamping their reference coordinates into that element: a continuous, constant-
across-the-boundary extension, never NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import skfem
from scipy.spatial import cKDTree

from pdesolve.problem import Coords, Problem
from pdesolve.solvers.solution import Solution

# curved quadratic triangles are written by their vertices (straight-sided)
CELL_TYPES = {skfem.MeshLine1: "line", skfem.MeshTri1: "triangle", skfem.MeshTri2: "triangle", skfem.MeshTet1: "tetra"}


def locate(basis: skfem.CellBasis, points: np.ndarray, candidates: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Element index and (clamped) reference coordinates of each point, shape (N,) and (dim, N).

    Among the elements with the nearest centroids, pick the one whose reference coordinates lie
    least outside the reference simplex ``{X >= 0, ΣX <= 1}``.
    """
    mesh, mapping = basis.mesh, basis.mapping
    if not mesh.affine:  # curved (isoparametric) elements: start from their straight-sided cells
        cells, reference = locate(skfem.Basis(skfem.MeshTri1(mesh.p, mesh.t), skfem.ElementTriP1()), points)
        return cells, _clamped(_newton_inverse(mapping, points, cells, reference))
    centroids = mesh.p[:, mesh.t].mean(axis=1).T
    k = min(candidates, mesh.t.shape[1])
    _, nearest = cKDTree(centroids).query(points, k=k)
    nearest = nearest.reshape(len(points), k)
    best = np.full(len(points), np.inf)
    cells = nearest[:, 0].copy()
    reference = np.zeros((mesh.dim(), len(points)))
    for j in range(k):
        X = mapping.invF(points.T[:, :, None], tind=nearest[:, j])[:, :, 0]
        outside = np.maximum(np.maximum(-X.min(axis=0), X.sum(axis=0) - 1.0), 0.0)
        better = outside < best
        best[better], cells[better], reference[:, better] = outside[better], nearest[better, j], X[:, better]
    return cells, _clamped(reference)


def _clamped(reference: np.ndarray) -> np.ndarray:
    """Reference coordinates moved into the reference simplex."""
    reference = np.maximum(reference, 0.0)
    total = reference.sum(axis=0)
    reference[:, total > 1] /= total[total > 1]
    return reference


def _newton_inverse(mapping: Any, points: np.ndarray, cells: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Reference coordinates of ``points`` in the curved ``cells`` by Newton's method from ``start``."""
    X = start[:, :, None].copy()
    for _ in range(20):
        step = np.einsum("ijkl,jkl->ikl", mapping.invDF(X, cells), points.T[:, :, None] - mapping.F(X, cells))
        X += step
        if np.max(np.abs(step)) < 1e-13:
            break
    return X[:, :, 0]


def probes(basis: skfem.CellBasis, points: np.ndarray) -> sp.csr_matrix:
    """Sparse ``P`` with ``P @ u`` the values of the finite-element function ``u`` at ``points`` (N, dim)."""
    cells, reference = locate(basis, points)
    values = np.array(
        [
            basis.elem.gbasis(basis.mapping, reference[:, :, None], i, tind=cells)[0].value[:, 0]
            for i in range(basis.Nbfun)
        ]
    )
    rows = np.tile(np.arange(len(points)), basis.Nbfun)
    columns = basis.element_dofs[:, cells].ravel()
    return sp.coo_matrix((values.ravel(), (rows, columns)), shape=(len(points), basis.N)).tocsr()


def vertex_snapshot(
    mesh: skfem.Mesh, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray]]]:
    """A mesh solution's final snapshot: the mesh's vertices, ``values`` there and its cells."""
    return mesh.p[:, : mesh.nvertices].T, values, [(CELL_TYPES[type(mesh)], mesh.t.T)]


class MeshSolution(Solution):
    """A stationary finite-element solution ``u`` on ``basis``."""

    def __init__(
        self, problem: Problem, basis: skfem.CellBasis, coefficients: np.ndarray, stats: dict[str, Any] | None = None
    ) -> None:
        super().__init__(problem, stats)
        self.basis = basis
        self.coefficients = np.asarray(coefficients, dtype=float)

    @property
    def mesh(self) -> skfem.Mesh:
        return self.basis.mesh

    def __call__(self, points: np.ndarray) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, dtype=float))[:, : self.mesh.dim()]
        return probes(self.basis, points) @ self.coefficients

    def l2_error(self, exact: Any, coefficients: np.ndarray | None = None, t: float | None = None) -> float:
        """``‖u_h − exact‖_{L²}`` by quadrature of order 6; ``exact(x, p)`` with ``x.t = t`` for a level at ``t``."""
        basis = skfem.Basis(self.mesh, self.basis.elem, intorder=6)
        values = self.coefficients if coefficients is None else coefficients

        @skfem.Functional
        def squared(w):
            x = Coords(list(w.x), t=None if t is None else np.full(np.shape(w.x[0]), float(t)))
            return (w.uh - exact(x, self.problem.p)) ** 2

        return float(np.sqrt(squared.assemble(basis, uh=basis.interpolate(values))))

    def vertex_values(self) -> np.ndarray:
        """The solution at the mesh vertices (the first nodal degree of freedom of each vertex)."""
        return self.coefficients[self.basis.nodal_dofs[0]]

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "points": self.mesh.p[:, : self.mesh.nvertices].T,
            "cells": self.mesh.t.T,
            "u": self.vertex_values(),
            "dof_points": self.basis.doflocs.T,
            "u_dofs": self.coefficients,
        }

    def final_snapshot(self) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray]]]:
        return vertex_snapshot(self.mesh, self.vertex_values())


class MeshSystemSolution(Solution):
    """A stationary finite-element solution of a system: one (basis, coefficients) per unknown.

    ``reaction(on)``, when given, returns the force on a boundary part and how it was computed
    (:func:`pdesolve.classical.fem_system.boundary_force`); derived quantities use it as
    ``solution.boundary_force``.
    """

    def __init__(
        self,
        problem: Problem,
        fields: list[tuple[skfem.CellBasis, np.ndarray]],
        stats: dict[str, Any] | None = None,
        reaction: Callable[[Any], tuple[np.ndarray, str]] | None = None,
    ) -> None:
        super().__init__(problem, stats)
        self.fields = [(basis, np.asarray(c, dtype=float)) for basis, c in fields]
        self.boundary_force = reaction

    @property
    def mesh(self) -> skfem.Mesh:
        return self.fields[0][0].mesh

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Values of shape (N, unknowns)."""
        points = np.atleast_2d(np.asarray(points, dtype=float))[:, : self.mesh.dim()]
        return np.column_stack([probes(basis, points) @ c for basis, c in self.fields])

    def vertex_values(self) -> np.ndarray:
        return np.column_stack([c[basis.nodal_dofs[0]] for basis, c in self.fields])

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"points": self.mesh.p[:, : self.mesh.nvertices].T, "cells": self.mesh.t.T}
        for name, (basis, c), values in zip(self.problem.unknowns, self.fields, self.vertex_values().T):
            out[name] = values
            out[f"{name}_dof_points"] = basis.doflocs.T
            out[f"{name}_dofs"] = c
        return out

    def final_snapshot(self) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray]]]:
        return vertex_snapshot(self.mesh, self.vertex_values())


class MeshEvolution(MeshSolution):
    """Finite-element levels ``coefficients[k]`` at ``times[k]``, linear in time between them."""

    def __init__(
        self,
        problem: Problem,
        basis: skfem.CellBasis,
        times: np.ndarray,
        coefficients: np.ndarray,
        stats: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(problem, basis, coefficients, stats)
        self.times = np.asarray(times, dtype=float)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, dtype=float))
        dim = self.mesh.dim()
        at_levels = probes(self.basis, points[:, :dim]) @ self.coefficients.T  # (points, levels)
        t = np.clip(points[:, dim], self.times[0], self.times[-1])
        upper = np.clip(np.searchsorted(self.times, t), 1, len(self.times) - 1)
        lower = upper - 1
        weight = (t - self.times[lower]) / (self.times[upper] - self.times[lower])
        rows = np.arange(len(points))
        return (1 - weight) * at_levels[rows, lower] + weight * at_levels[rows, upper]

    def level_error(self, exact: Any, level: int = -1) -> float:
        """``‖u_h − exact‖_{L²}`` at ``times[level]``."""
        return self.l2_error(exact, self.coefficients[level], float(self.times[level]))

    def vertex_values(self) -> np.ndarray:
        """The final level at the mesh vertices."""
        return self.coefficients[-1, self.basis.nodal_dofs[0]]

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "points": self.mesh.p[:, : self.mesh.nvertices].T,
            "cells": self.mesh.t.T,
            "t": self.times,
            "u": self.coefficients[:, self.basis.nodal_dofs[0]],
            "dof_points": self.basis.doflocs.T,
            "u_dofs": self.coefficients,
        }
