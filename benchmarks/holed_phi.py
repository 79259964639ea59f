"""The holed square's PINN with the transform's distance function φ swapped (issue 21, the mesh's failure bisected).

``train GEOMETRY PHI``: the problem of :mod:`holed_heat` (``--shift``: ``u₀ + 1e-3``, so that the exact geometry's
initial condition is soft as on the mesh), the ``pinn`` preset with ``KEY=VALUE`` options, φ replaced by one of
``PHIS`` (``own``: the problem's; ``mesh``: the mesh problem's, since commit 7e898c5 its hole's Green's function,
before it the ``euclidean`` one: the corner-adapted Euclidean distance to the 16 chords), loss terms every 10 steps, errors against fem_mol (refine 3 on the mesh, 2 on
the exact geometry). ``rings``: min / max / std of Δφ (autograd) on circles about the hole's centre.

    OMP_NUM_THREADS=1 python benchmarks/holed_phi.py train mesh circle --out OUT.json ngd_steps=30
    OMP_NUM_THREADS=1 python benchmarks/holed_phi.py rings
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from holed_heat import cpu_seconds, errors, holed_problem

import pdesolve as ps
from pdesolve.pinn.model import build_model
from pdesolve.pinn.solution import PinnSolution
from pdesolve.pinn.solver import PinnSolver
from pdesolve.problem import Problem
from pdesolve.problem import distance as dist
from pdesolve.problem import pieces as bp
from pdesolve.solvers.base import Settings, coerce_option

Distance = Callable[[torch.Tensor], torch.Tensor]
CENTRE, RADIUS = 0.5, 0.25
SQUARE = [bp.Segment(a, b) for a, b in (((0.0, 0.0), (1.0, 0.0)), ((1.0, 0.0), (1.0, 1.0)), ((1.0, 1.0), (0.0, 1.0)))]
SQUARE.append(bp.Segment((0.0, 1.0), (0.0, 0.0)))


def own(problem: Problem) -> Distance:
    """The distance function the problem's transform builds."""
    return build_model(problem, "mlp", 4, 1, "tanh", True, 1.0, 1, seed=0).double().transform.distance


def mesh_hole() -> np.ndarray:
    """The mesh's hole: its 16 vertices in order."""
    return dist.convex_holes(holed_problem("mesh").domain.pieces())[1][0]


def polygon(sides: int) -> np.ndarray:
    """A regular polygon inscribed in the hole's circle, clockwise (a hole)."""
    angle = -2 * np.pi * np.arange(sides) / sides
    return np.column_stack([CENTRE + RADIUS * np.cos(angle), CENTRE + RADIUS * np.sin(angle)])


def joined(hole: Distance) -> Distance:
    """``φ⁻² = φ_square⁻² + d_hole⁻²`` (the mesh's join), divided by its peak."""
    square = dist.pieces_distance(SQUARE, 1.0)

    def raw(x: torch.Tensor) -> torch.Tensor:
        return 1 / torch.sqrt(1 / square(x) ** 2 + 1 / hole(x) ** 2)

    probe = torch.as_tensor(holed_problem("csg").domain.sample_interior(256, seed=0, method="Hammersley"))
    peak = float(raw(probe).max())
    return lambda x: raw(x) / peak


def circle(radius: float) -> Distance:
    return lambda x: torch.sqrt((x[:, 0] - CENTRE) ** 2 + (x[:, 1] - CENTRE) ** 2) - radius


def chords(order: int) -> Distance:
    """The 16 chords' trimmed ADFs joined by the R-equivalence of ``order``."""
    v = torch.as_tensor(polygon(16))
    a, b = v, torch.roll(v, -1, dims=0)
    n = (b - a).norm(dim=1)
    mid = (a + b) / 2

    def phi(x: torch.Tensor) -> torch.Tensor:
        px, py = x[:, :1], x[:, 1:2]
        f = ((px - a[:, 0]) * (b[:, 1] - a[:, 1]) - (py - a[:, 1]) * (b[:, 0] - a[:, 0])) / n
        t = ((n / 2) ** 2 - (px - mid[:, 0]) ** 2 - (py - mid[:, 1]) ** 2) / n
        return 1 / torch.sum(dist._trimmed(f, t) ** -order, dim=1) ** (1 / order)

    return phi


