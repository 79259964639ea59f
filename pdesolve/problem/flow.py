"""Incompressible Navier–Stokes in velocity–pressure form, written once for the problem files.

Steady: ``(w·∇)w + ∇p − ν Δw = 0, ∇·w = 0`` (:func:`navier_stokes`); evolution: ``∂w/∂t = −(w·∇)w − ∇p + ν Δw``
(:func:`navier_stokes_rhs`) with ``∇·w = 0`` as the pressure's algebraic row (:func:`continuity`). ``U`` is a
system's :class:`~pdesolve.problem.Unknowns` with a velocity and a pressure ``p``.
"""

from __future__ import annotations

from typing import Any

from pdesolve.problem.operators import convective, div, grad, laplacian


def navier_stokes(U: Any, nu: float) -> dict[str, Any]:
    """The steady equations' rows: momentum (one per component) and continuity."""
    w = U.velocity
    return {"momentum": convective(w) + grad(U.p) - nu * laplacian(w), "continuity": div(w)}


def navier_stokes_rhs(U: Any, nu: float) -> Any:
    """``∂w/∂t``: ``−(w·∇)w − ∇p + ν Δw``."""
    w = U.velocity
    return -convective(w) - grad(U.p) + nu * laplacian(w)


def continuity(U: Any) -> Any:
    """``∇·w``, the algebraic row that determines the pressure."""
    return div(U.velocity)
