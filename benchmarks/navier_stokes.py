"""Finite elements (Taylor–Hood P2/P1, Newton) and PINNs on the steady Navier–Stokes problems of the catalogue.

- ``kovasznay`` (Re = 20): relative L2 error of the velocity and of p against the exact solution, per mesh.
- ``cavity`` (Re = 100): largest and relative L2 deviation of u(0.5, y) and v(x, 0.5) from Ghia, Ghia & Shin
  (1982) at their 17 + 17 points, and the extremes of the profiles (u_min, v_min, v_max on 401 points)
  beside those of Marchi, Suero & Araki (2009, 1024² grid, extrapolated): −0.2140424, −0.2538030, 0.1795728.
- ``cylinder`` (DFG 2D-1): C_D, C_L (reaction form) and Δp against Schäfer & Turek (1996)'s reference values,
  on curved P2 meshes of our mesher graded toward the cylinder (``refine_near = ("cylinder", levels)``).

PINNs (``--part pinn``), float64, hard constraints, damped Gauss–Newton (``pdesolve.pinn``):

- ``kovasznay`` at the ``pinn`` solver's defaults (preset ``ngd``) and at ``--pinn-budget big``, beside DeepXDE's
  own Kovasznay example rebuilt from its documented API (4 × 50 tanh, 2,601 domain + 400 boundary points, soft
  conditions, Adam 30,000 steps at lr 1e-3 then L-BFGS with DeepXDE's defaults; DeepXDE's float32 default), in
  the same run: velocity relative L2 against the exact solution during training (evaluation time off the
  clock), and pdesolve's time to reach DeepXDE's final error. ``--quick``: Adam 2,000 then L-BFGS 1,000;
- ``cavity`` and ``cylinder`` (``--pinn-problems``): the catalogue's scores (Ghia deviation; C_D, C_L, Δp).

    OMP_NUM_THREADS=1 python benchmarks/navier_stokes.py --out benchmarks/results/navier_stokes_fem_cpu.json
    OMP_NUM_THREADS=1 python benchmarks/navier_stokes.py --quick        # the two coarsest meshes of each
    OMP_NUM_THREADS=1 python benchmarks/navier_stokes.py --part pinn --quick --out ns_pinn_quick.json
"""

from __future__ import annotations

import argparse
import os
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

os.environ.setdefault("DDE_BACKEND", "pytorch")

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


PINN_BUDGETS = {
    "default": {},  # the pinn solver's own defaults (preset ngd)
    "big": {"width": 40, "depth": 3, "n_interior": 2000, "ngd_steps": 200},
}
DEEPXDE = {"full": (30000, 15000), "quick": (2000, 1000)}  # Adam steps, L-BFGS iterations
RECORD_EVERY = {"pdesolve": 5, "adam": 100, "lbfgs": 50}


def velocity_reference(problem: Any, n: int = 101) -> tuple[np.ndarray, np.ndarray]:
    """The exact (u, v) on an n × n grid of the domain."""
    from pdesolve.problem import Coords

    (x0, y0), (x1, y1) = problem.domain.bounds
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n), indexing="ij"), -1).reshape(-1, 2)
    exact = problem.exact(Coords([grid[:, 0], grid[:, 1]]), problem.p)
    return grid, np.column_stack([exact["u"], exact["v"]]).ravel()