def rounded(offset: float) -> Distance:
    """The 16-gon with rounded corners: the distance to the 16-gon moved in by ``offset``, less ``offset``."""
    inner = CENTRE + (polygon(16) - CENTRE) * (1 - offset / (RADIUS * np.cos(np.pi / 16)))
    hole = dist.hole_distance(inner)
    return lambda x: hole(x) - offset


PHIS: dict[str, Callable[[], Distance]] = {
    "mesh": lambda: own(holed_problem("mesh")),
    "csg": lambda: own(holed_problem("csg")),
    "euclidean": lambda: joined(dist.corner_adapted(dist.hole_distance(mesh_hole()), mesh_hole())),
    "circle": lambda: joined(circle(RADIUS)),
    "inscribed": lambda: joined(circle(RADIUS * np.cos(np.pi / 16))),
    "gon16": lambda: joined(dist.hole_distance(polygon(16))),
    "gon64": lambda: joined(dist.hole_distance(polygon(64))),
    "chords1": lambda: joined(chords(1)),
    "chords2": lambda: joined(chords(2)),
    "rounded": lambda: joined(rounded(0.02)),
}


def train(geometry: str, phi: str, shift: bool, out: str, options: list[str]) -> None:
    problem = holed_problem(geometry)
    if shift:
        data = problem.initial
        problem = dataclasses.replace(problem, initial=lambda x, p: data(x, p) + 1e-3)
    given = {key: coerce_option(PinnSolver, key, value) for key, value in (o.split("=", 1) for o in options)}
    log: list[dict] = []

    def record(trainer) -> None:
        log.append({"step": trainer.global_step, **trainer.loss_terms()})

    trainer = PinnSolver(Settings(dtype="float64", seed=0), **given).build(problem, record, 10)
    if phi != "own":
        trainer.model.transform.distance = PHIS[phi]()
    start = cpu_seconds()
    stats = trainer.run()
    used = cpu_seconds() - start
    points = problem.test_points()
    reference = holed_problem(geometry)
    refine = 3 if geometry == "mesh" else 2
    expected = np.asarray(ps.solve(reference, "classical", refine=refine, progress=False)(points), dtype=float)
    values = np.asarray(PinnSolution(problem, trainer.model, stats)(points), dtype=float)
    result = {
        "geometry": geometry,
        "phi": phi,
        "shift": shift,
        "options": given,
        **errors(values, expected, points[:, -1]),
        "loss_terms": trainer.loss_terms(),
        "pinn_cpu_s": round(used, 1),
        "log": log,
    }
    Path(out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "log"}))


def rings(radii: tuple[float, ...] = (0.28, 0.32, 0.4), n: int = 2000) -> None:
    angle = np.linspace(0, 2 * np.pi, n, endpoint=False) + 0.013
    for name, build in PHIS.items():
        phi, row = build(), []
        for r in radii:
            ring = np.column_stack([CENTRE + r * np.cos(angle), CENTRE + r * np.sin(angle), np.zeros(n)])
            x = torch.tensor(ring, requires_grad=True)
            (grad,) = torch.autograd.grad(phi(x).sum(), x, create_graph=True)
            lap = sum(torch.autograd.grad(grad[:, k].sum(), x, retain_graph=True)[0][:, k] for k in range(2))
            lap = lap.detach().numpy()
            row.append(f"r={r}: {lap.min():8.1f} {lap.max():8.1f} std {lap.std():6.1f}")
        print(f"{name:10s}", " | ".join(row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("train")
    run.add_argument("geometry", choices=("mesh", "csg"))
    run.add_argument("phi", choices=("own", *PHIS))
    run.add_argument("--shift", action="store_true", help="u₀ + 1e-3 (the initial condition soft)")
    run.add_argument("--out", required=True)
    run.add_argument("options", nargs="*", help="pinn options as KEY=VALUE")
    commands.add_parser("rings")
    args, extra = parser.parse_known_args()  # KEY=VALUE after --out land in extra
    if any(e.startswith("-") for e in extra) or (extra and args.command != "train"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "train":
        train(args.geometry, args.phi, args.shift, args.out, [*args.options, *extra])
    else:
        rings()


if __name__ == "__main__":
    main()
