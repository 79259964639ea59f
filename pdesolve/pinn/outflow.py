"""The do-nothing outflow of a flow system as a soft loss term for networks.

``Outflow`` is the natural condition of the weak form of ``−ν Δw + ∇p + ...`` (Heywood, Rannacher & Turek
1996): the traction ``ν ∂w/∂n − p n`` vanishes. A network takes it as the residual of every velocity
component at the outflow points (an evolution system's at every time). The viscosity is read off the residual
itself (an evolution system's ``−rhs``), the way the finite-element path reads its forms: the x-momentum
residual of ``w = (y²/2, 0, ...)``, ``p = 0`` less that of ``w = 0`` is the Laplacian's coefficient (``−ν`` for
``−ν Δw``), that of ``p = x`` the pressure gradient's, so ``ν = −(Laplacian coefficient) / (pressure-gradient
coefficient)`` whatever the scaling of the equations.
"""

from __future__ import annotations

import torch

from pdesolve.errors import NotApplicableError
from pdesolve.problem import Coords, NetworkField, Problem, Unknowns
from pdesolve.problem.coords import SPACE_NAMES
from pdesolve.problem.systems import equation_list, evolution_residual, vector_names

PROBE = ((0.31, 0.27), (0.62, 0.43), (0.17, 0.78))


def _rows(problem: Problem, velocity_x, pressure) -> torch.Tensor:
    """The residual's rows at three probe points for ``u = velocity_x(x, y)``, ``p = pressure(x, y)``, others 0."""
    lower, upper = (torch.as_tensor(b, dtype=torch.float64) for b in problem.domain.bounds)
    points = lower + torch.tensor(PROBE, dtype=torch.float64)[:, : problem.dim] * (upper - lower)
    coords = {name: points[:, k].clone().requires_grad_(True) for k, name in enumerate(SPACE_NAMES[: problem.dim])}
    x, y = coords["x"], coords["y"]
    names = vector_names(problem.unknowns, problem.dim)
    values = {name: 0 * x for name in problem.unknowns}
    values[names[0]] = velocity_x(x, y)
    values["p"] = pressure(x, y)
    fields = Unknowns({name: NetworkField(v, coords) for name, v in values.items()}, problem.dim)
    if problem.is_evolution:  # the rows −rhs (then the constraints): the stationary form of the momentum
        residual, t = evolution_residual(problem.rhs, problem.constraints), torch.full_like(x, problem.time[0])
    else:
        residual, t = problem.residual, None
    rows = equation_list(residual(fields, Coords(list(coords.values()), t=t), problem.p))
    return torch.stack([torch.as_tensor(getattr(r, "values", r), dtype=torch.float64).expand(len(x)) for r in rows])


def viscosity(problem: Problem) -> float:
    """``ν`` of a flow residual ``(w·∇)w + ∇p − ν Δw (= f)``; NotApplicableError where it is not of that form."""
    if vector_names(problem.unknowns, problem.dim) is None or "p" not in problem.unknowns:
        raise NotApplicableError("Outflow needs a flow system with unknowns (u, v[, w]) and p")
    base = _rows(problem, lambda x, y: 0 * x, lambda x, y: 0 * x)
    laplacian = (_rows(problem, lambda x, y: y**2 / 2, lambda x, y: 0 * x) - base).detach()
    gradient = (_rows(problem, lambda x, y: 0 * x, lambda x, y: x) - base).detach()
    row = int(torch.argmax(gradient.abs().amax(dim=1)))
    lap, grad = laplacian[row], gradient[row]
    if not (torch.allclose(lap, lap[0]) and torch.allclose(grad, grad[0])) or float(grad[0]) == 0.0:
        raise NotApplicableError("Outflow: the momentum equation is not of the form (w·∇)w + ∇p − ν Δw = f")
    nu = -float(lap[0]) / float(grad[0])
    if nu <= 0:
        raise NotApplicableError(f"Outflow: the residual's viscosity is {nu:g}, not positive")
    return nu


def traction(u: Unknowns, problem: Problem, nu: float, normals: torch.Tensor) -> list[torch.Tensor]:
    """``ν ∂w_k/∂n − p n_k`` per velocity component k at the points of the fields ``u``."""
    names = vector_names(problem.unknowns, problem.dim)
    axes = SPACE_NAMES[: problem.dim]
    out = []
    for k, name in enumerate(names):
        normal = sum(u[name].derivative(axis).values * normals[:, j] for j, axis in enumerate(axes))
        out.append(nu * normal - u["p"].values * normals[:, k])
    return out
