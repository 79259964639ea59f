"""Approximate distance functions (ADFs) to the boundary surfaces of 3D domains, in torch.

Sukumar & Srinivasan (2022), CMAME 389:114333, eqs. 5–8 in 3D: a surface ``f = 0`` (``|∇f| = 1`` on it)
trimmed to where ``t ≥ 0`` has ``φ = sqrt(f² + ((sqrt(t² + f⁴) − t)/2)²)``, zero exactly on the trimmed
surface. Here:

- a box's face: ``f`` the signed distance to its plane, trimmed to the rectangle by the R-conjunction of its
  two strips ``((L/2)² − (u − u_mid)²)/L``;
- a ball's sphere: ``f = (r² − |x − c|²)/(2r)``;
- in a constructive domain, a surface bounds the domain only where the rest of the Boolean formula lets its
  primitive decide: where ``F₁ ∧ ¬F₀`` (``F₁``, ``F₀``: the formula with that primitive set to all space and to
  nothing; ``F₀ ∧ ¬F₁`` for a subtracted primitive). The formula is written with R-functions (``a ∧ b =
  a + b − sqrt(a² + b²)``, ``a ∨ b = a + b + sqrt(a² + b²)``, ``¬a = −a``; Rvachev's R₀ system) of the other
  primitives' smooth inside-positive functions (a ball ``(r² − |x − c|²)/(2r)``, a box the R-conjunction of
  its slabs ``(x_k − a_k)(b_k − x_k)/(b_k − a_k)``) and conjoined to the face's own trim; a sphere the formula
  leaves whole is not trimmed (``±f``, positive on the domain's side).

The trimmed surfaces join by the R-equivalence ``1/φ = Σ_i 1/φ_i``: zero exactly on the chosen surfaces
(where they bound the domain), positive elsewhere inside, normalised to first order.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from pdesolve.problem import surfaces as sf
from pdesolve.problem.distance import Distance, _trimmed
from pdesolve.problem.domains import Ball, Domain


def _and(a, b):
    if a is False or b is False:
        return False
    if a is True or b is True:
        return b if a is True else a
    tiny = torch.finfo(a.dtype).tiny  # keeps the square root differentiable where both vanish
    return a + b - torch.sqrt((a**2 + b**2).clamp_min(tiny))


def _not(a):
    return (not a) if isinstance(a, bool) else -a


def _or(a, b):
    return _not(_and(_not(a), _not(b)))


def _join(symbol: str, a, b):
    if symbol == "|":
        return _or(a, b)
    return _and(a, b if symbol == "&" else _not(b))


def _primitive(domain: Domain, points: torch.Tensor) -> torch.Tensor:
    """A smooth function of ``points``, positive inside the box or ball, zero on its boundary."""
    if isinstance(domain, Ball):
        squared = sum((points[:, k] - domain.center[k]) ** 2 for k in range(3))
        return (domain.radius**2 - squared) / (2 * domain.radius)
    out = True
    for k, (a, b) in enumerate(zip(domain.lower, domain.upper)):
        out = _and(out, (points[:, k] - a) * (b - points[:, k]) / (b - a))
    return out


def _polarity(domain: Domain, index: int) -> int:
    """+1 when primitive ``index`` enters the formula as it is, −1 when subtracted (an odd number of times)."""
    values = [1 if k == index else 0 for k in range(len(domain.primitives))]
    return domain.formula(values, lambda symbol, a, b: a or (-b if symbol == "-" else b))


def _surface(surface: sf.Surface, points: torch.Tensor) -> tuple[torch.Tensor, object]:
    """``f`` of the surface and its own trim (the rectangle of a face; True for a sphere)."""
    if isinstance(surface, sf.Sphere):
        return _primitive(Ball(surface.center, surface.radius), points), True
    trim = True
    for k, lo, hi in zip(surface.others, surface.lower, surface.upper):
        length = hi - lo
        trim = _and(trim, ((length / 2) ** 2 - (points[:, k] - (lo + hi) / 2) ** 2) / length)
    return points[:, surface.axis] - surface.value, trim


def surfaces_distance(domain: Domain, chosen: frozenset[int]) -> Distance:
    """``1/φ = Σ_i 1/φ_i`` over the surfaces ``chosen`` (indices into ``domain.surfaces()``), each trimmed to where
    it bounds the domain (a box or a ball alone: its own surfaces, untrimmed by any formula)."""
    surfaces = domain.surfaces()
    primitives = getattr(domain, "primitives", [domain])
    owners = [
        next(j for j, p in enumerate(primitives) if any(replace(s, sign=own.sign) == own for s in p.surfaces()))
        for own in surfaces
    ]
    polarity = [_polarity(domain, j) if len(primitives) > 1 else 1 for j in range(len(primitives))]
    picked = sorted(chosen)

    def phi(points: torch.Tensor) -> torch.Tensor:
        others = [_primitive(p, points) for p in primitives]
        inverse = torch.zeros_like(points[:, 0])
        for i in picked:
            surface, j = surfaces[i], owners[i]
            f, trim = _surface(surface, points)
            if len(primitives) > 1:
                inside = domain.formula([True if k == j else v for k, v in enumerate(others)], _join)
                outside = domain.formula([False if k == j else v for k, v in enumerate(others)], _join)
                if polarity[j] < 0:
                    inside, outside = outside, inside
                trim = _and(trim, _and(inside, _not(outside)))
            if trim is False:  # nowhere on the boundary
                continue
            if trim is True:  # a whole sphere: ±f, positive on the domain's side
                inverse = inverse + 1 / (surface.sign * f)
            else:
                inverse = inverse + 1 / _trimmed(f, trim)
        return 1 / inverse

    return phi
