"""Differential operators written once for every kind of field.

``d(u, "x")``, ``grad(u)``, ``div(v)``, ``laplacian(u)`` dispatch on the field: network fields
differentiate by autograd, grid fields by finite differences or FFT, affine grid fields assemble
sparse matrices. A problem file uses only these.
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


def dot(a: VectorField, b: VectorField) -> Any:
    """Pointwise inner product of two vector fields."""
    return a.dot(b)


def inverse_laplacian(u: Field) -> Field:
    """Mean-free ``ψ`` with ``Δψ = u - mean(u)``: periodic spectral fields only (e.g. stream functions)."""
    if not hasattr(u, "inverse_laplacian"):
        raise NotApplicableError(f"inverse_laplacian needs a periodic spectral grid field, not {type(u).__name__}")
    return u.inverse_laplacian()
