"""pdesolve's PINN against DeepXDE on the same problem, network and step budget, in one run.

Cases (the problems come from the catalogue, ``problems/*.py``):

- ``burgers1d`` against ``burgers_raissi.npz`` (DeepXDE's Burgers example);
- ``poisson_lshape`` against ``poisson_lshape_fem.npz`` (corner-graded P3, ``problems/data/README.md``) and
  against a fine finite-difference solve;
  float64 on both sides (DeepXDE's float32 polygon sampling hands float64 points to a float32 net);
- ``allen_cahn1d`` against the Fourier-spectral ETDRK4 solve;
- ``poisson2d_ngd``: energy natural gradient, [2, 32, 1] tanh, 30 × 30 interior points, float64
  (DeepXDE, which has no natural gradient, runs Adam → L-BFGS on the same network for comparison).

pdesolve runs damped Gauss–Newton (``pdesolve.pinn.gauss_newton``) in float64 on every case: from the
random start, with hard constraints, and on the evolution problems with RAD point redraws every 10 steps.

DeepXDE is driven through its public API as in its own examples (soft constraints, Adam then L-BFGS
with its own defaults except the iteration budget). Both sides record (wall time, error) during
training, evaluation time excluded. Reported: relative L2, wall time, and each side's time to reach
DeepXDE's final error. ``--quick`` runs small budgets on the CPU in about two minutes.

    python benchmarks/pinn_vs_deepxde.py --device cuda --out pinn_vs_deepxde.json
    python benchmarks/pinn_vs_deepxde.py --quick
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

os.environ.setdefault("DDE_BACKEND", "pytorch")


@dataclass
class Case:
    """One comparison: the problem, DeepXDE's network and budget, and pdesolve's options.

    With ``ngd`` > 0 pdesolve runs damped Gauss–Newton (``ngd`` steps, no Adam/L-BFGS unless ``pinn``
    asks); ``pinn`` overrides any option of pdesolve's side (network, width, points, ``dtype``).
    """

    problem: str
    width: int
    depth: int
    adam: int
    lbfgs: int
    n_interior: int
    n_boundary: int
    n_initial: int = 0
    ngd: int = 0
    pinn: dict[str, Any] = field(default_factory=dict)
    dtype: str = "float32"
    every: int = 100


# Gauss–Newton on evolution problems: float64, from the random start, points redrawn by RAD every 10 steps
GN_EVOLUTION = {"dtype": "float64", "ngd_damping": 1e-3, "ngd_refresh_every": 10, "rad": True}
# Burgers: 4 x 24 tanh (1849 parameters) on 8000 RAD points drawn from 25 candidates each, 300 steps (CPU, one
# thread, 640-1000 s with another run beside it: seeds 0 / 1 / 2 / 3 reach 4.0e-5 / 6.1e-5 / 3.8e-5 / 4.0e-5). On
# 4000 points and 260 steps (about 270 s) seed 3 stayed at 1.0-2.5e-4 over the last 50 steps, each redraw moving it
# 2x; with 4 candidates per point a redraw moved the error 2-4x; 3 x 20 stays at 1.5-6e-4
# its first 40 steps on 1/8 of the points (``ngd_warmup``): 3.6e-2 after 9 s instead of > 99 s (0.10 after 40
# full steps), same CPU, two threads
GN_BURGERS = {**GN_EVOLUTION, "width": 24, "depth": 4, "n_interior": 8000, "ngd_warmup": 40}
# Allen-Cahn: 10 time windows, each Gauss-Newton from the previous window's network (hard initial condition from its
# end), x through 4 harmonics, 1000 RAD points; ``ngd`` counts steps PER WINDOW (CPU, one thread: 50 steps 1.4e-3 in
# 170 s, 75 steps 2.6e-4 in 277 s; 100 steps 5.6e-5 up to t = 0.8 in 340 s)
AC_MARCHING = {
    **GN_EVOLUTION,
    "time_windows": 10,
    "periodic_modes": 4,
    "width": 20,
    "depth": 3,
    "n_interior": 1000,
    "rad_candidates": 4,  # pdesolve compare allen_cahn1d: 2.6e-4 with 4, 7.0e-4 with 25
}
# the paper setup of Müller & Zeinhofer (2023): soft boundary loss, grid points, undamped ENGD
ENGD_PAPER = {"sampling": "uniform", "hard_constraints": False, "ngd_damping": 0.0}

FULL = {
    "burgers1d": Case("burgers1d", 32, 4, 10000, 10000, 8000, 400, 400, ngd=300, pinn=GN_BURGERS, every=10),
    "poisson_lshape": Case(
        "poisson_lshape", 50, 4, 10000, 10000, 4000, 400, ngd=500, pinn={"width": 32, "depth": 3}, dtype="float64"
    ),
    "allen_cahn1d": Case("allen_cahn1d", 64, 4, 20000, 10000, 8000, 400, 400, ngd=100, pinn=AC_MARCHING, every=10),
    "poisson2d_ngd": Case("poisson2d", 32, 1, 10000, 10000, 900, 120, ngd=1000, pinn=ENGD_PAPER, dtype="float64"),
}
QUICK = {
    "burgers1d": Case(
        "burgers1d", 20, 3, 300, 100, 1000, 100, 100, ngd=60, pinn={**GN_EVOLUTION, "n_interior": 2000}, every=10
    ),
    "poisson_lshape": Case(
        "poisson_lshape", 20, 3, 300, 100, 500, 100, ngd=50, pinn={"width": 24, "depth": 2}, dtype="float64", every=10
    ),
    "allen_cahn1d": Case(
        "allen_cahn1d",
        20,
        3,
        300,
        100,
        1000,
        100,
        100,
        ngd=20,
        pinn={**AC_MARCHING, "time_windows": 4, "n_interior": 500},
        every=10,
    ),
    "poisson2d_ngd": Case("poisson2d", 32, 1, 150, 100, 900, 120, ngd=60, pinn=ENGD_PAPER, dtype="float64", every=5),
}

# a CPU-sized run (an hour or more on two cores: DeepXDE's L-BFGS dominates): DeepXDE's own example networks and
# point counts where it has one (Burgers: 3 × 20, 2540 + 80 + 160 points, Adam then L-BFGS); pdesolve's
# Gauss–Newton on its own best settings (``pinn``), which for Burgers is 4 × 24
CPU = {
    "burgers1d": Case("burgers1d", 20, 3, 15000, 15000, 2540, 80, 160, ngd=300, pinn=GN_BURGERS, every=10),
    "poisson_lshape": Case(
        "poisson_lshape",
        50,
        4,
        10000,
        5000,
        1200,
        120,
        ngd=200,
        pinn={"width": 32, "depth": 3},
        dtype="float64",
        every=10,
    ),
    "allen_cahn1d": Case(
        "allen_cahn1d",
        20,
        3,
        15000,
        10000,
        4000,
        100,
        200,
        ngd=75,
        pinn=AC_MARCHING,
        every=10,
    ),
    "poisson2d_ngd": Case(
        "poisson2d", 32, 1, 10000, 10000, 900, 120, ngd=200, pinn=ENGD_PAPER, dtype="float64", every=5
    ),
}
BUDGETS = {"quick": QUICK, "cpu": CPU, "full": FULL}


def relative_l2(values: np.ndarray, reference: np.ndarray) -> float:
    return float(np.linalg.norm(values.ravel() - reference) / np.linalg.norm(reference))


class Curve:
    """(seconds of training, error) pairs with the evaluation time taken off the clock."""

    def __init__(self, evaluate, references: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        self.evaluate, self.references = evaluate, references
        self.points: list[tuple[float, dict[str, float]]] = []
        self.start = time.perf_counter()
        self.paused = 0.0

    def record(self) -> None:
        now = time.perf_counter()
        errors = {name: relative_l2(self.evaluate(x), u) for name, (x, u) in self.references.items()}
        self.points.append((now - self.start - self.paused, errors))
        self.paused += time.perf_counter() - now

    def time_to(self, target: float, key: str) -> float | None:
        for seconds, errors in self.points:
            if errors[key] <= target:
                return seconds
        return None


def references(problem, quick: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The data (when the problem has a file or an exact solution) and, where useful, a classical solve."""
    from pdesolve.solvers import available
    from pdesolve.solvers.base import SOLVERS, Settings

    out = {}
    data = problem.reference_set()
    if data is not None:
        out["data" if problem.reference is not None else "exact"] = data
    classical = {"poisson_lshape": ("fd", {"n": 129 if quick else 513}), "allen_cahn1d": ("spectral", {"n": 512})}
    if problem.name in classical:
        available.load_all()
        name, options = classical[problem.name]
        solution = SOLVERS[name](Settings(dtype="float64"), **options).solve(problem)
        points = data[0] if data is not None else problem.test_points()
        out[name] = (points, np.asarray(solution(points), dtype=float))
    return out


