"""Transient finite elements (issues 21/22): the Taylor–Green vortex by Taylor–Hood P2/P1 + BDF2 (orders in
space and time, Newton against linearly implicit steps, kinetic energy), and the reuse of LU factorisations for
linear problems (fem_mol on a heat equation, unsteady Stokes), all measured in one run.

    OMP_NUM_THREADS=1 python benchmarks/fem_transient.py --out benchmarks/results/fem_transient.json

and, separately, the DFG 2D-3 cylinder (one run: mesh n, refinement levels near the cylinder, step):

    OMP_NUM_THREADS=1 python benchmarks/fem_transient.py --cylinder 23 2 0.02 --out benchmarks/results/cylinder_2d3.json
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import numpy as np

import pdesolve.classical.fem_mol as fem_mol
import pdesolve.classical.fem_system_mol as system_mol
from pdesolve.classical.fem_mol import FiniteElementLines
from pdesolve.problem import Dirichlet, Problem, Rectangle, exp, laplacian, load_problem, pi, sin
from tests.classical.test_fem_unsteady_systems import stokes_taylor_green


def velocity_error(solution, problem) -> float:
    errors = solution.level_errors(problem.exact)
    return float(np.hypot(errors["u"], errors["v"]))


def orders(sizes, errors) -> list[float]:
    return [float(np.log(a / b) / np.log(h / k)) for a, b, h, k in zip(errors, errors[1:], sizes, sizes[1:])]


def timed(solver, problem):
    start = time.perf_counter()
    solution = solver.solve(problem)
    return solution, time.perf_counter() - start


def taylor_green_orders(flow: Problem) -> dict:
    space = replace(flow.with_params(Re=10.0), time=(0.0, 0.02))
    sizes, errors = [1 / 4, 1 / 8, 1 / 16, 1 / 32], []
    for n in (5, 9, 17, 33):
        errors.append(velocity_error(FiniteElementLines(n=n, dt=0.01, outputs=2).solve(space), space))
    result = {"space": {"h": sizes, "velocity_l2": errors, "orders": orders(sizes, errors)}}
    print("space (Re 10, T 0.02, dt 0.01):", errors, np.round(orders(sizes, errors), 2))
    evolution = replace(flow.with_params(Re=1.0), time=(0.0, 0.1))
    steps, errors = [0.05, 0.025, 0.0125, 0.00625], []
    for dt in steps:
        errors.append(velocity_error(FiniteElementLines(n=17, dt=dt, outputs=2).solve(evolution), evolution))
    result["time"] = {"dt": steps, "velocity_l2": errors, "orders": orders(steps, errors)}
    print("time (Re 1, T 0.1, n 17):", errors, np.round(orders(steps, errors), 2))
    return result


def taylor_green_runs(flow: Problem) -> list[dict]:
    rows = []
    for n in (9, 17):
        for newton in ("full", "once"):
            solution, seconds = timed(FiniteElementLines(n=n, dt=0.05, newton=newton, outputs=20), flow)
            series = solution.stats["kinetic_energy"]
            exact = 0.25 * np.exp(-4 * np.pi**2 * np.asarray(series["t"]) / flow.p.Re)
            errors = solution.level_errors(flow.exact)
            row = {
                "n": n,
                "newton": newton,
                "dofs": solution.stats["dofs"],
                "steps": solution.stats["steps"],
                "newton_iterations": solution.stats["newton_iterations"],
                "velocity_l2": float(np.hypot(errors["u"], errors["v"])),
                "pressure_l2": errors["p"],
                "kinetic_energy_rel_error": float(np.max(np.abs(np.asarray(series["value"]) / exact - 1))),
                "seconds": seconds,
            }
            rows.append(row)
            print("Taylor–Green Re 100, T 1, dt 0.05:", row)
    return rows


def heat() -> Problem:
    """u_t = Δu + f on the unit square, u = e^{−t} sin πx sin πy."""

    def exact(x, p):
        return exp(-x.t) * sin(pi * x.x) * sin(pi * x.y)

    return Problem(
        name="heat_square",
        domain=Rectangle((0, 0), (1, 1)),
        rhs=lambda u, x, p: laplacian(u) + (2 * pi**2 - 1) * exact(x, p),
        time=(0.0, 1.0),
        initial=lambda x, p: exact(x, p),
        boundary=Dirichlet(0.0),
        exact=exact,
    )


def lu_reuse() -> list[dict]:
    """The same runs with the linear problem's detection switched off (a Newton solve, one LU per iteration)."""
    rows = []
    detect = fem_mol.jacobian_is_constant
    for label, problem, options in (
        ("heat, P2 n=33, BDF2 dt 0.01", heat(), {"n": 33, "dt": 0.01}),
        ("unsteady Stokes (Taylor-Green), n=17, dt 0.005", stokes_taylor_green(), {"n": 17, "dt": 0.005}),
    ):
        for reuse in (True, False):
            fem_mol.jacobian_is_constant = system_mol.jacobian_is_constant = detect if reuse else lambda *a: False
            try:
                solution, seconds = timed(FiniteElementLines(outputs=2, **options), problem)
            finally:
                fem_mol.jacobian_is_constant = system_mol.jacobian_is_constant = detect
            error = solution.level_error(problem.exact) if not problem.is_system else velocity_error(solution, problem)
            row = {
                "case": label,
                "reuse": reuse,
                "steps": solution.stats["steps"],
                "factorisations": solution.stats["factorisations"],
                "l2": float(error),
                "seconds": seconds,
            }
            rows.append(row)
            print(row)
    return rows


def cylinder(n: int, levels: int, dt: float) -> dict:
    """DFG 2D-3 with linearly implicit BDF2 steps: the largest C_D and C_L and when they occur."""
    problem = load_problem("cylinder_unsteady")
    problem = replace(problem, defaults={**problem.defaults, "refine_near": ("cylinder", levels)})
    solution, seconds = timed(FiniteElementLines(n=n, dt=dt, newton="once", outputs=8), problem)
    result = {"n": n, "levels": levels, "dt": dt, "dofs": solution.stats["dofs"], "seconds": seconds}
    for label, reference in (("C_D", 2.950921575), ("C_L", 0.47795)):
        series = solution.stats["forces"][label]
        k = int(np.argmax(series["value"]))
        result[label] = {
            "max": series["value"][k],
            "t": series["t"][k],
            "rel_error": series["value"][k] / reference - 1,
        }
    print(result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None)
    parser.add_argument("--cylinder", nargs=3, metavar=("N", "LEVELS", "DT"), default=None)
    args = parser.parse_args()
    if args.cylinder:
        n, levels, dt = args.cylinder
        result = cylinder(int(n), int(levels), float(dt))
    else:
        flow = load_problem("taylor_green")
        result = {"orders": taylor_green_orders(flow), "runs": taylor_green_runs(flow), "lu_reuse": lu_reuse()}
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(result, handle, indent=1)


if __name__ == "__main__":
    main()
