"""TENG on the paper's three 2D benchmarks: relative L2 error over time, wall time per step, peak memory,
for TENG-Euler and TENG-Heun, and the classical spectral solver's time to the same final error.

Chen et al., "TENG" (ICML 2024): heat (ν = 0.1, Δt = 0.005), Allen–Cahn (ν = 0.005, Δt = 0.005),
Burgers (ν = 0.01, Δt = 0.001) on [0, 2π)² periodic, u0 = 0.04 cosh(3 sin x) sinh(sin y), T = 4.
The error is measured on a 512² grid against the Fourier-spectral (ETDRK4) solution of the
``spectral`` solver, which is exact for the heat equation up to round-off.

    python benchmarks/teng.py --quick                      # CPU, seconds: tiny net, few steps
    python benchmarks/teng.py --device cuda --steps 40 --out teng.json
    python benchmarks/teng.py --device cuda --problems heat2d --final-time 4 --eval-every 100
    python benchmarks/teng.py --device cpu --problems heat2d --schemes heun --steps 10 --n-points 4096 \
        --paper /work/teng-paper --paper-python /work/venv-jax/bin/python    # side by side with the paper's code

``--steps`` / ``--final-time`` cut the run short so it fits a time budget; the error is evaluated
every ``--eval-every`` steps (and at the end). "Spectral to the same error": the ETDRK4 solver at the
paper's Δt on 8², 16², … grids, timed; the coarsest grid whose final error (at its nodes, against the
reference) is at most TENG's is the classical cost of that accuracy.

``--paper DIR``: also run the authors' public code (github.com/RichardSun1999/teng; a copy outside this
project, with JAX in its own environment given by ``--paper-python``) at the same points, time step and
step count, from its shipped pre-fitted initial state. Its error is measured by its own routine against
the same spectral reference, written as the Fourier coefficients it reads (``T_<t>.npy``).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from pdesolve.classical.spectral import SpectralSolver
from pdesolve.io.run_folder import write_json
from pdesolve.problem import load_problem
from pdesolve.report.memory import PeakMemory
from pdesolve.solvers import Settings
from pdesolve.solvers.base import coerce_option
from pdesolve.teng import TengSolver

PROBLEMS = ("heat2d", "allen_cahn2d", "burgers2d")
PAPER_DT = {"heat2d": 0.005, "allen_cahn2d": 0.005, "burgers2d": 0.001}
QUICK = {"width": 10, "depth": 2, "n_points": 1024, "init_adam_steps": 300, "init_iterations": 30}


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CPU smoke run: tiny network, 3 steps, 64² reference")
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--schemes", default="euler,heun", help="comma-separated: euler, heun")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: up to --final-time)")
    parser.add_argument("--final-time", type=float, default=4.0)
    parser.add_argument("--eval-every", type=int, default=0, help="steps between error evaluations (0: ~10 per run)")
    parser.add_argument("--reference-n", type=int, default=512, help="grid of the spectral reference and the error")
    parser.add_argument("--n-points", type=int, default=65536)
    parser.add_argument("--width", type=int, default=40)
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--lstsq", default="cholesky", choices=("cholesky", "svd", "qr", "cg"))
    parser.add_argument("--param-subset", type=int, default=1536)
    parser.add_argument("--param-subset-later", type=int, default=1024)
    parser.add_argument("--memory-gb", type=float, default=8.0, help="bound on one block of Jacobian rows")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any other teng option")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--checkpoint",
        help="checkpoint prefix: every run saves to PREFIX-<problem>-<scheme>.pt every 100 steps and resumes from "
        "that file when it exists, so one command repeated continues a run cut by a time limit",
    )
    parser.add_argument("--paper", help="a copy of the paper's code (github.com/RichardSun1999/teng) to run alongside")
    parser.add_argument("--paper-python", default="python3", help="a Python with JAX, flax and optax for --paper")
    parser.add_argument("--out", help="write the results as JSON here (after every problem)")
    return parser.parse_args()


def teng_options(args: argparse.Namespace, scheme: str) -> dict:
    options = {
        "scheme": scheme,
        "n_points": args.n_points,
        "width": args.width,
        "depth": args.depth,
        "lstsq": args.lstsq,
        "param_subset": args.param_subset,
        "param_subset_later": args.param_subset_later,
        "memory_gb": args.memory_gb,
    }
    if args.quick:
        options |= QUICK
    for item in args.set:
        key, _, text = item.partition("=")
        options[key] = coerce_option(TengSolver, key, text)
    return options


def spectral_time_to_error(problem, reference, dt: float, settings: Settings) -> list[dict]:
    """Final error and wall time of the spectral solver on grids 8², 16², … up to the reference's."""
    rows = []
    n_reference = reference.grid.shape[0]
    exact = reference.values[-1]
    n = 8
    while n < n_reference:
        start = time.perf_counter()
        coarse = SpectralSolver(settings, n=n, dt=dt, outputs=1).solve(problem)
        seconds = time.perf_counter() - start
        at_nodes = exact[:: n_reference // n, :: n_reference // n]
        error = float(np.linalg.norm(coarse.values[-1] - at_nodes) / np.linalg.norm(at_nodes))
        rows.append({"n": n, "relative_l2": error, "seconds": seconds})
        n *= 2
    return rows


def teng_run(problem, reference, eval_steps: list[int], dt: float, args: argparse.Namespace, scheme: str) -> dict:
    """One TENG run: its error at the evaluation steps and its cost."""
    settings = Settings(device=args.device, seed=args.seed)
    options = teng_options(args, scheme)
    if args.checkpoint:
        path = Path(f"{args.checkpoint}-{problem.name}-{scheme}.pt")
        options |= {"checkpoint_every": 100, "checkpoint_path": str(path), "resume": str(path) if path.exists() else ""}
    start = time.perf_counter()
    with PeakMemory(args.device) as memory:
        solution = TengSolver(settings, dt=dt, **options).solve(problem)
    wall = time.perf_counter() - start
    points = reference.grid.points()
    errors = []
    start = time.perf_counter()
    for j, k in enumerate(eval_steps):
        exact = reference.values[j].ravel()
        approx = solution.network(k, points)
        errors.append(float(np.linalg.norm(approx - exact) / np.linalg.norm(exact)))
    evaluation = time.perf_counter() - start
    stats = solution.stats
    seconds = np.asarray(stats["step_seconds"])
    return {
        "scheme": scheme,
        "relative_l2": errors,
        "final_relative_l2": errors[-1],
        "init_residual": stats["init_residual"],
        "init_seconds": stats["init_seconds"],
        "init_levels": stats.get("init_levels", []),
        "seconds_per_step_mean": float(seconds.mean()),
        "seconds_per_step_median": float(np.median(seconds)),
        "seconds_total": float(seconds.sum()) + stats["init_seconds"],
        "time_split_s": {**stats["phase_seconds"], "evaluation": evaluation},
        "wall_seconds": wall,
        "solves_per_step_mean": float(np.mean(stats["step_solves"])),
        "max_step_residual": stats["max_step_residual"],
        "n_params": stats["n_params"],
        "n_points": stats["n_points"],
        "peak_cpu_bytes": memory.cpu_bytes,
        "peak_cuda_bytes": memory.cuda_bytes,
    }


def run_problem(name: str, args: argparse.Namespace) -> dict:
    base = load_problem(name)
    dt = PAPER_DT[name]
    steps = round(args.final_time / dt)
    if args.steps:
        steps = min(steps, args.steps)
    every = args.eval_every or max(1, steps // 10)
    outputs = max(1, steps // every)
    steps = min(steps, outputs * every)  # the error is evaluated at whole steps only
    problem = replace(base, time=(0.0, steps * dt))
    settings = Settings(device=args.device, seed=args.seed)

    start = time.perf_counter()
    reference_n = 64 if args.quick else args.reference_n
    eval_steps = [k * every for k in range(outputs + 1)]
    reference = SpectralSolver(settings, n=reference_n, dt=dt / 4, outputs=outputs).solve(problem)
    reference_seconds = time.perf_counter() - start

    runs = [teng_run(problem, reference, eval_steps, dt, args, scheme) for scheme in args.schemes.split(",")]
    spectral = spectral_time_to_error(problem, reference, dt, settings)
    for run in runs:
        enough = [row for row in spectral if row["relative_l2"] <= run["final_relative_l2"]]
        run["spectral_to_same_error"] = enough[0] if enough else None
    paper = paper_run(problem, steps, dt, settings, reference_n, args) if args.paper else None
    return {
        "problem": name,
        "nu": base.params["nu"],
        "dt": dt,
        "steps": steps,
        "final_time": steps * dt,
        "times": [k * dt for k in eval_steps],
        "runs": runs,
        "spectral": spectral,
        "reference": f"spectral ETDRK4 {reference_n}² (dt {dt / 4:g})",
        "reference_seconds": reference_seconds,
        "paper_code": paper,
    }


PAPER_EQUATION = {"heat2d": "heat", "allen_cahn2d": "alan_cahn", "burgers2d": "burgers"}
# Their shipped initial state was pickled by an older JAX whose arrays carry a ``named_shape`` that JAX 0.10
# no longer accepts: their script runs with that keyword dropped on unpickling (their code itself needs one
# edit, ``jnp.clip(..., a_min=, a_max=)`` -> ``min=, max=`` in src/operator/*.py).
PAPER_LAUNCHER = (
    "import sys, runpy, jax._src.core as core; update = core.ShapedArray.update; "
    "core.ShapedArray.update = lambda self, *a, **k: update(self, *a, **{n: v for n, v in k.items() "
    "if n != 'named_shape'}); sys.argv[0] = 'teng.py'; runpy.run_path('teng.py', run_name='__main__')"
)


def paper_run(problem, steps: int, dt: float, settings: Settings, reference_n: int, args) -> dict:
    """The authors' code on the same problem, points and steps (Heun, 12 solves per step, parameter subsets
    1,536 / 1,024, their pre-fitted initial state); its error from its own routine against our reference."""
    folder = Path(args.paper).resolve()
    reference = SpectralSolver(settings, n=reference_n, dt=dt / 4, outputs=steps).solve(problem)
    exact = folder / f"{PAPER_EQUATION[problem.name]}_equation_2d_spectral_fourier"
    exact.mkdir(exist_ok=True)
    for k, values in enumerate(reference.values):  # the layout their reader inverts: fftshift(fft2(u) / N²)
        np.save(exact / f"T_{round(k * dt, 10):g}.npy", np.fft.fftshift(np.fft.fft2(values, norm="forward")))
    name = f"pdesolve_{problem.name}_{int(time.time())}"
    command = [
        args.paper_python, "-c", PAPER_LAUNCHER, "--equation", PAPER_EQUATION[problem.name], "--D", str(problem.params["nu"]),
        "--dt", f"{dt:g}", "--nb_steps", str(steps), "--integrator", "heun", "--nb_samples", str(args.n_points),
        "--save_dir", name,
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, cwd=folder, check=True, env=os.environ | {"JAX_PLATFORMS": args.device.split(":")[0]})
    wall = time.perf_counter() - start
    log = (folder / "results" / name / "log.txt").read_text()
    errors = [float(x) for x in re.findall(r"err=\([^,]+, ([^)]+)\)", log)]
    training = [float(x) for x in re.findall(r"training_time=([0-9.e+-]+)", log)]
    return {
        "command": "teng.py " + " ".join(command[3:]),
        "relative_l2": errors,  # at T = 0, dt, 2 dt, ...
        "final_relative_l2": errors[-1],
        "seconds_per_step_mean": training[-1] / steps,
        "wall_seconds": wall,
        "initial_fit": "none: loads the shipped pre-fitted state",
    }


def main() -> None:
    args = parse()
    if args.quick:
        args.device, args.steps = "cpu", args.steps or 3
    results = []
    for name in args.problems.split(","):
        result = run_problem(name, args)
        results.append(result)
        for run in result["runs"]:
            same = run["spectral_to_same_error"]
            classical = f"spectral {same['n']}² {same['seconds']:.3f} s" if same else "spectral: no grid reached it"
            print(
                f"{name:14s} {run['scheme']:5s} steps {result['steps']:4d}  L2 {run['final_relative_l2']:.2e}  "
                f"{run['seconds_per_step_mean']:.3f} s/step  init {run['init_residual']:.1e} in "
                f"{run['init_seconds']:.1f} s  {classical}",
                flush=True,
            )
        paper = result["paper_code"]
        if paper:
            print(
                f"{name:14s} paper code  L2 {paper['final_relative_l2']:.2e} (T = 0: {paper['relative_l2'][0]:.1e})  "
                f"{paper['seconds_per_step_mean']:.3f} s/step  wall {paper['wall_seconds']:.0f} s",
                flush=True,
            )
        if args.out:
            write_report(args, results)


def write_report(args: argparse.Namespace, results: list[dict]) -> None:
    """The JSON report of the problems run so far, written atomically."""
    report = {
        "benchmark": "teng",
        "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor() or "cpu",
        "torch": torch.__version__,
        "options": vars(args),
        "teng_options": teng_options(args, "heun"),
        "results": results,
    }
    write_json(args.out, report)


if __name__ == "__main__":
    main()
