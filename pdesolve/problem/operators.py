"""Differential operators written once for every kind of field.

``d(u, "x")``, ``grad(u)``, ``div(v)``, ``laplacian(u)`` dispatch on the field: network fields
differentiate by autograd, grid fields by finite differences or FFT, affine grid fields assemble
sparse matrices. A problem file uses only these. On vectors (``U.velocity`` of a system):
``grad(w)`` is the matrix of rows ``∇w_i``, ``div`` of a matrix the vector of row divergences,
``laplacian(w)`` acts per component, ``convective(w)`` is ``(w·∇)w``, ``strain(w)`` is
``ε(w) = (∇w + ∇wᵀ)/2`` and ``curl`` is the 2D scalar curl of a vector or the vector curl of a
stream function.
"""

from __future__ import annotations

from typing import Any

from pdesolve.errors import NotApplicableError
from pdesolve.problem.field import Field, VectorField


def d(u: Field, axis: str, order: int = 1) -> Field:
    """Partial derivative ``∂^order u / ∂axis^order`` (``axis`` is "x", "y", "z" or "t")."""
    return u.derivative(axis, order)


def grad(u: Field) -> VectorField:
    """Spatial gradient ``∇u``."""
    return u.gradient()


def div(v: VectorField) -> Field:
    """Divergence ``∇·v`` of a vector field."""
    return v.divergence()


def laplacian(u: Field) -> Field:
    """``Δu = ∇·∇u`` (the compact 3-, 5- or 7-point stencil on finite-difference grids)."""
    if hasattr(u, "laplacian"):
        return u.laplacian()
    return div(grad(u))


def curl(w: Field | VectorField) -> Any:
    """2D: ``∂v/∂x − ∂u/∂y`` of a vector ``(u, v)``; ``(∂ψ/∂y, −∂ψ/∂x)`` of a stream function ``ψ``."""
    if isinstance(w, VectorField):
        if len(w) != 2:
            raise NotApplicableError(f"curl is implemented in 2D; the vector has {len(w)} components")
        return w[1].derivative("x") - w[0].derivative("y")
    return VectorField([w.derivative("y"), -w.derivative("x")])


def convective(w: VectorField, u: Field | VectorField | None = None) -> Any:
    """The convective derivative ``(w·∇)u`` (``u = w`` when omitted): ``Σ_j w_j ∂u/∂x_j`` per component."""
    u = w if u is None else u
    if isinstance(u, VectorField):
        return VectorField([convective(w, component) for component in u.components])
    return dot(w, grad(u))


def strain(w: VectorField) -> VectorField:
    """The symmetric gradient ``ε(w) = (∇w + ∇wᵀ) / 2`` (a matrix: a vector of rows)."""
    gradient = grad(w)
    return (gradient + gradient.transpose()) * 0.5


def dot(a: VectorField, b: VectorField) -> Any:
    """Pointwise inner product of two vector fields."""
    return a.dot(b)


def inverse_laplacian(u: Field) -> Field:
    """Mean-free ``ψ`` with ``Δψ = u - mean(u)``: periodic spectral fields only (e.g. stream functions)."""
    if not hasattr(u, "inverse_laplacian"):
        raise NotApplicableError(f"inverse_laplacian needs a periodic spectral grid field, not {type(u).__name__}")
    return u.inverse_laplacian()
