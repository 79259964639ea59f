"""Finite elements (scikit-fem, Lagrange P1/P2) for ``-∇·(K∇u) + q u = f`` read off the problem's residual.

Weak form on the mesh Ω_h, with Γ_N the Neumann (``∂u/∂n = g``) and Γ_R the Robin
(``α u + β ∂u/∂n = g``) parts of the boundary and ``u`` prescribed on the Dirichlet part:

    ∫ Σ_k K_k ∂_k u ∂_k v + q u v  +  ∫_{Γ_R} K (α/β) u v  =  ∫ f v  +  ∫_{Γ_N} K g v  +  ∫_{Γ_R} K (g/β) v.

``K``, ``q`` and ``f`` come from evaluating the residual on a tracer at the quadrature points
(:mod:`pdesolve.classical.fem_forms`); boundary facets belong to the first condition whose ``on``
mask holds at their midpoint; Dirichlet values are interpolated at the boundary degrees of freedom.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp
import skfem
from skfem import BilinearForm, LinearForm

from pdesolve.classical.fem_forms import EllipticForm, recognise
from pdesolve.classical.fem_meshes import build_mesh
from pdesolve.classical.linear_solvers import solve_linear
from pdesolve.classical.mesh_solution import MeshSolution
from pdesolve.errors import NotApplicableError, ProblemError
from pdesolve.problem import Box, Coords, Dirichlet, Disk, Mesh, Neumann, Periodic, Polygon, Problem, Robin
from pdesolve.problem.conditions import Condition, evaluate_value
from pdesolve.solvers.base import Solver, register

DEFAULT_NODES = 65
AUTO_LINSOLVE = {1: "direct", 2: "direct", 3: "cg"}
ELEMENTS = {
    (1, 1): skfem.ElementLineP1,
    (1, 2): skfem.ElementLineP2,
    (2, 1): skfem.ElementTriP1,
    (2, 2): skfem.ElementTriP2,
    (3, 1): skfem.ElementTetP1,
    (3, 2): skfem.ElementTetP2,
}


@BilinearForm
def _operator(u, v, w):
    return sum(w[f"K{k}"] * u.grad[k] * v.grad[k] for k in range(u.grad.shape[0])) + w.q * u * v


@BilinearForm
def _boundary_mass(u, v, w):
    return w.c * u * v


@LinearForm
def _load(v, w):
    return w.f * v


def _coordinates(basis: skfem.AbstractBasis) -> Coords:
    """The quadrature points of a basis as the ``x`` a problem's functions receive."""
    return Coords(list(basis.global_coordinates().value))


def _is_dirichlet(condition: Condition) -> bool:
    return isinstance(condition, Dirichlet) or (isinstance(condition, Robin) and condition.beta == 0)


def _dirichlet_value(condition: Condition, x: Coords, params: Any) -> np.ndarray:
    if isinstance(condition, Robin):  # β = 0: α u = g
        if condition.alpha == 0:
            raise ProblemError("a Robin condition needs alpha or beta non-zero")
        return np.asarray(evaluate_value(condition.value, x, params), dtype=float) / condition.alpha
    return np.asarray(evaluate_value(condition.value, x, params), dtype=float)


def facet_owners(problem: Problem, mesh: skfem.Mesh) -> tuple[np.ndarray, np.ndarray]:
    """Boundary facets and, for each, the index of the first condition that claims its midpoint."""
    facets = mesh.boundary_facets()
    midpoints = mesh.p[:, mesh.facets[:, facets]].mean(axis=1)
    owner = np.full(len(facets), -1)
    for index, condition in enumerate(problem.boundary):
        todo = np.flatnonzero(owner < 0)
        if not len(todo):
            break
        claimed = np.broadcast_to(condition.applies(Coords(list(midpoints[:, todo]))), todo.shape)
        owner[todo[claimed]] = index
    if np.any(owner < 0):
        raise ProblemError(f"problem {problem.name!r}: {np.sum(owner < 0)} boundary facets have no boundary condition")
    return facets, owner


