"""The network's inputs: each free axis scaled to [−1, 1], each periodic one through
``cos(2πm(x − a)/L), sin(2πm(x − a)/L)``, so the output and all its derivatives are exactly periodic
(Dong & Ni 2021)."""

from __future__ import annotations

import math

import torch
from torch import nn


class InputEmbedding(nn.Module):
    """Maps points (N, dim[+1], time last) to network inputs: [−1, 1] per free axis, cos/sin per periodic one."""

    def __init__(self, lower: list[float], upper: list[float], periodic: list[bool], modes: int = 1) -> None:
        super().__init__()
        self.register_buffer("lower", torch.tensor(lower, dtype=torch.float64))
        self.register_buffer("upper", torch.tensor(upper, dtype=torch.float64))
        self.periodic = list(periodic)
        self.modes = modes

    @property
    def n_out(self) -> int:
        return sum(2 * self.modes if p else 1 for p in self.periodic)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        lower, upper = self.lower.to(points.dtype), self.upper.to(points.dtype)
        scaled = (points - lower) / (upper - lower)  # [0, 1] per axis
        columns = []
        for k, periodic in enumerate(self.periodic):
            if periodic:
                for m in range(1, self.modes + 1):
                    angle = 2 * math.pi * m * scaled[:, k]
                    columns += [torch.cos(angle), torch.sin(angle)]
            else:
                columns.append(2 * scaled[:, k] - 1)
        return torch.stack(columns, dim=1)
