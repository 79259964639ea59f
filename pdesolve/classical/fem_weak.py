"""Read a nonlinear residual as ``R(u) = c(x, u, ∇u) + ∇·F(x, u, ∇u)`` at quadrature points.

The residual (or right-hand side) of a problem is evaluated once on a :class:`WeakField`: torch
tensors of ``u`` and ``∇u`` at given points (a finite-element function at its quadrature points).
Pointwise arithmetic (``u**3``, ``exp(u)``, ``u * d(u, "x")``, ``dot(grad(u), grad(u))``) builds the
pointwise part ``c``; a derivative of an expression other than ``u`` itself (``div(q * grad(u))``,
``d(d(u, "x"), "x")``, ``laplacian(u)``, ``d(u**2 / 2, "x")``) becomes a divergence term whose
argument joins the flux ``F``. The forms recognised are therefore

    R(u) = c(x, t, u, ∇u) + Σ_k ∂_k F_k(x, t, u, ∇u),

with divergence terms added, subtracted or scaled by constants only. Refused, with one line: a
derivative of a divergence term (third derivatives), a divergence term multiplied by a variable
coefficient or by ``u``, a nonlinear function of one, time derivatives, vector residuals.
:func:`linearise` returns ``c``, ``F`` and their derivatives in ``u`` and ``∇u`` at every point by
torch autograd (both are pointwise, so one backward pass per output gives all the points).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pdesolve.classical.fem_forms import TracedField
from pdesolve.errors import NotApplicableError
from pdesolve.problem.coords import Coords
from pdesolve.problem.field import Field, VectorField

WHAT_NEWTON_TAKES = "fem reads c(x, u, grad u) + div F(x, u, grad u) with constant factors on divergence terms"


def _is_constant(factor: Any) -> bool:
    return isinstance(factor, (int, float)) or (np.ndim(factor) == 0 and not isinstance(factor, Field))


class WeakField(TracedField):
    """``value + Σ_k ∂_k flux[k]`` at fixed points; ``gradient_values`` is known for the unknown itself only."""

    off_axis = "the residual differentiates in {axis!r}; fem reads spatial derivatives only"

    def __init__(
        self, value: Any, dim: int, flux: list[Any] | None = None, gradient_values: list[Any] | None = None
    ) -> None:
        self.value = value
        self.dim = dim
        self.flux = flux
        self.gradient_values = gradient_values

    @property
    def values(self) -> Any:
        if self.flux is not None:
            raise NotApplicableError(f"the residual uses a divergence term as a value; {WHAT_NEWTON_TAKES}")
        return self.value

    def with_values(self, values: Any) -> WeakField:
        return WeakField(values, self.dim)

    # --- arithmetic -----------------------------------------------------------------------
    def _add(self, other: Any, sign: float) -> WeakField:
        if isinstance(other, VectorField):
            raise NotApplicableError("the residual adds a vector to a scalar")
        if not isinstance(other, WeakField):
            return WeakField(self.value + sign * other, self.dim, self.flux)
        if other.flux is None:
            flux = self.flux
        elif self.flux is None:
            flux = [sign * f for f in other.flux]
        else:
            flux = [a + sign * b for a, b in zip(self.flux, other.flux)]
        return WeakField(self.value + sign * other.value, self.dim, flux)

    def _scale(self, factor: Any) -> WeakField:
        if self.flux is not None and not _is_constant(factor):
            raise NotApplicableError(
                "the residual multiplies a second-derivative term by a variable coefficient; write it inside the "
                f"divergence, div(a * grad(u)); {WHAT_NEWTON_TAKES}"
            )
        return WeakField(self.value * factor, self.dim, None if self.flux is None else [f * factor for f in self.flux])

    def __neg__(self) -> WeakField:
        return self._scale(-1.0)

    def __mul__(self, other: Any) -> Any:
        if isinstance(other, VectorField):
            return other * self
        if isinstance(other, WeakField):
            if other.flux is None:
                return (
                    self._scale(other.value) if self.flux is not None else WeakField(self.value * other.value, self.dim)
                )
            return other._scale(self.values)
        return self._scale(other)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> WeakField:
        return self._scale(1.0 / (other.values if isinstance(other, WeakField) else other))

    def __rtruediv__(self, other: Any) -> WeakField:
        return WeakField(other / self.values, self.dim)

    def __pow__(self, exponent: Any) -> WeakField:
        return WeakField(self.values**exponent, self.dim)

    def map(self, function: Callable[[Any], Any]) -> WeakField:
        return WeakField(function(self.values), self.dim)

    # --- derivatives ----------------------------------------------------------------------
    def _differentiate(self, k: int) -> WeakField:
        """∂_k u pointwise for the unknown; ∂_k q of any pointwise q as a divergence term."""
        if self.gradient_values is not None:
            return WeakField(self.gradient_values[k], self.dim)
        if self.flux is not None:
            raise NotApplicableError(
                f"the residual differentiates a divergence term (third derivative); {WHAT_NEWTON_TAKES}"
            )
        flux: list[Any] = [0.0] * self.dim
        flux[k] = self.value
        return WeakField(0.0, self.dim, flux)

    def gradient(self) -> VectorField:
        return VectorField([self._differentiate(k) for k in range(self.dim)])

    def divergence_of(self, vector: VectorField) -> WeakField:
        total: Any = 0.0
        for k, component in enumerate(vector.components):
            if not isinstance(component, WeakField):
                component = WeakField(component, self.dim)
            total = component._differentiate(k) + total
        return total

    def laplacian(self) -> WeakField:
        return self.divergence_of(self.gradient())


@dataclass
class Linearised:
    """``c`` (``pointwise``), ``F_k`` (``flux[k]``) and, when asked, their derivatives at N points.

    ``d_pointwise[0]`` is ∂c/∂u and ``d_pointwise[1 + j]`` ∂c/∂(∂_j u); ``d_flux[k]`` likewise for ``F_k``.
    """

    pointwise: np.ndarray
    flux: list[np.ndarray]
    d_pointwise: list[np.ndarray] | None = None
    d_flux: list[list[np.ndarray]] | None = None


def evaluate(
    residual: Callable[..., Any], u: torch.Tensor, grads: list[torch.Tensor], x: Coords, params: Any
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``(c, F)`` of ``residual`` for the unknown ``u`` with gradient ``grads`` at the points ``x``."""
    dim = len(grads)
    traced = residual(WeakField(u, dim, gradient_values=list(grads)), x, params)
    if isinstance(traced, VectorField):
        raise NotApplicableError("the residual is a vector; this finite-element path solves one scalar equation")
    if not isinstance(traced, WeakField):
        raise NotApplicableError("the residual does not depend on u")
    flux = traced.flux if traced.flux is not None else [0.0] * dim
    return _full(traced.value, u), [_full(f, u) for f in flux]


