"""The trained function: input embedding → network → hard-constraint output transform (+ corner singular
functions on polygons, :mod:`pdesolve.pinn.singular`).

``ansatz="stream"`` (2D flow systems with unknowns u, v): the network's first output is a stream function
ψ and the velocity is ``(u, v) = (∂ψ/∂y, −∂ψ/∂x)``, so ``∇·w = ψ_yx − ψ_xy = 0`` exactly (to round-off)
whatever the weights; the other outputs are the other unknowns in order. The velocity's Dirichlet conditions
are then soft loss terms (``g + φN`` cannot be written for the curl of ψ), the other unknowns' (a pressure
on an outflow face) stay exact. ``ansatz="channel"`` (a box channel less disks, inflow on the left, no slip on
walls and disks): the stream function ``G + Q φ² N`` of :mod:`pdesolve.pinn.channel` instead, which keeps the
velocity conditions exact and the flux between the walls equal to the inflow's at every x.

``input_scaling="isotropic"`` maps every space axis to the network's inputs by one factor (the box's longest
half-side to 1) about the box's centre, so a circle stays a circle to the network; "box" maps each axis to [−1, 1].
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from pdesolve.errors import PdesolveError
from pdesolve.pinn.channel import ChannelStream, channel_layout
from pdesolve.pinn.constraints import build_transform
from pdesolve.pinn.corner import sliding_corners
from pdesolve.pinn.embedding import InputEmbedding
from pdesolve.pinn.gauges import MeanGauge, exact_gauges
from pdesolve.pinn.networks import build_network
from pdesolve.pinn.singular import CornerEnrichment, reentrant_corners
from pdesolve.pinn.transforms import SystemTransform
from pdesolve.problem import Dirichlet, Polygon, Problem

ANSATZES = ("plain", "stream", "channel")
INPUT_SCALINGS = ("box", "isotropic")


class PinnModel(nn.Module):
    """``u(points)`` for points (N, dim[+1]) with time as the last column."""

    def __init__(
        self,
        embedding: InputEmbedding,
        network: nn.Module,
        transform: nn.Module,
        enrichment: nn.Module | None = None,
        stream: tuple[int, int] | None = None,
        gauge: MeanGauge | None = None,
        potential: ChannelStream | None = None,
    ) -> None:
        super().__init__()
        self.gauge = gauge
        self.embedding = embedding
        self.network = network
        self.transform = transform
        self.enrichment = enrichment
        self.stream = stream
        self.potential = potential

    def raw(self, points: torch.Tensor) -> torch.Tensor:
        """The network's output before the transform; with a stream function, the velocity it gives in the
        columns ``stream`` and the other outputs in the rest."""
        if self.stream is None:
            return self.network(self.embedding(points))
        keep = torch.is_grad_enabled()
        with torch.enable_grad():
            x = points if points.requires_grad else points.detach().requires_grad_(True)
            out = self.network(self.embedding(x))
            out = out[:, None] if out.dim() == 1 else out
            psi = out[:, 0] if self.potential is None else self.potential(x, out[:, 0])
            (dpsi,) = torch.autograd.grad(psi.sum(), x, create_graph=True)
        others = iter(out[:, 1:].unbind(1))
        velocity = {self.stream[0]: dpsi[:, 1], self.stream[1]: -dpsi[:, 0]}
        columns = [velocity[j] if j in velocity else next(others) for j in range(out.shape[1] + 1)]
        result = torch.stack(columns, dim=1)
        return result if keep else result.detach()

    def ungauged(self, points: torch.Tensor) -> torch.Tensor:
        u = self.transform(points, self.raw(points))
        return u if self.enrichment is None else u + self.enrichment(points)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        u = self.ungauged(points)
        if self.gauge is None or torch.is_grad_enabled():
            return u
        u = u.clone()
        u[:, self.gauge.column] += self.gauge.shift(self.ungauged, points.to(u))
        return u

    @property
    def exact_dirichlet(self) -> tuple[Dirichlet, ...]:
        """The Dirichlet conditions the model satisfies exactly (the transform's, the channel ansatz's)."""
        return tuple(self.transform.dirichlet) + (self.potential.conditions if self.potential is not None else ())

    @property
    def exact_conditions(self) -> list[str]:
        """Which conditions the architecture satisfies exactly."""
        flags = {
            "dirichlet": bool(self.exact_dirichlet),
            "initial": self.transform.initial,
            "periodic": any(self.embedding.periodic),
            "gauge": self.gauge is not None,
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
    ansatz: str = "plain",
    input_scaling: str = "box",
) -> PinnModel:
    """A seeded CPU model for ``problem``; time (evolution problems) is one more, non-periodic input axis.

    ``corner_enrichment`` adds the singular functions of the re-entrant corners of a polygon when the
    Dirichlet condition is exact (stationary problems; :mod:`pdesolve.pinn.singular`), and the Stokes corner
    flows where a flow's exact wall velocities jump at a corner of a rectangle (:mod:`pdesolve.pinn.corner`:
    the lid-driven cavity); ``ansatz``: plain | stream | channel, ``input_scaling``: box | isotropic (see the
    module's docstring)."""
    stream = stream_columns(problem, ansatz)
    if input_scaling not in INPUT_SCALINGS:
        raise PdesolveError(f"pinn: input_scaling must be one of {', '.join(INPUT_SCALINGS)}, got {input_scaling!r}")
    lower, upper = (list(map(float, b)) for b in problem.domain.bounds)
    if input_scaling == "isotropic":
        half = max(b - a for a, b in zip(lower, upper)) / 2
        lower, upper = (
            [(a + b) / 2 - half for a, b in zip(lower, upper)],
            [(a + b) / 2 + half for a, b in zip(lower, upper)],
        )
    periodic = list(problem.periodic_axes) if hard_constraints else [False] * problem.dim
    if problem.is_evolution:
        lower, upper, periodic = lower + [problem.time[0]], upper + [problem.time[1]], periodic + [False]
    # built on the CPU and drawn in float32 whatever the default device and dtype (DeepXDE makes them CUDA and
    # float64 when asked), then moved: one seed gives one network in every caller
    with torch.device("cpu"), default_dtype(torch.float32), torch.random.fork_rng(devices=[]):
        embedding = InputEmbedding(lower, upper, periodic, periodic_modes)
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        outputs = len(problem.unknowns) - (1 if stream else 0)
        body = build_network(network, embedding.n_out, width, depth, activation, fourier_scale, generator, outputs)
        free = tuple(problem.unknowns[j] for j in stream) if stream else ()
        transform = build_transform(problem, hard_constraints, free)
        enrich = corner_enrichment and not problem.is_evolution and transform.everywhere
        corners = reentrant_corners(problem.domain.vertices) if enrich and isinstance(problem.domain, Polygon) else []
        # an evolution system's mean gauge at every time has no pointwise loss row: set by the model either way
        gauged = problem.is_system and (hard_constraints or problem.is_evolution)
        gauges = exact_gauges(problem, free) if gauged else []
        gauge = MeanGauge(problem, gauges[0]) if gauges else None
        enrichment: nn.Module | None = CornerEnrichment(corners) if corners else None
        if corner_enrichment and hard_constraints and problem.is_system and isinstance(transform, SystemTransform):
            enrichment = sliding_corners(problem, transform)
        potential = ChannelStream(problem, channel_layout(problem)) if ansatz == "channel" else None
        return PinnModel(embedding, body, transform, enrichment, stream, gauge, potential)


def stream_columns(problem: Problem, ansatz: str) -> tuple[int, int] | None:
    """The columns of u and v for ``ansatz="stream"`` (None for "plain"); a one-line error where it cannot apply."""
    if ansatz not in ANSATZES:
        raise PdesolveError(f"pinn: ansatz must be one of {', '.join(ANSATZES)}, got {ansatz!r}")
    if ansatz == "plain":
        return None
    names = problem.unknowns
    if problem.dim != 2 or problem.is_evolution or not {"u", "v"} <= set(names):
        raise PdesolveError(f"pinn: ansatz={ansatz} needs a stationary 2D system with unknowns u and v")
    return names.index("u"), names.index("v")
