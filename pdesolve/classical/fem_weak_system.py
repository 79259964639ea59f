"""The weak form of ``R(u) = c(x, t, u, ∇u) + ∇·F(x, t, u, ∇u)`` on a finite-element basis, and its Jacobian.

With ``c`` and ``F`` read off the problem's residual (or right-hand side) by
:mod:`pdesolve.classical.fem_weak`, the Galerkin functional for every test function ``v`` is

    G(u)[v] = ∫_Ω c v − F·∇v dx  +  ∫_{Γ_N ∪ Γ_R} (F·n) v ds,

and on the Neumann (``∂u/∂n = g``) and Robin (``α u + β ∂u/∂n = g``) parts the flux is evaluated
with the normal derivative the condition prescribes (``∇u − (∇u·n) n + h n``, ``h = g`` or
``(g − α u) / β``). A stationary problem solves ``G(u) = 0``; an evolution problem is
``M u' = G(u, t)`` with the mass matrix ``M``. The Jacobian ``∂G/∂u`` is assembled from the pointwise
derivatives of ``c`` and ``F`` in ``u`` and ``∇u`` (torch autograd at the quadrature points).
Dirichlet conditions (possibly time-dependent) are interpolated at the boundary degrees of freedom.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import skfem
import torch
from skfem import BilinearForm

from pdesolve.classical.fem_assembly import ELEMENTS, dirichlet_value, facet_owners, is_dirichlet
from pdesolve.classical.fem_meshes import build_mesh
from pdesolve.classical.fem_weak import Linearised, linearise, torch_coords
from pdesolve.errors import NotApplicableError
from pdesolve.problem import Coords, Neumann, Problem
from pdesolve.problem.conditions import Condition, evaluate_value


def _shape_functions(basis: skfem.AbstractBasis) -> np.ndarray:
    """Values and gradients of the basis functions at the quadrature points, shape (1 + dim, Nbfun, E, Q)."""
    return np.stack([np.concatenate([phi[0].value[None], phi[0].grad]) for phi in basis.basis], axis=1)


def assemble_vector(basis: skfem.AbstractBasis, weights: list[Any]) -> np.ndarray:
    """``Σ_s ∫ w_s ψ_s(v)`` for every basis function ``v``, with ``ψ = (v, ∂_1 v, ...)``; zero weights skipped."""
    shapes = _shape_functions(basis)
    local = sum(np.einsum("ieq,eq->ie", shapes[s], w * basis.dx) for s, w in enumerate(weights) if _nonzero(w))
    local = np.broadcast_to(local, basis.element_dofs.shape)
    return np.bincount(basis.element_dofs.ravel(), np.ravel(local), minlength=basis.N)


def assemble_matrix(basis: skfem.AbstractBasis, weights: list[list[Any]]) -> sp.csr_matrix:
    """``Σ_{s,m} ∫ w_{s,m} ψ_m(u) ψ_s(v)`` for all pairs of basis functions (vectorised over the elements)."""
    shapes = _shape_functions(basis)
    local = 0.0
    for s, row in enumerate(weights):
        trial = sum(w * shapes[m] for m, w in enumerate(row) if _nonzero(w))
        if _nonzero(trial):
            local = local + np.einsum("ieq,jeq->ije", shapes[s] * basis.dx, trial)
    dofs = basis.element_dofs
    rows = np.broadcast_to(dofs[:, None, :], (len(dofs), len(dofs), dofs.shape[1]))
    columns = np.broadcast_to(dofs[None, :, :], rows.shape)
    local = np.broadcast_to(local, rows.shape)
    return sp.csr_matrix((local.ravel(), (rows.ravel(), columns.ravel())), shape=(basis.N, basis.N))


@BilinearForm
def _mass(u, v, w):
    return u * v


@BilinearForm
def _stiffness(u, v, w):
    return sum(u.grad[k] * v.grad[k] for k in range(u.grad.shape[0]))


@dataclass
class _Natural:
    """A Neumann or Robin condition on its facets."""

    condition: Condition
    basis: skfem.FacetBasis


class WeakSystem:
    """``G(U, t)``, ``∂G/∂U`` and the mass matrix of a problem on a P``order`` basis of its mesh."""

    def __init__(self, problem: Problem, order: int, n: int, refine: int = 0) -> None:
        if order not in (1, 2):
            raise NotApplicableError(f"order={order}: fem has P1 and P2 elements")
        self.problem = problem
        self.function = problem.rhs if problem.is_evolution else problem.residual
        mesh = build_mesh(problem.domain, n, refine, order)
        self.basis = skfem.Basis(mesh, ELEMENTS[(mesh.dim(), order)]())
        self.order, self.n = order, n
        facets, owner = facet_owners(problem, mesh)
        self.natural: list[_Natural] = []
        self.essential: list[tuple[Condition, np.ndarray]] = []
        fixed = np.zeros(self.basis.N, dtype=bool)
        for index, condition in enumerate(problem.boundary):
            mine = facets[owner == index]
            if not len(mine):
                continue
            if is_dirichlet(condition):
                dofs = self.basis.get_dofs(facets=mine).all()
                dofs = dofs[~fixed[dofs]]  # an earlier condition keeps shared corners
                fixed[dofs] = True
                self.essential.append((condition, dofs))
            else:
                self.natural.append(_Natural(condition, skfem.FacetBasis(mesh, self.basis.elem, facets=mine)))
        self.fixed = np.flatnonzero(fixed)
        self.free = np.flatnonzero(~fixed)

    @property
    def mesh(self) -> skfem.Mesh:
        return self.basis.mesh

    def _time(self, t: float | None, like: np.ndarray) -> np.ndarray | None:
        return None if t is None else np.full(np.shape(like), float(t))

    def dirichlet(self, t: float | None = None) -> np.ndarray:
        """A vector holding the Dirichlet values at time ``t`` (zeros at the free degrees of freedom)."""
        values = np.zeros(self.basis.N)
        for condition, dofs in self.essential:
            points = self.basis.doflocs[:, dofs]
            x = Coords(list(points), t=self._time(t, points[0]))
            values[dofs] = np.broadcast_to(dirichlet_value(condition, x, self.problem.p), dofs.shape)
        return values

    def initial(self) -> np.ndarray:
        """The initial condition interpolated at the degrees of freedom, Dirichlet values at ``t0`` imposed."""
        t0 = self.problem.time[0]
        points = self.basis.doflocs
        x = Coords(list(points), t=self._time(t0, points[0]))
        values = np.broadcast_to(np.asarray(self.problem.initial(x, self.problem.p), dtype=float), points[0].shape)
        values = values.copy()
        values[self.fixed] = self.dirichlet(t0)[self.fixed]
        return values

    def _pointwise(
        self, basis: skfem.AbstractBasis, U: np.ndarray, t: float | None, jacobian: bool, gradient_map: Any = None
    ) -> Linearised:
        field = basis.interpolate(U)
        x = torch_coords(basis.global_coordinates().value, t)
        return linearise(self.function, field.value, field.grad, x, self.problem.p, jacobian, gradient_map)

    def residual(self, U: np.ndarray, t: float | None = None) -> np.ndarray:
        """``G(U, t)`` tested against every basis function."""
        return self._assemble(U, t, jacobian=False)[0]

    def linearise(self, U: np.ndarray, t: float | None = None) -> tuple[np.ndarray, sp.csr_matrix]:
        """``(G(U, t), ∂G/∂U)``."""
        return self._assemble(U, t, jacobian=True)

    def _assemble(self, U: np.ndarray, t: float | None, jacobian: bool) -> tuple[np.ndarray, Any]:
        form = self._pointwise(self.basis, U, t, jacobian)
        vector = assemble_vector(self.basis, [form.pointwise, *(-F for F in form.flux)])
        matrix = None
        if jacobian:
            matrix = assemble_matrix(self.basis, [form.d_pointwise, *([-d for d in row] for row in form.d_flux)])
        for natural in self.natural:
            b, db = self._normal_flux(natural, U, t, jacobian)
            vector = vector + assemble_vector(natural.basis, [b])
            if jacobian:
                matrix = matrix + assemble_matrix(natural.basis, [db])
        return vector, matrix

    def _normal_flux(
        self, natural: _Natural, U: np.ndarray, t: float | None, jacobian: bool
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """``F·n`` with the prescribed normal derivative, and its derivatives in u and ∇u."""
        basis, condition = natural.basis, natural.condition
        normals = [torch.tensor(np.ravel(n), dtype=torch.float64) for n in basis.normals]
        x_numpy = basis.global_coordinates().value
        x = torch_coords(x_numpy, t)
        if isinstance(condition, Neumann):
            prescribed = evaluate_value(condition.flux, x, self.problem.p)
        else:
            prescribed = evaluate_value(condition.value, x, self.problem.p)

        def with_normal_derivative(u: torch.Tensor, grads: list[torch.Tensor]) -> list[torch.Tensor]:
            g = torch.as_tensor(prescribed, dtype=torch.float64)
            h = g if isinstance(condition, Neumann) else (g - condition.alpha * u) / condition.beta
            normal = sum(gk * nk for gk, nk in zip(grads, normals))
            return [gk + (h - normal) * nk for gk, nk in zip(grads, normals)]

        form = self._pointwise(basis, U, t, jacobian, with_normal_derivative)
        shape = np.shape(x_numpy[0])
        n = [np.reshape(nk.numpy(), shape) for nk in normals]
        b = sum(Fk * nk for Fk, nk in zip(form.flux, n))
        db = [] if not jacobian else [sum(form.d_flux[k][j] * n[k] for k in range(len(n))) for j in range(len(n) + 1)]
        return b, db

    def mass(self) -> sp.csr_matrix:
        return sp.csr_matrix(skfem.asm(_mass, self.basis))

    def stiffness(self) -> sp.csr_matrix:
        return sp.csr_matrix(skfem.asm(_stiffness, self.basis))

    def start_sign(self, U: np.ndarray, t: float | None = None) -> float:
        """0 when the diffusion ``∂F_k/∂(∂_k u)`` is finite and non-zero everywhere at ``U``; else the sign
        of a Laplacian to take the Jacobian's place in a first step (``+1`` for a residual written
        ``-Δu + ...``; e.g. a p-Laplacian at ∇u = 0)."""
        form = self._pointwise(self.basis, U, t, jacobian=True)
        diagonal = np.concatenate([np.ravel(form.d_flux[k][k + 1]) for k in range(len(form.flux))])
        scale = max(1.0, float(np.max(np.abs(diagonal), where=np.isfinite(diagonal), initial=0.0)))
        if np.all(np.isfinite(diagonal)) and np.min(np.abs(diagonal)) > 1e-12 * scale:
            return 0.0
        return -1.0 if np.sum(diagonal[np.isfinite(diagonal)]) > 0 else 1.0


def _nonzero(values: Any) -> bool:
    return bool(np.any(values != 0))


def build_weak_system(problem: Problem, order: int, n: int, refine: int, default_nodes: int) -> WeakSystem:
    """A :class:`WeakSystem` with ``n`` nodes across (0: the problem's ``n`` default, else ``default_nodes``)."""
    return WeakSystem(problem, order, int(n or problem.defaults.get("n", default_nodes)), refine)