def run_pinn(name: str, options: dict[str, Any], curve_of: Any = None, keep: bool = False) -> dict[str, Any]:
    """pdesolve's PINN on ``name`` with ``options`` over its defaults; with ``curve_of``, errors during training;
    ``keep``: the solution too (``row["evaluate"]``, not JSON)."""
    import torch

    from pdesolve.pinn.solution import PinnSolution
    from pdesolve.pinn.solver import PinnSolver
    from pdesolve.solvers.base import Settings

    problem = load_problem(name)
    solver = PinnSolver(Settings(dtype="float64", seed=0), **options)
    holder: dict[str, Any] = {}

    def evaluate(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return holder["trainer"].model(torch.as_tensor(x, dtype=torch.float64))[:, :2].numpy()

    curve = curve_of(evaluate) if curve_of else None
    callback = (lambda _: curve.record()) if curve else None
    trainer = solver.build(problem, callback, RECORD_EVERY["pdesolve"])
    holder["trainer"] = trainer
    start = time.perf_counter()
    if curve:
        curve.start = start
    stats = trainer.run()
    seconds = time.perf_counter() - start
    if curve:
        curve.record()
    solution = PinnSolution(problem, trainer.model, stats)
    row: dict[str, Any] = {
        "options": {k: getattr(solver.config, k) for k in ("width", "depth", "n_interior", "ngd_steps")}
    }
    row |= {"seconds": seconds, "steps": stats.get("steps"), "quantities": measure_quantities(problem, solution)}
    if problem.exact is not None:
        errors = solution_errors(solution, Reference.of(problem))
        row |= {"velocity_rel_l2": errors["rel_l2"], "p_rel_l2": errors["per_unknown"]["p"]["rel_l2"]}
    if curve:
        row["curve"] = curve.points
        row["seconds"] = curve.points[-1][0]
    if keep:
        row["evaluate"] = solution
    return row


def run_deepxde_kovasznay(adam: int, lbfgs: int, curve: Any, re: float = 20.0) -> dict[str, Any]:
    """DeepXDE's Kovasznay setup written from its documented API (geometry, icbc, grad, FNN, Model)."""
    import deepxde as dde

    dde.config.set_random_seed(0)
    nu, lam = 1 / re, re / 2 - np.sqrt(re**2 / 4 + 4 * np.pi**2)

    def exact(x: np.ndarray, k: int) -> np.ndarray:
        e = np.exp(lam * x[:, 0:1])
        return [1 - e * np.cos(2 * np.pi * x[:, 1:2]), lam / (2 * np.pi) * e * np.sin(2 * np.pi * x[:, 1:2]),
                0.5 * (1 - e**2)][k]  # fmt: skip

    def pde(x, y):
        u, v = y[:, 0:1], y[:, 1:2]
        d = {(i, j): dde.grad.jacobian(y, x, i=i, j=j) for i in range(3) for j in range(2)}
        lap = [dde.grad.hessian(y, x, component=i, i=0, j=0) + dde.grad.hessian(y, x, component=i, i=1, j=1)
               for i in range(2)]  # fmt: skip
        momentum = [u * d[i, 0] + v * d[i, 1] + d[2, i] - nu * lap[i] for i in range(2)]
        return [*momentum, d[0, 0] + d[1, 1]]

    geom = dde.geometry.Rectangle([-0.5, -0.5], [1.0, 1.5])
    right = lambda x, on_boundary: on_boundary and np.isclose(x[0], 1.0)  # noqa: E731

    def value(k: int):  # one argument: DeepXDE passes auxiliary variables to two-argument functions
        return lambda x: exact(x, k)

    conditions = [dde.icbc.DirichletBC(geom, value(k), lambda _, b: b, component=k) for k in (0, 1)]
    conditions.append(dde.icbc.DirichletBC(geom, value(2), right, component=2))
    data = dde.data.PDE(geom, pde, conditions, num_domain=2601, num_boundary=400)
    model = dde.Model(data, dde.nn.FNN([2] + [50] * 4 + [3], "tanh", "Glorot normal"))
    curve.evaluate = lambda x: model.predict(x)[:, :2]

    class Record(dde.callbacks.Callback):
        def __init__(self, every: int) -> None:
            super().__init__()
            self.every = every

        def on_epoch_end(self) -> None:
            if model.train_state.step % self.every == 0:
                curve.record()

    curve.start = time.perf_counter()
    model.compile("adam", lr=1e-3)
    model.train(iterations=adam, callbacks=[Record(RECORD_EVERY["adam"])], display_every=10**9, verbose=0)
    steps = {"adam": adam}
    if lbfgs:
        dde.optimizers.config.set_LBFGS_options(maxiter=lbfgs)
        per_step = RECORD_EVERY["lbfgs"]  # the PyTorch backend checks maxiter every iter_per_step iterations
        dde.optimizers.config.LBFGS_options.update(iter_per_step=per_step, fun_per_step=int(1.25 * per_step))
        model.compile("L-BFGS")
        before = model.train_state.step
        model.train(callbacks=[Record(per_step)], display_every=10**9, verbose=0)
        steps["lbfgs"] = model.train_state.step - before
    curve.record()
    return {"steps": steps, "curve": curve.points, "seconds": curve.points[-1][0], "float": "float32"}


def pinn_part(args: argparse.Namespace) -> dict[str, Any]:
    """pdesolve's PINN on the chosen problems; on Kovasznay beside DeepXDE, with the time to its final error."""
    from pinn_vs_deepxde import Curve

    out: dict[str, Any] = {}
    references = {"velocity": velocity_reference(load_problem("kovasznay"))}
    for name in args.pinn_problems.split(","):
        options = dict(PINN_BUDGETS[args.pinn_budget])
        curve_of = (lambda evaluate: Curve(evaluate, references)) if name == "kovasznay" else None
        row = run_pinn(name, options, curve_of)
        out[name] = {"pdesolve": row, "budget": args.pinn_budget}
        scores = {k: q.get("max_abs_deviation", q.get("rel_error")) for k, q in row["quantities"].items()}
        print(f"pinn {name}: {row.get('velocity_rel_l2', '')} {scores} in {row['seconds']:.1f} s", flush=True)
    if "kovasznay" in out and not args.no_deepxde:
        adam, lbfgs = DEEPXDE["quick" if args.quick else "full"]
        theirs = run_deepxde_kovasznay(adam, lbfgs, Curve(None, references))
        target = theirs["curve"][-1][1]["velocity"]
        ours = out["kovasznay"]["pdesolve"]
        reached = next((t for t, e in ours["curve"] if e["velocity"] <= target), None)
        out["kovasznay"] |= {
            "deepxde": {**theirs, "velocity_rel_l2": target, "adam": adam, "lbfgs": lbfgs},
            "pdesolve_time_to_deepxde_final_error_s": reached,
        }
        print(
            f"deepxde kovasznay (Adam {adam}, L-BFGS {lbfgs}): {target:.3e} in {theirs['seconds']:.1f} s; "
            f"pdesolve reached it after {reached} s",
            flush=True,
        )
    return out


CAVITY_VARIANTS = {
    "blend": {"corner_enrichment": False},  # the lid by the transfinite blend alone (before the corner flows)
    "corner": {},  # the defaults: the Stokes corner flows at both lid corners (pdesolve.pinn.corner)
    "corner-150": {"ngd_steps": 150},  # the same with 150 Gauss–Newton steps
}


def centrelines(evaluate: Any, line: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """u(0.5, y) and v(x, 0.5) at ``line``."""
    u = evaluate(np.column_stack([np.full_like(line, 0.5), line]))[:, 0]
    v = evaluate(np.column_stack([line, np.full_like(line, 0.5)]))[:, 1]
    return u, v


def cavity_part(args: argparse.Namespace) -> dict[str, Any]:
    """PINN variants on the cavity: Ghia deviations, and the deviation of both centrelines (401 points) from the
    finite elements' (``--fem-n``), with CPU and wall time and the load average around each run."""
    line = np.linspace(0.0, 1.0, 401)
    start = time.process_time()
    _, fem, wall = solve("cavity", {"n": args.fem_n})
    reference = centrelines(fem, line)
    out: dict[str, Any] = {"fem": {"n": args.fem_n, "seconds": wall, "cpu_s": time.process_time() - start}}
    print(f"fem n={args.fem_n}: {wall:.1f} s", flush=True)
    for name in args.cavity_variants.split(","):
        load = os.getloadavg()[0]
        start = time.process_time()
        row = run_pinn("cavity", dict(CAVITY_VARIANTS[name]), keep=True)
        row |= {"cpu_s": time.process_time() - start, "load_before": load, "load_after": os.getloadavg()[0]}
        ours = centrelines(row.pop("evaluate"), line)
        row["fem_max_deviation"] = [float(np.abs(a - b).max()) for a, b in zip(ours, reference)]
        row["fem_rel_l2_deviation"] = [
            float(np.linalg.norm(a - b) / np.linalg.norm(b)) for a, b in zip(ours, reference)
        ]
        out[name] = row
        ghia = {k: q["max_abs_deviation"] for k, q in row["quantities"].items()}
        print(
            f"cavity {name}: Ghia max dev {ghia}; from FEM n={args.fem_n}: max {row['fem_max_deviation']}, "
            f"rel L2 {row['fem_rel_l2_deviation']}; {row['seconds']:.0f} s wall, {row['cpu_s']:.0f} s CPU, "
            f"load {load:.1f} → {row['load_after']:.1f}",
            flush=True,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="kovasznay,cavity,cylinder")
    parser.add_argument("--part", choices=("fem", "pinn", "cavity", "all"), default="fem")
    parser.add_argument("--quick", action="store_true", help="FEM: the two coarsest meshes; DeepXDE: Adam 2,000")
    parser.add_argument("--pinn-problems", default="kovasznay", help="PINN part: comma-separated problems")
    parser.add_argument("--pinn-budget", choices=tuple(PINN_BUDGETS), default="default")
    parser.add_argument("--no-deepxde", action="store_true", help="PINN part: pdesolve only")
    parser.add_argument("--cavity-variants", default="blend,corner", help="--part cavity: " + ",".join(CAVITY_VARIANTS))
    parser.add_argument("--fem-n", type=int, default=65, help="--part cavity: the finite elements' reference mesh")
    parser.add_argument("--out", default=None, help="JSON file for the figures")
    args = parser.parse_args()
    results: dict[str, Any] = {"device": f"CPU ({platform.processor() or platform.machine()})", "float": "float64"}
    if args.part in ("pinn", "all"):
        results["pinn"] = pinn_part(args)
        if args.out:
            write_json(args.out, results)
    if args.part == "cavity":
        results["cavity_pinn"] = cavity_part(args)
    for name in args.problems.split(",") if args.part in ("fem", "all") else []:
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
