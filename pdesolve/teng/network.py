"""The TENG network: boundary conditions built into the architecture.

As in Chen et al., "TENG" (ICML 2024): each periodic axis ``x_k`` of period ``L_k`` enters through
``m`` units ``a cos(2π (x_k - lower_k) / L_k + φ) + c`` (learnable ``a, φ, c``), so the network is
exactly periodic; non-periodic axes enter through ``m`` affine units ``a x̂_k + c`` of the coordinate
rescaled to [-1, 1] (their ``φ`` is unused).
``m = width // dim``; then ``tanh``, ``depth`` dense tanh layers of ``width`` and a linear output.
For width 40, depth 5 in 2D that is the paper's 8,361 parameters.

Dirichlet axes: ``u(x) = g(x) + D(x) N(x)`` with the lift ``g`` (the boundary value extended into
the domain by its own formula) and the distance factor ``D = Π_k 4 (x_k - a_k)(b_k - x_k) / (b_k - a_k)²``,
which vanishes on the faces ``x_k = a_k, b_k`` and is 1 in the middle.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

Lift = Callable[[torch.Tensor], torch.Tensor]


class AxisEmbedding(nn.Module):
    """``m`` features per axis: periodic cosine units or affine units of the rescaled coordinate."""

    def __init__(self, lower: Sequence[float], upper: Sequence[float], periodic: Sequence[bool], units: int) -> None:
        super().__init__()
        dim = len(lower)
        self.register_buffer("lower", torch.tensor(lower, dtype=torch.float64))
        self.register_buffer("length", torch.tensor(upper, dtype=torch.float64) - self.lower)
        self.register_buffer("periodic", torch.tensor(periodic, dtype=torch.bool))
        self.a = nn.Parameter(torch.empty(units, dim, dtype=torch.float64))
        self.phi = nn.Parameter(torch.empty(units, dim, dtype=torch.float64))
        self.c = nn.Parameter(torch.empty(units, dim, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scaled = (x - self.lower) / self.length  # in [0, 1] along every axis
        angle = 2 * math.pi * scaled[:, None, :] + self.phi
        affine = (2 * scaled - 1)[:, None, :] * self.a
        units = torch.where(self.periodic, self.a * torch.cos(angle), affine) + self.c
        return units.reshape(x.shape[0], -1)


class TengNetwork(nn.Module):
    """Embedding → tanh → ``depth`` × (dense, tanh) → linear; times ``D(x)`` plus a lift on Dirichlet axes."""

    def __init__(
        self,
        lower: Sequence[float],
        upper: Sequence[float],
        periodic: Sequence[bool],
        width: int = 40,
        depth: int = 5,
        lift: Lift | None = None,
    ) -> None:
        super().__init__()
        dim = len(lower)
        units = max(1, width // dim)
        self.embedding = AxisEmbedding(lower, upper, periodic, units)
        features = units * dim
        self.hidden = nn.ModuleList(
            [nn.Linear(features if k == 0 else width, width, dtype=torch.float64) for k in range(depth)]
        )
        self.output = nn.Linear(width if depth else features, 1, dtype=torch.float64)
        self.dirichlet = not all(periodic)
        self.lift = lift

    def reset_parameters(self, seed: int) -> TengNetwork:
        """Truncated-normal embedding (σ = 1), LeCun-normal dense weights, zero biases; reproducible."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for tensor in (self.embedding.a, self.embedding.phi, self.embedding.c):
                nn.init.trunc_normal_(tensor, std=1.0, a=-2.0, b=2.0)
            for layer in [*self.hidden, self.output]:
                std = 1 / math.sqrt(layer.in_features)
                nn.init.trunc_normal_(layer.weight, std=std, a=-2 * std, b=2 * std)
                nn.init.zeros_(layer.bias)
        return self

    def distance_factor(self, x: torch.Tensor) -> torch.Tensor:
        emb = self.embedding
        scaled = (x - emb.lower) / emb.length
        factors = torch.where(emb.periodic, torch.ones_like(scaled), 4 * scaled * (1 - scaled))
        return factors.prod(dim=1)

    def forward(self, x: torch.Tensor, with_lift: bool = True) -> torch.Tensor:
        h = torch.tanh(self.embedding(x))
        for layer in self.hidden:
            h = torch.tanh(layer(h))
        u = self.output(h)[:, 0]
        if self.dirichlet:
            u = self.distance_factor(x) * u
            if with_lift and self.lift is not None:
                u = u + self.lift(x)
        return u
