"""The trained function: input embedding → network → hard-constraint output transform (+ corner singular
functions on polygons, :mod:`pdesolve.pinn.singular`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from pdesolve.pinn.constraints import InputEmbedding, build_transform
from pdesolve.pinn.networks import build_network
from pdesolve.pinn.singular import CornerEnrichment, reentrant_corners
from pdesolve.problem import Polygon, Problem


class PinnModel(nn.Module):
    """``u(points)`` for points (N, dim[+1]) with time as the last column."""

    def __init__(
        self,
        embedding: InputEmbedding,
        network: nn.Module,
        transform: nn.Module,
        enrichment: CornerEnrichment | None = None,
    ) -> None:
        super().__init__()
        self.embedding = embedding
        self.network = network
        self.transform = transform
        self.enrichment = enrichment

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        u = self.transform(points, self.network(self.embedding(points)))
        return u if self.enrichment is None else u + self.enrichment(points)

    @property
    def exact_conditions(self) -> list[str]:
        """Which conditions the architecture satisfies exactly."""
        flags = {
            "dirichlet": bool(self.transform.dirichlet),
            "initial": self.transform.initial,
            "periodic": any(self.embedding.periodic),
        }
        return [name for name, on in flags.items() if on]


@contextmanager
def default_dtype(dtype: torch.dtype) -> Iterator[None]:
    """``torch.set_default_dtype(dtype)`` inside the block, the caller's default restored after it."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


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
    corner_enrichment: bool = True,
) -> PinnModel:
    """A seeded CPU model for ``problem``; time (evolution problems) is one more, non-periodic input axis.

    ``corner_enrichment`` adds the singular functions of the re-entrant corners of a polygon when the
    Dirichlet condition is exact (stationary problems; :mod:`pdesolve.pinn.singular`)."""
    lower, upper = (list(map(float, b)) for b in problem.domain.bounds)
    periodic = list(problem.periodic_axes) if hard_constraints else [False] * problem.dim
    if problem.is_evolution:
        lower, upper, periodic = lower + [problem.time[0]], upper + [problem.time[1]], periodic + [False]
    # built on the CPU and drawn in float32 whatever the default device and dtype (DeepXDE makes them CUDA and
    # float64 when asked), then moved: one seed gives one network in every caller
    with torch.device("cpu"), default_dtype(torch.float32), torch.random.fork_rng(devices=[]):
        embedding = InputEmbedding(lower, upper, periodic, periodic_modes)
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        outputs = len(problem.unknowns)
        body = build_network(network, embedding.n_out, width, depth, activation, fourier_scale, generator, outputs)
        transform = build_transform(problem, hard_constraints)
        enrich = corner_enrichment and not problem.is_evolution and transform.everywhere
        corners = reentrant_corners(problem.domain.vertices) if enrich and isinstance(problem.domain, Polygon) else []
        return PinnModel(embedding, body, transform, CornerEnrichment(corners) if corners else None)
