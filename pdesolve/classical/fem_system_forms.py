"""Linearise a system's residual at a state: the forms Newton's method assembles, read off the problem.

Each unknown is replaced by a :class:`LinearTracer` that carries, at the quadrature points, the value
of an expression at the current state ``U0`` and its derivative with respect to the unknowns: one
coefficient per (unknown, derivative) term, ``R(U0 + δU) ≈ R(U0) + Σ c_{j,α} ∂^α δU_j``. Sums and
products follow the product rule, so any polynomial in the unknowns and their first derivatives
(the convection ``(w·∇)w`` of Navier–Stokes, reactions) linearises exactly; ``sin(u)`` and friends
linearise by a complex step. Differentiation needs an expression that is linear in the unknowns with
constant coefficients (``laplacian(w)``, ``div(strain(w))``, ``grad(p)``), up to second order.

Second derivatives (and first derivatives of unknowns that are never differentiated twice, such as
a pressure) are integrated by parts in the weak form, so they must enter the residual linearly with
constant coefficients; anything else is refused with one line by :class:`NotApplicableError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pdesolve.classical.fem_forms import TracedField
from pdesolve.errors import NotApplicableError
from pdesolve.problem.field import Field, VectorField

Key = tuple[int, tuple[int, ...]]  # (unknown index, derivative counts per axis)
WHAT_FEM_TAKES = (
    "fem takes systems whose equations are polynomials (or smooth functions) of the unknowns and their first "
    "derivatives, plus second derivatives (and pressure gradients) with constant coefficients"
)
COMPLEX_STEP = 1e-30


def _is_constant(term: Any) -> bool:
    return np.ndim(term) == 0


class LinearTracer(TracedField):
    """An expression at fixed points: ``value`` at the state and ``linear`` (its derivative per term).

    ``jets`` maps every (unknown, derivative up to order 1) to the state's values; second derivatives
    count as 0 there (they reach the weak form only through integration by parts). ``affine`` marks an
    expression ``Σ c ∂^α U_j + constant`` with constant ``c``: the ones that may be differentiated.
    """

    off_axis = "fem solves stationary systems; the residual differentiates in {axis!r}"

    def __init__(self, value: Any, linear: dict[Key, Any], jets: dict[Key, Any], affine: bool) -> None:
        self.value = value
        self.linear = linear
        self.jets = jets
        self.affine = affine

    @classmethod
    def unknown(cls, index: int, dim: int, jets: dict[Key, Any]) -> LinearTracer:
        key = (index, (0,) * dim)
        return cls(jets[key], {key: 1.0}, jets, True)

    @property
    def dim(self) -> int:
        return len(next(iter(self.jets))[1])

    @property
    def depends_on_u(self) -> bool:
        return bool(self.linear)

    @property
    def second_order(self) -> bool:
        return any(sum(alpha) == 2 for _, alpha in self.linear)

    @property
    def values(self) -> Any:  # the Field interface; what numpy-side code sees
        return self.value

    def with_values(self, values: Any) -> LinearTracer:
        return LinearTracer(values, {}, self.jets, _is_constant(values))

    def _coerce(self, other: Any) -> LinearTracer:
        if isinstance(other, LinearTracer):
            return other
        if isinstance(other, Field):
            raise TypeError(f"cannot combine a form tracer with a {type(other).__name__}")
        return self.with_values(other)

    def _linear_only(self, what: str) -> None:
        if self.second_order:
            raise NotApplicableError(f"the residual {what} a second derivative; {WHAT_FEM_TAKES}")

    # --- arithmetic -----------------------------------------------------------------------
    def _add(self, other: Any, sign: float) -> LinearTracer:
        other = self._coerce(other)
        linear = dict(self.linear)
        for key, c in other.linear.items():
            linear[key] = linear.get(key, 0.0) + sign * c
        return LinearTracer(self.value + sign * other.value, linear, self.jets, self.affine and other.affine)

    def __neg__(self) -> LinearTracer:
        return LinearTracer(-self.value, {k: -c for k, c in self.linear.items()}, self.jets, self.affine)

    def __mul__(self, other: Any) -> Any:
        if isinstance(other, VectorField):
            return other * self
        other = self._coerce(other)
        for a, b in ((self, other), (other, self)):
            if a.second_order and not (b.affine and not b.depends_on_u and _is_constant(b.value)):
                raise NotApplicableError(
                    f"the residual multiplies a second derivative by a variable or by the unknowns; {WHAT_FEM_TAKES}"
                )
        linear = {k: other.value * c for k, c in self.linear.items()}
        for key, c in other.linear.items():
            linear[key] = linear.get(key, 0.0) + self.value * c
        constant = (
            not self.depends_on_u and _is_constant(self.value) or not other.depends_on_u and _is_constant(other.value)
        )
        return LinearTracer(self.value * other.value, linear, self.jets, self.affine and other.affine and constant)

    def __rmul__(self, other: Any) -> LinearTracer:
        return self * other

    def __truediv__(self, other: Any) -> LinearTracer:
        other = self._coerce(other)
        return self * other.map(lambda v: 1.0 / v)

    def __rtruediv__(self, other: Any) -> LinearTracer:
        return self._coerce(other) * self.map(lambda v: 1.0 / v)

    def __pow__(self, exponent: Any) -> LinearTracer:
        if exponent == 1:
            return self
        return self.map(lambda v: v**exponent)

    def map(self, function: Callable[[Any], Any]) -> LinearTracer:
        """``f(expression)``, linearised by the complex step ``f'(a) = Im f(a + ih) / h``."""
        if not self.depends_on_u:
            return self.with_values(function(self.value))
        self._linear_only("applies a function to")
        shifted = function(np.asarray(self.value, dtype=complex) + 1j * COMPLEX_STEP)
        if not np.iscomplexobj(shifted):
            raise NotApplicableError(
                f"a function of the unknowns in the residual does not take complex steps; {WHAT_FEM_TAKES}"
            )
        slope = np.imag(shifted) / COMPLEX_STEP
        linear = {k: slope * c for k, c in self.linear.items()}
        return LinearTracer(np.real(shifted), linear, self.jets, False)

    # --- derivatives ----------------------------------------------------------------------
    def _differentiate(self, k: int) -> LinearTracer:
        if not self.affine:
            raise NotApplicableError(
                "the residual differentiates a product or a variable coefficient; " + WHAT_FEM_TAKES
            )
        linear: dict[Key, Any] = {}
        value: Any = 0.0
        for (j, alpha), c in self.linear.items():
            shifted = tuple(a + (i == k) for i, a in enumerate(alpha))
            if sum(shifted) > 2:
                raise NotApplicableError(f"the residual has derivatives of order 3 or more; {WHAT_FEM_TAKES}")
            linear[(j, shifted)] = linear.get((j, shifted), 0.0) + c
            value = value + c * self.jets.get((j, shifted), 0.0)
        return LinearTracer(value, linear, self.jets, True)

    def gradient(self) -> VectorField:
        return VectorField([self._differentiate(k) for k in range(self.dim)])

    def divergence_of(self, vector: VectorField) -> LinearTracer:
        total: Any = 0.0
        for k, component in enumerate(vector.components):
            total = self._coerce(component)._differentiate(k) + total
        return total


def jets_of(states: list[tuple[np.ndarray, np.ndarray]]) -> dict[Key, Any]:
    """The state's values and first derivatives per unknown from (values, gradients) at quadrature points."""
    jets: dict[Key, Any] = {}
    for j, (value, gradient) in enumerate(states):
        dim = len(gradient)
        jets[(j, (0,) * dim)] = value
        for k in range(dim):
            jets[(j, tuple(int(i == k) for i in range(dim)))] = gradient[k]
    return jets