def _full(term: Any, like: torch.Tensor) -> torch.Tensor:
    return torch.broadcast_to(torch.as_tensor(term, dtype=like.dtype), like.shape)


def linearise(
    residual: Callable[..., Any],
    u: np.ndarray,
    grads: np.ndarray,
    x: Coords,
    params: Any,
    jacobian: bool = True,
    gradient_map: Callable[..., list[torch.Tensor]] | None = None,
) -> Linearised:
    """``c``, ``F`` (and their derivatives in u, ∇u) at points where the unknown is ``u`` with gradient ``grads``.

    ``gradient_map(u, grads)`` may replace the gradient before the residual sees it (a boundary
    condition fixing the normal derivative); the derivatives then include its chain rule.
    """
    u_t = torch.tensor(np.ravel(u), dtype=torch.float64, requires_grad=jacobian)
    g_t = [torch.tensor(np.ravel(g), dtype=torch.float64, requires_grad=jacobian) for g in grads]
    seen = gradient_map(u_t, g_t) if gradient_map is not None else g_t
    c, F = evaluate(residual, u_t, seen, x, params)
    shape = np.shape(u)
    out = Linearised(_numpy(c, shape), [_numpy(f, shape) for f in F])
    if jacobian:
        inputs = [u_t, *g_t]
        out.d_pointwise = _derivatives(c, inputs, shape)
        out.d_flux = [_derivatives(f, inputs, shape) for f in F]
    return out


def _derivatives(output: torch.Tensor, inputs: list[torch.Tensor], shape: tuple[int, ...]) -> list[np.ndarray]:
    if not output.requires_grad:
        return [np.zeros(shape) for _ in inputs]
    found = torch.autograd.grad(output.sum(), inputs, retain_graph=True, allow_unused=True)
    return [np.zeros(shape) if g is None else g.detach().numpy().reshape(shape) for g in found]


def _numpy(tensor: torch.Tensor, shape: tuple[int, ...]) -> np.ndarray:
    return tensor.detach().numpy().reshape(shape).copy()


def torch_coords(points: np.ndarray, t: float | None) -> Coords:
    """Coordinates (dim, ...) as flat float64 tensors, with a time tensor when ``t`` is given."""
    space = [torch.tensor(np.ravel(p), dtype=torch.float64) for p in points]
    time = None if t is None else torch.full_like(space[0], float(t))
    return Coords(space, t=time)
