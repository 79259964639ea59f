"""The network seen at the sample points: values ``u_θ(X)``, the right-hand side ``F(u_θ)(X)`` and Jacobians.

``F`` is the problem's ``rhs(u, x, p)`` evaluated on a :class:`~pdesolve.problem.NetworkField`, so its
derivatives are autograd derivatives of the network with respect to the coordinates. All work is
done in chunks of ``chunk_size`` points (the right-hand side is local in space, so chunking is exact).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from pdesolve.errors import ProblemError
from pdesolve.ngd import FlatModule, directional_derivatives, jacobian_blocks
from pdesolve.problem import Coords, NetworkField, Problem
from pdesolve.problem.coords import SPACE_NAMES
from pdesolve.problem.field import Field
from pdesolve.teng.network import TengNetwork
from pdesolve.teng.structured import JacobianFactors, factor_indices, jacobian_factors, second_directional


class SampledModel:
    """A :class:`FlatModule` network at fixed (or replaceable) sample points ``X`` (N, d)."""

    def __init__(self, fn: FlatModule, problem: Problem, points: torch.Tensor, chunk_size: int) -> None:
        self.fn = fn
        self.problem = problem
        self.points = points
        self.chunk_size = max(1, chunk_size)
        self.params = problem.p
        network = fn.module
        self.structured = isinstance(network, TengNetwork)
        self._indices = factor_indices(network, points.device) if self.structured else None

    @property
    def n_points(self) -> int:
        return self.points.shape[0]

    def chunks(self) -> Iterator[torch.Tensor]:
        for start in range(0, self.n_points, self.chunk_size):
            yield self.points[start : start + self.chunk_size]

    @torch.no_grad()
    def values(self, theta: torch.Tensor) -> torch.Tensor:
        """``u_θ`` at the sample points."""
        return torch.cat([self.fn(theta, chunk) for chunk in self.chunks()])

    def rhs(self, theta: torch.Tensor, t: float) -> torch.Tensor:
        """``F(u_θ)(X)`` from the problem's ``rhs`` with autograd derivatives in the coordinates."""
        theta = theta.detach()
        return torch.cat([self._rhs_chunk(theta, chunk, t) for chunk in self.chunks()])

    def _rhs_chunk(self, theta: torch.Tensor, chunk: torch.Tensor, t: float) -> torch.Tensor:
        names = SPACE_NAMES[: chunk.shape[1]]
        with torch.enable_grad():
            coords = {name: chunk[:, k].clone().requires_grad_(True) for k, name in enumerate(names)}
            u = self.fn(theta, torch.stack(list(coords.values()), dim=1))
            x = Coords(list(coords.values()), t=torch.full_like(chunk[:, 0], t))
            out = self.problem.rhs(NetworkField(u, coords), x, self.params)
        values = out.values if isinstance(out, Field) else out
        if not torch.is_tensor(values):
            values = torch.as_tensor(values, dtype=chunk.dtype, device=chunk.device)
        values = torch.broadcast_to(values, (chunk.shape[0],))
        if values.shape != (chunk.shape[0],):
            raise ProblemError(f"problem {self.problem.name!r}: rhs returns shape {tuple(values.shape)}")
        return values.detach()

    @torch.no_grad()
    def factors(self, theta: torch.Tensor) -> JacobianFactors:
        """The closed-form Jacobian factors and the values at all points (:mod:`pdesolve.teng.structured`)."""
        if not self.structured:
            raise ValueError("structured Jacobians need a TengNetwork")
        params = self.fn.unflatten(theta.detach())
        parts = [jacobian_factors(self.fn.module, params, chunk, self._indices) for chunk in self.chunks()]
        if len(parts) == 1:
            return parts[0]
        cat = [torch.cat([getattr(p, name) for p in parts]) for name in ("left", "right", "values")]
        return JacobianFactors(cat[0], cat[1], *self._indices[:2], cat[2], self._indices[2])

    def directional(self, theta: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(J v, u''[v, v])`` at the sample points (the lift does not depend on θ)."""
        if self.structured:
            params, along = self.fn.unflatten(theta.detach()), self.fn.unflatten(v.detach())
            pairs = [second_directional(self.fn.module, params, along, chunk) for chunk in self.chunks()]
        else:
            pairs = [directional_derivatives(self.fn, theta, v, chunk, with_lift=False) for chunk in self.chunks()]
        return torch.cat([p[0] for p in pairs]), torch.cat([p[1] for p in pairs])

    def jacobian_blocks(self, theta: torch.Tensor, columns: torch.Tensor | None, mode: str) -> Iterator[torch.Tensor]:
        """Rows of ``∂u_θ(X)/∂θ[columns]``, one block per chunk (the lift does not depend on θ)."""
        return jacobian_blocks(self.fn, theta, self.points, columns, self.chunk_size, mode, with_lift=False)
