"""Heat on the square with a hole (issue 21): the PINN against fem_mol, on the gmsh mesh or the exact geometry.

u_t = 0.1 Δu on (0, 1)² minus the disk of radius ¼ about (½, ½), t in (0, 0.5), u = 0 on the boundary,
u₀ = sin πx sin πy (|x − c|² − ¼²). ``mesh``: the domain read from ``tests/data/square_minus_disk.msh`` (the hole
as 16 chords); ``csg``: ``Rectangle((0, 0), (1, 1)) - Disk((0.5, 0.5), 0.25)``. Errors at the problem's test
points (4096 points × the 10 times 0.05 … 0.5) against fem_mol refined ``--refine`` times; per-time relative
errors at the first and last time; CPU seconds of the process for each solve.

    OMP_NUM_THREADS=1 python benchmarks/holed_heat.py mesh --refine 3 --out OUT.json ngd_steps=400
"""

from __future__ import annotations

import argparse
import json
import resource
from pathlib import Path
from typing import Any

import numpy as np

import pdesolve as ps
from pdesolve.pinn.solver import PinnSolver
from pdesolve.problem import Dirichlet, Disk, Mesh, Problem, Rectangle, laplacian, pi, sin
from pdesolve.solvers.base import coerce_option

MESH = Path(__file__).resolve().parents[1] / "tests" / "data" / "square_minus_disk.msh"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def holed_problem(geometry: str) -> Problem:
    """The heat problem on the mesh (``mesh``) or on the exact geometry (``csg``)."""
    domain = Mesh(MESH) if geometry == "mesh" else Rectangle((0, 0), (1, 1)) - Disk((0.5, 0.5), 0.25)
    return Problem(
        name=f"heat_hole_{geometry}",
        domain=domain,
        time=(0.0, 0.5),
        rhs=lambda u, x, p: 0.1 * laplacian(u),
        boundary=Dirichlet(0.0),
        initial=lambda x, p: sin(pi * x.x) * sin(pi * x.y) * ((x.x - 0.5) ** 2 + (x.y - 0.5) ** 2 - 0.0625),
    )


def errors(values: np.ndarray, expected: np.ndarray, times: np.ndarray) -> dict[str, Any]:
    """Relative L2 and max error over all points, and the relative L2 at the first and last time."""

    def rel(mask: np.ndarray) -> float:
        return float(np.linalg.norm(values[mask] - expected[mask]) / np.linalg.norm(expected[mask]))

    return {
        "rel_l2": rel(np.ones(len(values), dtype=bool)),
        "max_error": float(np.abs(values - expected).max()),
        "rel_l2_first_time": rel(times == times.min()),
        "rel_l2_last_time": rel(times == times.max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("geometry", choices=("mesh", "csg"))
    parser.add_argument("--refine", type=int, default=3, help="fem_mol's refinements for the reference")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("options", nargs="*", help="pinn options as KEY=VALUE (the ngd preset fills in the rest)")
    args = parser.parse_intermixed_args()
    problem = holed_problem(args.geometry)
    points = problem.test_points()
    start = cpu_seconds()
    expected = np.asarray(ps.solve(problem, "classical", refine=args.refine, progress=False)(points), dtype=float)
    reference_cpu = cpu_seconds() - start
    given = {key: coerce_option(PinnSolver, key, value) for key, value in (o.split("=", 1) for o in args.options)}
    start = cpu_seconds()
    result = ps.solve(problem, "pinn", progress=False, **given)
    pinn_cpu = cpu_seconds() - start
    values = np.asarray(result(points), dtype=float)
    stats = result.solution.stats
    record = {
        "geometry": args.geometry,
        "refine": args.refine,
        "options": given,
        **errors(values, expected, points[:, -1]),
        "residual_rms": result.metrics.get("residual_rms"),
        "boundary_max": result.metrics.get("boundary_max"),
        "initial_max": result.metrics.get("initial_max"),
        "loss_terms": stats.get("loss_terms"),
        "exact_conditions": stats.get("exact_conditions"),
        "pinn_cpu_s": round(pinn_cpu, 1),
        "reference_cpu_s": round(reference_cpu, 1),
    }
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
