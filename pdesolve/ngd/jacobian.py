"""Jacobians of a network output at sample points with respect to its parameters (torch.func).

A network is seen as a function ``f(θ, X) -> (N,)`` of one flat parameter vector ``θ`` and a batch
of points ``X`` (N, d). :class:`FlatModule` turns any ``torch.nn.Module`` into such a function with
``torch.func.functional_call``. :func:`jacobian_blocks` yields the rows ``∂f(θ, x_i)/∂θ`` in chunks
(``vmap`` over points of ``jacrev``, or ``jvp`` along parameter directions for ``mode="fwd"``), so
that no more than ``chunk_size × P`` numbers are held at once; :func:`jacobian` stacks them.

Example::

    fn = FlatModule(net)
    J = jacobian(fn, fn.theta0, points, columns=torch.arange(100))   # (N, 100)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.func import functional_call, jacrev, jvp, vmap

NetworkFunction = Callable[..., torch.Tensor]


class FlatModule:
    """``module`` as ``fn(θ, X, **kwargs)`` of one flat parameter vector (``functional_call``)."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.module = module
        named = list(module.named_parameters())
        self.names = [name for name, _ in named]
        self.shapes = [p.shape for _, p in named]
        self.sizes = [p.numel() for _, p in named]

    @property
    def n_params(self) -> int:
        return sum(self.sizes)

    @property
    def theta0(self) -> torch.Tensor:
        """The module's current parameters as one detached vector."""
        return torch.cat([p.detach().reshape(-1) for p in self.module.parameters()]).clone()

    def unflatten(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        pieces = torch.split(theta, self.sizes)
        return {name: piece.view(shape) for name, piece, shape in zip(self.names, pieces, self.shapes)}

    def __call__(self, theta: torch.Tensor, points: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return functional_call(self.module, self.unflatten(theta), (points,), kwargs)


def rows_per_chunk(n_columns: int, budget_bytes: float, element_size: int = 8, minimum: int = 1) -> int:
    """How many Jacobian rows of ``n_columns`` entries fit in ``budget_bytes``."""
    return max(minimum, int(budget_bytes // max(1, n_columns * element_size)))


def jacobian_blocks(
    fn: NetworkFunction,
    theta: torch.Tensor,
    points: torch.Tensor,
    columns: torch.Tensor | None = None,
    chunk_size: int | None = None,
    mode: str = "rev",
    **kwargs: Any,
) -> Iterator[torch.Tensor]:
    """Blocks of rows of ``J[i, j] = ∂fn(θ, X)[i] / ∂θ[columns[j]]``, ``chunk_size`` points each.

    ``mode="rev"``: per-point reverse mode (``vmap(jacrev)``), cost ∝ N·P, columns picked after;
    ``mode="fwd"``: forward mode along the chosen parameter directions, cost ∝ N·len(columns)
    forward passes (pays when few columns are wanted).
    """
    theta = theta.detach()
    n = points.shape[0]
    chunk_size = n if chunk_size is None else max(1, chunk_size)

    def single(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return fn(t, x[None], **kwargs)[0]

    if mode == "rev":
        per_point = vmap(jacrev(single), in_dims=(None, 0))
        for start in range(0, n, chunk_size):
            rows = per_point(theta, points[start : start + chunk_size])
            yield rows if columns is None else rows[:, columns]
    elif mode == "fwd":
        index = torch.arange(theta.numel(), device=theta.device) if columns is None else columns
        basis = torch.zeros(len(index), theta.numel(), dtype=theta.dtype, device=theta.device)
        basis[torch.arange(len(index), device=theta.device), index] = 1
        for start in range(0, n, chunk_size):
            chunk = points[start : start + chunk_size]

            def along(v: torch.Tensor, chunk: torch.Tensor = chunk) -> torch.Tensor:
                return jvp(lambda t: fn(t, chunk, **kwargs), (theta,), (v,))[1]

            yield vmap(along)(basis).mT
    else:
        raise ValueError(f"jacobian mode {mode!r}: choose 'rev' or 'fwd'")


def jacobian(
    fn: NetworkFunction,
    theta: torch.Tensor,
    points: torch.Tensor,
    columns: torch.Tensor | None = None,
    chunk_size: int | None = None,
    mode: str = "rev",
    **kwargs: Any,
) -> torch.Tensor:
    """The whole Jacobian ``(N, len(columns) or P)``; see :func:`jacobian_blocks`."""
    return torch.cat(list(jacobian_blocks(fn, theta, points, columns, chunk_size, mode, **kwargs)))


def directional_derivatives(
    fn: NetworkFunction, theta: torch.Tensor, v: torch.Tensor, points: torch.Tensor, **kwargs: Any
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(J v, ∂²fn/∂θ² [v, v])`` at the points by nested forward mode (about three forward passes).

    The second derivative is what Levenberg–Marquardt's geodesic acceleration needs
    (Transtrum & Sethna, arXiv 1201.5885): exact, without a finite-difference step.
    """
    theta, v = theta.detach(), v.detach()

    def along(t: torch.Tensor) -> torch.Tensor:
        return jvp(lambda s: fn(s, points, **kwargs), (t,), (v,))[1]

    return jvp(along, (theta,), (v,))