@register
class FiniteElement(Solver):
    """Lagrange finite elements on triangles / tetrahedra for linear elliptic problems."""

    name = "fem"
    family = "classical"
    summary = "finite elements (scikit-fem P1/P2): -div(K grad u) + q u = f with Dirichlet, Neumann, Robin conditions"
    options: dict[str, Any] = {
        "n": 0,  # nodes across the initial mesh (box: per axis); 0: the problem's default; Mesh files ignore it
        "order": 1,  # 1 or 2
        "refine": 0,  # uniform refinements of the initial mesh
        "linsolve": "auto",  # direct | cg | auto (direct in 1D/2D, cg in 3D)
        "precond": "ic0",
        "tol": 1e-10,
        "maxiter": 0,
    }

    @classmethod
    def not_applicable(cls, problem: Problem) -> str | None:
        if problem.is_evolution:
            return "it solves stationary problems; evolution problems need mol or spectral"
        if not isinstance(problem.domain, (Box, Disk, Polygon, Mesh)):
            return f"no mesh for a {type(problem.domain).__name__} domain"
        if any(isinstance(c, Periodic) for c in problem.boundary):
            return "periodic conditions are not implemented in fem; use fd or spectral"
        lower, upper = problem.domain.bounds
        points = lower + (upper - lower) * np.linspace(0.3, 0.7, 4)[:, None]
        try:
            form = recognise(problem.residual, Coords(list(points.T)), problem.p)
        except NotApplicableError as error:
            return str(error)
        natural = [c for c in problem.boundary if not _is_dirichlet(c)]
        if natural and not form.isotropic:
            return "Neumann and Robin conditions need an isotropic diffusion coefficient"
        return None

    @classmethod
    def compare_variants(cls, problem: Problem) -> list[dict[str, Any]]:
        """The default mesh refined once more (in 3D: a box mesh of half the resolution, to stay within seconds)."""
        if problem.dim == 3 and isinstance(problem.domain, Box):
            n = int(problem.defaults.get("n", DEFAULT_NODES))
            return [{"n": (n + 1) // 2}, {}]
        return [{}, {"refine": 1}]

    def solve(self, problem: Problem) -> MeshSolution:
        self.check(problem)
        order = int(self.config["order"])
        if order not in (1, 2):
            raise NotApplicableError(f"order={order}: fem has P1 and P2 elements")
        n = int(self.config["n"] or problem.defaults.get("n", DEFAULT_NODES))
        start = time.perf_counter()
        mesh = build_mesh(problem.domain, n, int(self.config["refine"]))
        basis = skfem.Basis(mesh, ELEMENTS[(mesh.dim(), order)]())
        form = recognise(problem.residual, _coordinates(basis), problem.p)
        coefficients = {f"K{k}": K for k, K in enumerate(form.diffusion)}
        matrix = skfem.asm(_operator, basis, q=form.reaction, **coefficients)
        load = skfem.asm(_load, basis, f=form.source)
        matrix, load, values, fixed = self._boundary(problem, basis, matrix, load)
        free = np.setdiff1d(np.arange(basis.N), fixed)
        system = matrix[free][:, free].tocsr()
        rhs = load[free] - matrix[free][:, fixed] @ values[fixed]
        assembly_time = time.perf_counter() - start
        method = self.config["linsolve"]
        if method == "auto":
            method = AUTO_LINSOLVE[mesh.dim()]
        result = solve_linear(system, rhs, method, self.config["precond"], self.config["tol"], self.config["maxiter"])
        values[free] = result.x
        stats = {
            "n": n,
            "order": order,
            "elements": int(mesh.t.shape[1]),
            "dofs": int(basis.N),
            "unknowns": int(len(free)),
            "linsolve": method,
            "precond": self.config["precond"] if method == "cg" else None,
            "assembly_time": assembly_time,
            **result.stats(),
        }
        return MeshSolution(problem, basis, values, stats)

    @staticmethod
    def _boundary(
        problem: Problem, basis: skfem.CellBasis, matrix: sp.spmatrix, load: np.ndarray
    ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
        """Add the Neumann and Robin terms; Dirichlet values and their degrees of freedom."""
        mesh, element = basis.mesh, basis.elem
        facets, owner = facet_owners(problem, mesh)
        values = np.zeros(basis.N)
        fixed = np.zeros(basis.N, dtype=bool)
        for index, condition in enumerate(problem.boundary):
            mine = facets[owner == index]
            if not len(mine):
                continue
            if _is_dirichlet(condition):
                dofs = basis.get_dofs(facets=mine).all()
                dofs = dofs[~fixed[dofs]]  # an earlier condition keeps shared corners
                x = Coords(list(basis.doflocs[:, dofs]))
                values[dofs] = np.broadcast_to(_dirichlet_value(condition, x, problem.p), dofs.shape)
                fixed[dofs] = True
                continue
            facet_basis = skfem.FacetBasis(mesh, element, facets=mine)
            x = _coordinates(facet_basis)
            diffusion = _boundary_diffusion(recognise(problem.residual, x, problem.p))
            if isinstance(condition, Neumann):
                flux = evaluate_value(condition.flux, x, problem.p)
                load = load + skfem.asm(_load, facet_basis, f=_full(diffusion * flux, x))
            else:
                robin_value = evaluate_value(condition.value, x, problem.p)
                matrix = matrix + skfem.asm(
                    _boundary_mass, facet_basis, c=_full(diffusion * condition.alpha / condition.beta, x)
                )
                load = load + skfem.asm(_load, facet_basis, f=_full(diffusion * robin_value / condition.beta, x))
        return sp.csr_matrix(matrix), load, values, np.flatnonzero(fixed)


def _boundary_diffusion(form: EllipticForm) -> np.ndarray:
    if not form.isotropic:
        raise NotApplicableError("Neumann and Robin conditions need an isotropic diffusion coefficient")
    return form.diffusion[0]


def _full(values: Any, x: Coords) -> np.ndarray:
    return np.broadcast_to(np.asarray(values, dtype=float), np.shape(x[0])).copy()