def run_pdesolve(case: Case, problem, refs, device: str, seed: int) -> dict[str, Any]:
    from pdesolve.pinn.solver import PinnSolver
    from pdesolve.solvers.base import Settings

    options = {
        "width": case.width,
        "depth": case.depth,
        "adam_steps": 0 if case.ngd else case.adam,  # Gauss–Newton alone; adam/lbfgs are DeepXDE's budget
        "lbfgs_steps": 0 if case.ngd else case.lbfgs,
        "ngd_steps": case.ngd,
        "n_interior": case.n_interior,
        "n_boundary": case.n_boundary,
        "n_initial": case.n_initial,
        **case.pinn,
    }
    dtype = options.pop("dtype", case.dtype)
    solver = PinnSolver(Settings(device=device, dtype=dtype, seed=seed), preset="manual", **options)
    holder: dict[str, Any] = {}

    def evaluate(x: np.ndarray) -> np.ndarray:
        model = holder["trainer"].model
        with torch.no_grad():
            return model(torch.as_tensor(x, dtype=next(model.parameters()).dtype, device=device)).cpu().numpy()

    curve = Curve(evaluate, refs)
    trainer = solver.build(problem, lambda t: curve.record(), case.every)
    holder["trainer"] = trainer
    curve.start = time.perf_counter()
    stats = trainer.run()
    curve.record()
    return {"options": {**options, "dtype": dtype}, "stats": stats, "curve": curve}


