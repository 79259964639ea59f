"""Finite elements (Taylor–Hood P2/P1, Newton) on the steady Navier–Stokes problems of the catalogue.

- ``kovasznay`` (Re = 20): relative L2 error of the velocity and of p against the exact solution, per mesh.
- ``cavity`` (Re = 100): largest and relative L2 deviation of u(0.5, y) and v(x, 0.5) from Ghia, Ghia & Shin
  (1982) at their 17 + 17 points, and the extremes of the profiles (u_min, v_min, v_max on 401 points)
  beside those of Marchi, Suero & Araki (2009, 1024² grid, extrapolated): −0.2140424, −0.2538030, 0.1795728.
- ``cylinder`` (DFG 2D-1): C_D, C_L (reaction form) and Δp against Schäfer & Turek (1996)'s reference values,
  on curved P2 meshes of our mesher graded toward the cylinder (``refine_near = ("cylinder", levels)``).

    OMP_NUM_THREADS=1 python benchmarks/navier_stokes.py --out benchmarks/results/navier_stokes_fem_cpu.json
    OMP_NUM_THREADS=1 python benchmarks/navier_stokes.py --quick        # the two coarsest meshes of each
"""

from __future__ import annotations

import argparse
import platform
import time
from dataclasses import replace
from typing import Any

import numpy as np

from pdesolve.classical.fem import FiniteElement
from pdesolve.io.run_folder import write_json
from pdesolve.problem import load_problem
from pdesolve.report.metrics import Reference, solution_errors
from pdesolve.report.quantities import measure_quantities

MARCHI = {"u_min": -0.2140424, "v_min": -0.2538030, "v_max": 0.1795728}
MESHES = {
    "kovasznay": [{"n": 9}, {"n": 17}, {"n": 33}],
    "cavity": [{"n": 17}, {"n": 33}, {"n": 65}],
    "cylinder": [{"n": 45, "levels": 2}, {"n": 45, "levels": 3}, {"n": 45, "levels": 4}, {"n": 89, "levels": 4}],
}


def solve(name: str, mesh: dict[str, int]) -> tuple[Any, Any, float]:
    problem = load_problem(name)
    if "levels" in mesh:
        problem = replace(problem, defaults={**problem.defaults, "refine_near": ("cylinder", mesh["levels"])})
    start = time.perf_counter()
    solution = FiniteElement(n=mesh["n"]).solve(problem)
    return problem, solution, time.perf_counter() - start


def extremes(solution: Any) -> dict[str, float]:
    line = np.linspace(0.0, 1.0, 401)
    u = solution(np.column_stack([np.full_like(line, 0.5), line]))[:, 0]
    v = solution(np.column_stack([line, np.full_like(line, 0.5)]))[:, 1]
    return {"u_min": float(u.min()), "v_min": float(v.min()), "v_max": float(v.max())}


def measure(name: str, mesh: dict[str, int]) -> dict[str, Any]:
    problem, solution, seconds = solve(name, mesh)
    row: dict[str, Any] = {
        **mesh,
        "elements": solution.stats["elements"],
        "dofs": solution.stats["dofs"],
        "newton_steps": solution.stats["newton_steps"],
        "seconds": seconds,
        "quantities": measure_quantities(problem, solution),
    }
    if name == "kovasznay":
        errors = solution_errors(solution, Reference.of(problem))
        row["velocity_rel_l2"] = errors["rel_l2"]
        row["p_rel_l2"] = errors["per_unknown"]["p"]["rel_l2"]
    if name == "cavity":
        row["extremes"] = extremes(solution)
        row["extremes_minus_marchi"] = {k: v - MARCHI[k] for k, v in row["extremes"].items()}
    return row


def summary(name: str, row: dict[str, Any]) -> str:
    mesh = f"n={row['n']}" + (f", levels={row['levels']}" if "levels" in row else "")
    head = f"{name} [{mesh}] {row['dofs']} dofs, {row['newton_steps']} Newton steps, {row['seconds']:.1f} s:"
    if name == "kovasznay":
        return f"{head} velocity rel L2 {row['velocity_rel_l2']:.2e}, p {row['p_rel_l2']:.2e}"
    parts = []
    for label, q in row["quantities"].items():
        if "max_abs_deviation" in q:
            parts.append(f"{label} max dev {q['max_abs_deviation']:.2e} (rel L2 {q['rel_l2_deviation']:.2e})")
        else:
            parts.append(f"{label} {q['value']:.6g} (rel. error {q['rel_error']:.1e})")
    if name == "cavity":
        parts.append("extremes - Marchi " + ", ".join(f"{k} {v:+.1e}" for k, v in row["extremes_minus_marchi"].items()))
    return head + " " + "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="kovasznay,cavity,cylinder")
    parser.add_argument("--quick", action="store_true", help="the two coarsest meshes of each problem")
    parser.add_argument("--out", default=None, help="JSON file for the figures")
    args = parser.parse_args()
    results: dict[str, Any] = {"device": f"CPU ({platform.processor() or platform.machine()})", "float": "float64"}
    for name in args.problems.split(","):
        meshes = MESHES[name][:2] if args.quick else MESHES[name]
        results[name] = []
        for mesh in meshes:
            row = measure(name, mesh)
            results[name].append(row)
            print(summary(name, row), flush=True)
    if args.out:
        write_json(args.out, results)


if __name__ == "__main__":
    main()
