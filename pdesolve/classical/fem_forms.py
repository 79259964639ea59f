"""Recognise the elliptic form ``-∇·(K∇u) + q u = f`` in a problem's own residual.

The residual is evaluated once on a :class:`FormField`, a tracer that stands for the unknown at
given points (the quadrature points of a finite-element basis). Arithmetic keeps it symbolic:
``div(a * grad(u))`` and ``d(a * d(u, "x"), "x")`` record the diffusion coefficient ``a`` per
axis, ``laplacian(u)`` and ``d(u, axis, 2)`` record 1, ``c * u`` a reaction coefficient, and plain
arrays the source. What the finite elements cannot take raises :class:`NotApplicableError`:
products of ``u`` with ``u`` (nonlinear), first derivatives (advection), mixed derivatives.

>>> import numpy as np
>>> from pdesolve.problem import Coords, div, grad
>>> x = Coords([np.array([0.0, 0.5]), np.array([0.5, 1.0])])
>>> form = recognise(lambda u, x, p: -div((1 + x.x) * grad(u)) + 2 * u - x.y, x, None)
>>> form.diffusion[0], form.reaction, form.source
(array([1. , 1.5]), array([2., 2.]), array([0.5, 1. ]))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from pdesolve.errors import NotApplicableError, NotLinearError, ProblemError
from pdesolve.problem.coords import SPACE_NAMES, Coords
from pdesolve.problem.field import Field, VectorField

WHAT_FEM_TAKES = "fem takes -div(a grad u) + c u = f"


class TracedField(Field):
    """A field that traces a residual symbolically: sums and differences through ``_add(other, sign)`` and the
    subclass's negation, spatial derivatives through ``_differentiate(axis index)``; ``off_axis``: the refusal
    of a derivative in any other variable."""

    dim: int
    off_axis = "fem solves stationary problems; the residual differentiates in {axis!r}"

    def _add(self, other: Any, sign: float) -> Self:
        raise NotImplementedError

    def _differentiate(self, k: int) -> Self:
        raise NotImplementedError

    def __add__(self, other: Any) -> Self:
        return self._add(other, 1.0)

    def __radd__(self, other: Any) -> Self:
        return self._add(other, 1.0)

    def __sub__(self, other: Any) -> Self:
        return self._add(other, -1.0)

    def __rsub__(self, other: Any) -> Self:
        return (-self)._add(other, 1.0)

    def derivative(self, axis: str, order: int = 1) -> Self:
        if axis not in SPACE_NAMES[: self.dim]:
            raise NotApplicableError(self.off_axis.format(axis=axis))
        result = self
        for _ in range(order):
            result = result._differentiate(SPACE_NAMES.index(axis))
        return result


class FormField(TracedField):
    """``Σ_k ∂_k(D_k ∂_k u) + Σ_k F_k ∂_k u + R u + S`` with coefficient arrays at fixed points.

    ``diffusion`` (D), ``first`` (F) hold one entry per axis; zeros are the float 0.0.
    """

    def __init__(
        self,
        dim: int,
        reaction: Any = 0.0,
        source: Any = 0.0,
        first: Sequence[Any] | None = None,
        diffusion: Sequence[Any] | None = None,
    ) -> None:
        self.dim = dim
        self.reaction = reaction
        self.source = source
        self.first = list(first) if first is not None else [0.0] * dim
        self.diffusion = list(diffusion) if diffusion is not None else [0.0] * dim

    # --- structure ------------------------------------------------------------------------
    @property
    def values(self) -> Any:  # the Field interface; only a u-free tracer has plain values
        if self.depends_on_u:
            raise NotLinearError("the residual uses the unknown's values where a form was expected")
        return self.source

    @property
    def depends_on_u(self) -> bool:
        return any(_nonzero(c) for c in (self.reaction, *self.first, *self.diffusion))

    def _terms(self) -> list[Any]:
        return [self.reaction, self.source, *self.first, *self.diffusion]

    def _from_terms(self, terms: list[Any]) -> FormField:
        d = self.dim
        return FormField(d, terms[0], terms[1], terms[2 : 2 + d], terms[2 + d :])

    def with_values(self, values: Any) -> FormField:
        return FormField(self.dim, source=values)

    def map(self, function: Callable[[Any], Any]) -> FormField:
        if self.depends_on_u:
            raise NotLinearError(f"the residual applies a nonlinear function to u; {WHAT_FEM_TAKES}")
        return self.with_values(function(self.source))

    # --- arithmetic: linear in u ----------------------------------------------------------
    def _add(self, other: Any, sign: float) -> FormField:
        if isinstance(other, FormField):
            return self._from_terms([a + sign * b for a, b in zip(self._terms(), other._terms())])
        if isinstance(other, Field):
            raise TypeError(f"cannot combine a form tracer with a {type(other).__name__}")
        return FormField(self.dim, self.reaction, self.source + sign * other, self.first, self.diffusion)

    def _scale(self, factor: Any) -> FormField:
        return self._from_terms([factor * term if _nonzero(term) else 0.0 for term in self._terms()])

    def _coefficient(self, other: Any, what: str) -> Any:
        """``other`` as a u-free coefficient, or an error naming the nonlinearity."""
        if isinstance(other, FormField):
            if other.depends_on_u:
                raise NotLinearError(f"the residual {what} u by u: it is not linear; {WHAT_FEM_TAKES}")
            return other.source
        if isinstance(other, Field):
            raise TypeError(f"cannot combine a form tracer with a {type(other).__name__}")
        return other

    def __neg__(self) -> FormField:
        return self._scale(-1.0)

    def __mul__(self, other: Any) -> Any:
        if isinstance(other, VectorField):
            return other * self
        if self.depends_on_u:
            return self._scale(self._coefficient(other, "multiplies"))
        if isinstance(other, FormField):
            return other._scale(self.source)
        return self.with_values(self.source * other)

    def __rmul__(self, other: Any) -> FormField:
        return self * other

    def __truediv__(self, other: Any) -> FormField:
        return self * (1.0 / self._coefficient(other, "divides"))

    def __rtruediv__(self, other: Any) -> FormField:
        if self.depends_on_u:
            raise NotLinearError(f"the residual divides by u: it is not linear; {WHAT_FEM_TAKES}")
        return self.with_values(other / self.source)

    def __pow__(self, exponent: Any) -> FormField:
        if not self.depends_on_u:
            return self.with_values(self.source**exponent)
        if exponent == 1:
            return self
        raise NotLinearError(f"the residual raises u to the power {exponent}: it is not linear; {WHAT_FEM_TAKES}")

    # --- derivatives ----------------------------------------------------------------------
    def _differentiate(self, k: int) -> FormField:
        """∂_k of ``c u`` (constant c) or of ``a ∂_k u`` (the conservative flux, any coefficient a)."""
        others = [self.source, *self.diffusion, *(f for j, f in enumerate(self.first) if j != k)]
        if not self.depends_on_u or any(_nonzero(t) for t in others):
            raise NotApplicableError(
                f"the residual differentiates an expression other than u or a * d(u, axis); {WHAT_FEM_TAKES}"
            )
        if _nonzero(self.first[k]):
            if _nonzero(self.reaction):
                raise NotApplicableError(f"the residual differentiates a sum of u and its derivative; {WHAT_FEM_TAKES}")
            diffusion = [0.0] * self.dim
            diffusion[k] = self.first[k]
            return FormField(self.dim, diffusion=diffusion)
        if np.ndim(self.reaction) > 0 and not np.all(self.reaction == np.ravel(self.reaction)[0]):
            raise NotApplicableError(f"the residual differentiates a variable coefficient times u; {WHAT_FEM_TAKES}")
        first = [0.0] * self.dim
        first[k] = self.reaction
        return FormField(self.dim, first=first)

    def gradient(self) -> VectorField:
        return VectorField([self._differentiate(k) for k in range(self.dim)])

    def divergence_of(self, vector: VectorField) -> FormField:
        total: Any = 0.0
        for k, component in enumerate(vector.components):
            if not isinstance(component, FormField):
                raise NotApplicableError(f"div() of a vector that is not built from u; {WHAT_FEM_TAKES}")
            total = component._differentiate(k) + total
        return total

    def laplacian(self) -> FormField:
        return self.divergence_of(self.gradient())


def _nonzero(term: Any) -> bool:
    return not (np.ndim(term) == 0 and term == 0)


@dataclass
class EllipticForm:
    """``-Σ_k ∂_k(K_k ∂_k u) + q u = f`` at given points, with every ``K_k > 0``."""

    diffusion: list[np.ndarray]
    reaction: np.ndarray
    source: np.ndarray

    @property
    def isotropic(self) -> bool:
        return all(np.allclose(k, self.diffusion[0], rtol=1e-12, atol=0) for k in self.diffusion[1:])


def recognise(residual: Callable[..., Any], x: Coords, params: Any) -> EllipticForm:
    """Evaluate ``residual`` on a tracer at the points ``x`` and read off ``K``, ``q`` and ``f``."""
    shape = np.shape(x[0])
    traced = residual(FormField(x.dim, reaction=1.0), x, params)
    if isinstance(traced, VectorField):
        raise NotApplicableError("the residual is a vector; fem solves one scalar equation")
    if not isinstance(traced, FormField) or not traced.depends_on_u:
        raise NotApplicableError("the residual does not depend on u")
    if any(_nonzero(c) for c in traced.first):
        raise NotApplicableError(
            f"the residual has first derivatives d(u, axis) (advection); {WHAT_FEM_TAKES} (use fd, direct solve)"
        )
    full = [np.broadcast_to(np.asarray(c, dtype=float), shape) for c in traced.diffusion]
    if any(np.all(c == 0) for c in full):
        raise NotApplicableError(f"the residual lacks a second derivative in some axis; {WHAT_FEM_TAKES}")
    if not all(np.all(np.isfinite(c)) for c in full):
        raise ProblemError("the diffusion coefficient is NaN or infinite somewhere: check the problem's parameters")
    # R = Σ ∂(D ∂u) + R u + S = 0 becomes -Σ ∂(K ∂u) + q u = f after multiplying by -sign(D)
    sign = np.sign(full[0].ravel()[0])
    if not all(np.all(sign * c > 0) for c in full):
        raise NotApplicableError("the diffusion coefficient changes sign or vanishes: the equation is not elliptic")
    reaction = np.broadcast_to(np.asarray(traced.reaction, dtype=float), shape)
    source = np.broadcast_to(np.asarray(traced.source, dtype=float), shape)
    return EllipticForm([sign * c for c in full], -sign * reaction, sign * source)