def deepxde_problem(name: str, dde, problem):
    """geometry, pde, conditions and output transform (or None), written as in DeepXDE's examples."""
    transform = None
    if name == "burgers1d":
        geom = dde.geometry.GeometryXTime(dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, 0.99))

        def pde(x, y):
            dy_x = dde.grad.jacobian(y, x, i=0, j=0)
            dy_t = dde.grad.jacobian(y, x, i=0, j=1)
            dy_xx = dde.grad.hessian(y, x, i=0, j=0)
            return dy_t + y * dy_x - 0.01 / np.pi * dy_xx

        conditions = [
            dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on_boundary: on_boundary),
            dde.icbc.IC(geom, lambda x: -np.sin(np.pi * x[:, 0:1]), lambda _, on_initial: on_initial),
        ]
    elif name == "allen_cahn1d":
        geom = dde.geometry.GeometryXTime(dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, 1))
        eps = problem.params["eps"]

        def pde(x, y):
            dy_t = dde.grad.jacobian(y, x, i=0, j=1)
            dy_xx = dde.grad.hessian(y, x, i=0, j=0)
            return dy_t - eps * dy_xx - 5 * (y - y**3)

        def on_boundary(x, on_boundary):
            return on_boundary and not np.isclose(x[1], 0)

        conditions = [
            dde.icbc.PeriodicBC(geom, 0, on_boundary, derivative_order=0),
            dde.icbc.PeriodicBC(geom, 0, on_boundary, derivative_order=1),
        ]

        def transform(x, y):  # the initial condition built in, as in DeepXDE's Allen-Cahn example
            return x[:, 0:1] ** 2 * torch.cos(np.pi * x[:, 0:1]) + x[:, 1:2] * y

    elif name == "poisson_lshape":
        geom = dde.geometry.Polygon([[0, 0], [1, 0], [1, -1], [-1, -1], [-1, 1], [0, 1]])

        def pde(x, y):
            return -dde.grad.hessian(y, x, i=0, j=0) - dde.grad.hessian(y, x, i=1, j=1) - 1

        conditions = [dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on_boundary: on_boundary)]
    else:  # poisson2d
        geom = dde.geometry.Rectangle([0, 0], [1, 1])

        def pde(x, y):
            laplace = dde.grad.hessian(y, x, i=0, j=0) + dde.grad.hessian(y, x, i=1, j=1)
            return -laplace - 2 * np.pi**2 * torch.sin(np.pi * x[:, 0:1]) * torch.sin(np.pi * x[:, 1:2])

        conditions = [dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on_boundary: on_boundary)]
    return geom, pde, conditions, transform


