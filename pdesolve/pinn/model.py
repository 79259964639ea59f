"""The trained function: input embedding → network → hard-constraint output transform."""

from __future__ import annotations

import torch
from torch import nn

from pdesolve.pinn.constraints import InputEmbedding, build_transform
from pdesolve.pinn.networks import build_network
from pdesolve.problem import Problem


class PinnModel(nn.Module):
    """``u(points)`` for points (N, dim[+1]) with time as the last column."""

    def __init__(self, embedding: InputEmbedding, network: nn.Module, transform: nn.Module) -> None:
        super().__init__()
        self.embedding = embedding
        self.network = network
        self.transform = transform

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.transform(points, self.network(self.embedding(points)))

    @property
    def exact_conditions(self) -> list[str]:
        """Which conditions the architecture satisfies exactly."""
        flags = {
            "dirichlet": self.transform.dirichlet is not None,
            "initial": self.transform.initial,
            "periodic": any(self.embedding.periodic),
        }
        return [name for name, on in flags.items() if on]


def build_model(
    problem: Problem,
    network: str = "mlp",
    width: int = 32,
    depth: int = 3,
    activation: str = "tanh",
    hard_constraints: bool = True,
    fourier_scale: float = 1.0,
    periodic_modes: int = 1,
    seed: int = 0,
) -> PinnModel:
    """A seeded CPU model for ``problem``; time (evolution problems) is one more, non-periodic input axis."""
    lower, upper = (list(map(float, b)) for b in problem.domain.bounds)
    periodic = list(problem.periodic_axes) if hard_constraints else [False] * problem.dim
    if problem.is_evolution:
        lower, upper, periodic = lower + [problem.time[0]], upper + [problem.time[1]], periodic + [False]
    # built on the CPU whatever the default device (DeepXDE makes it CUDA when it can), then moved
    with torch.device("cpu"), torch.random.fork_rng(devices=[]):
        embedding = InputEmbedding(lower, upper, periodic, periodic_modes)
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        body = build_network(network, embedding.n_out, width, depth, activation, fourier_scale, generator)
        return PinnModel(embedding, body, build_transform(problem, hard_constraints))
