"""Finite-element systems (scikit-fem, Lagrange P1/P2) of ``-∇·(K∇u) + q u = f`` read off a problem's residual.

Weak form on the mesh Ω_h, with Γ_N the Neumann (``∂u/∂n = g``) and Γ_R the Robin
(``α u + β ∂u/∂n = g``) parts of the boundary and ``u`` prescribed on the Dirichlet part:

    ∫ Σ_k K_k ∂_k u ∂_k v + q u v  +  ∫_{Γ_R} K (α/β) u v  =  ∫ f v  +  ∫_{Γ_N} K g v  +  ∫_{Γ_R} K (g/β) v.

``K``, ``q`` and ``f`` come from evaluating the residual on a tracer at the quadrature points
(:mod:`pdesolve.classical.fem_forms`); boundary facets belong to the first condition whose ``on``
mask holds at their midpoint; Dirichlet values are interpolated at the boundary degrees of freedom and
eliminated, so :func:`assemble_fem` returns the system of the free degrees of freedom only (symmetric,
and positive definite for ``K > 0``, ``q ≥ 0``, ``α/β ≥ 0``): any linear solver can take it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import skfem
from skfem import BilinearForm, LinearForm

from pdesolve.classical.assembly import check_finite_system
from pdesolve.classical.fem_forms import EllipticForm, recognise
from pdesolve.classical.fem_meshes import build_mesh, default_nodes
from pdesolve.errors import NotApplicableError, ProblemError
from pdesolve.problem import Coords, Dirichlet, Neumann, Problem, Robin
from pdesolve.problem.conditions import Condition, evaluate_value

ELEMENTS = {
    (1, 1): skfem.ElementLineP1,
    (1, 2): skfem.ElementLineP2,
    (2, 1): skfem.ElementTriP1,
    (2, 2): skfem.ElementTriP2,
    (3, 1): skfem.ElementTetP1,
    (3, 2): skfem.ElementTetP2,
}


@dataclass
class FemSystem:
    """``matrix @ v = rhs`` for the free degrees of freedom ``free`` of ``basis`` (CSR, free × free).

    ``values`` holds every degree of freedom: the Dirichlet values, zeros at the free ones until
    :meth:`to_dofs` puts a solution in.
    """

    matrix: sp.csr_matrix
    rhs: np.ndarray
    basis: skfem.CellBasis
    free: np.ndarray
    values: np.ndarray
    n: int
    order: int

    @property
    def mesh(self) -> skfem.Mesh:
        return self.basis.mesh

    def to_dofs(self, vector: np.ndarray) -> np.ndarray:
        """All degrees of freedom: the solved free ones and the Dirichlet values."""
        full = self.values.copy()
        full[self.free] = vector
        return full


def assemble_fem(problem: Problem, order: int = 1, n: int = 0, refine: int = 0) -> FemSystem:
    """The P``order`` system of a linear stationary problem on its mesh (``n`` nodes across, 0: the problem's
    default; ``refine`` uniform refinements), Dirichlet degrees of freedom eliminated.

    >>> system = assemble_fem(problem, order=1, refine=1)          # doctest: +SKIP
    >>> values = system.to_dofs(spsolve(system.matrix, system.rhs))  # doctest: +SKIP
    """
    if problem.residual is None:
        raise NotApplicableError("only stationary problems (residual=) assemble into one linear system")
    if order not in (1, 2):
        raise NotApplicableError(f"order={order}: fem has P1 and P2 elements")
    n = int(n or problem.defaults.get("n", default_nodes(problem.dim)))
    mesh = build_mesh(problem.domain, n, int(refine), order)
    basis = skfem.Basis(mesh, ELEMENTS[(mesh.dim(), order)]())
    form = recognise(problem.residual, _coordinates(basis), problem.p)
    coefficients = {f"K{k}": K for k, K in enumerate(form.diffusion)}
    matrix = skfem.asm(_operator, basis, q=form.reaction, **coefficients)
    load = skfem.asm(_load, basis, f=form.source)
    matrix, load, values, fixed = _natural_and_essential(problem, basis, matrix, load)
    free = np.setdiff1d(np.arange(basis.N), fixed)
    system = matrix[free][:, free].tocsr()
    rhs = load[free] - matrix[free][:, fixed] @ values[fixed]
    check_finite_system(problem, system, rhs, basis.doflocs.T[free])
    return FemSystem(system, rhs, basis, free, values, n, order)


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


def is_dirichlet(condition: Condition) -> bool:
    """Dirichlet, or a Robin condition without its derivative term (β = 0): an essential condition."""
    return isinstance(condition, Dirichlet) or (isinstance(condition, Robin) and condition.beta == 0)


def dirichlet_value(condition: Condition, x: Coords, params: Any) -> np.ndarray:
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


def _natural_and_essential(
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
        if is_dirichlet(condition):
            dofs = basis.get_dofs(facets=mine).all()
            dofs = dofs[~fixed[dofs]]  # an earlier condition keeps shared corners
            x = Coords(list(basis.doflocs[:, dofs]))
            values[dofs] = np.broadcast_to(dirichlet_value(condition, x, problem.p), dofs.shape)
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