def run_deepxde(case: Case, problem, refs, seed: int) -> dict[str, Any]:
    import deepxde as dde

    dde.config.set_default_float(case.dtype)
    dde.config.set_random_seed(seed)
    geom, pde, conditions, transform = deepxde_problem(case.problem, dde, problem)
    if problem.is_evolution:
        data = dde.data.TimePDE(
            geom, pde, conditions, num_domain=case.n_interior, num_boundary=case.n_boundary, num_initial=case.n_initial
        )
    else:
        data = dde.data.PDE(geom, pde, conditions, num_domain=case.n_interior, num_boundary=case.n_boundary)
    n_in = problem.dim + (1 if problem.is_evolution else 0)
    net = dde.nn.FNN([n_in] + [case.width] * case.depth + [1], "tanh", "Glorot normal")
    if transform is not None:
        net.apply_output_transform(transform)
    model = dde.Model(data, net)
    curve = Curve(lambda x: model.predict(x), refs)

    class Record(dde.callbacks.Callback):
        def on_epoch_end(self) -> None:
            if model.train_state.step % case.every == 0:
                curve.record()

    adam = case.adam
    curve.start = time.perf_counter()
    model.compile("adam", lr=1e-3)
    model.train(iterations=adam, callbacks=[Record()], display_every=10**9, verbose=0)
    steps = {"adam": adam}
    lbfgs = case.lbfgs
    if lbfgs:
        dde.optimizers.config.set_LBFGS_options(maxiter=lbfgs)
        # the PyTorch backend runs `iter_per_step` (set once at import: 1000) iterations between checks of
        # maxiter; without this the budget is rounded up to 1000 and the error curve has one point
        per_step = min(case.every, lbfgs)
        dde.optimizers.config.LBFGS_options.update(iter_per_step=per_step, fun_per_step=int(1.25 * per_step))
        model.compile("L-BFGS")
        before = model.train_state.step
        model.train(callbacks=[Record()], display_every=10**9, verbose=0)
        steps["lbfgs"] = model.train_state.step - before
    curve.record()
    return {"steps": steps, "curve": curve}


def summarize(name: str, case: Case, ours: dict, theirs: dict, refs: dict) -> dict[str, Any]:
    key = next(iter(refs))
    final_ours, final_theirs = ours["curve"].points[-1], theirs["curve"].points[-1]
    target = final_theirs[1][key]
    return {
        "case": name,
        "problem": case.problem,
        "network": f"{case.depth}x{case.width} tanh (pdesolve: {ours['options']['depth']}x{ours['options']['width']} "
        f"{ours['options'].get('network', 'mlp')})",
        "budget": {"adam": case.adam, "lbfgs": case.lbfgs, "ngd": case.ngd},
        "dtype": case.dtype,
        "error_against": list(refs),
        "pdesolve": {
            "errors": final_ours[1],
            "wall_time_s": final_ours[0],
            "steps": ours["stats"]["steps"],
            "options": ours["options"],
            "time_to_deepxde_final_error_s": ours["curve"].time_to(target, key),
        },
        "deepxde": {
            "errors": final_theirs[1],
            "wall_time_s": final_theirs[0],
            "steps": theirs["steps"],
            "time_to_own_final_error_s": theirs["curve"].time_to(target, key),
        },
    }


def write_record(path: str, device: str, budget: str, results: list[dict]) -> None:
    """The JSON of the cases run so far, written atomically."""
    from pdesolve.io.run_folder import write_json

    record = {"device": device, "torch": torch.__version__, "budget": budget, "results": results}
    if torch.cuda.is_available() and device.startswith("cuda"):
        record["gpu"] = torch.cuda.get_device_name()
    write_json(path, record)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small budgets, CPU, about two minutes")
    parser.add_argument("--budget", choices=tuple(BUDGETS), help="quick | cpu (about half an hour) | full (GPU)")
    parser.add_argument("--cases", default="all", help="comma-separated: " + ",".join(FULL))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    from pdesolve.problem import load_problem

    budget = args.budget or ("quick" if args.quick else "full")
    table = BUDGETS[budget]
    names = list(table) if args.cases == "all" else args.cases.split(",")
    device = "cpu" if args.quick else args.device
    if device == "cpu":
        torch.set_default_device("cpu")
    problems = {name: load_problem(table[name].problem) for name in names}
    missing = [name for name, problem in problems.items() if problem.reference and not problem.reference.available()]
    if missing:  # before any case runs, not after the first one's minutes of training
        parser.error(f"reference data of {', '.join(missing)} not found: set PDESOLVE_DATA to the data folder")
    results = []
    for name, problem in problems.items():
        case = table[name]
        refs = references(problem, args.quick)
        ours = run_pdesolve(case, problem, refs, device, args.seed)
        seconds, errors = ours["curve"].points[-1]
        print(f"{name}: pdesolve {errors} in {seconds:.1f} s; DeepXDE next", flush=True)  # kept if DeepXDE is cut
        theirs = run_deepxde(case, problem, refs, args.seed)
        results.append(summarize(name, case, ours, theirs, refs))
        r = results[-1]
        print(
            f"{name}: pdesolve {r['pdesolve']['errors']} in {r['pdesolve']['wall_time_s']:.1f} s "
            f"(reached DeepXDE's final error after {r['pdesolve']['time_to_deepxde_final_error_s']} s); "
            f"DeepXDE {r['deepxde']['errors']} in {r['deepxde']['wall_time_s']:.1f} s",
            flush=True,
        )
        if args.out:  # after every case, so a run cut short keeps what it measured
            write_record(args.out, device, budget, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
