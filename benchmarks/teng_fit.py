"""The cost of TENG's fit of u₀ in CPU seconds (fair on a shared machine), and its error on the 512² grid.

Runs the solver's own initial fit (``TengSolver._initial_state``: Adam, then Gauss–Newton on grids of
``init_points``, twice as many, … while they fit the sample points, then at the sample points;
:mod:`pdesolve.teng.levels`) on a problem's u₀ with the paper's network, and prints the CPU and wall seconds, the
grids it ran on with their iterations, the relative residual at the sample points and the relative L2 error on
the 512² grid. Any solver option through ``--set``. Run it from two trees to compare them (``PYTHONPATH=<tree>``):

    OMP_NUM_THREADS=1 python benchmarks/teng_fit.py --n-points 4096
    OMP_NUM_THREADS=1 python benchmarks/teng_fit.py --n-points 4096 --set init_points=0   # the sample points only
"""

from __future__ import annotations

import argparse
import time

import torch

from pdesolve.ngd import FlatModule
from pdesolve.problem import load_problem
from pdesolve.solvers import Settings
from pdesolve.solvers.base import coerce_option
from pdesolve.teng import TengSolver
from pdesolve.teng.fit import FitOptions, GaussNewtonFit
from pdesolve.teng.model import SampledModel
from pdesolve.teng.network import TengNetwork
from pdesolve.teng.solver import FIT_OPTIONS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", default="heat2d")
    parser.add_argument("--n-points", type=int, default=4096)
    parser.add_argument("--grid", type=int, default=512, help="the error is measured on this grid per axis")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any other teng option")
    args = parser.parse_args()
    problem = load_problem(args.problem)
    options = {}
    for item in args.set:
        key, _, text = item.partition("=")
        options[key] = coerce_option(TengSolver, key, text)
    solver = TengSolver(Settings(device="cpu", seed=0), n_points=args.n_points, **options)
    cfg = solver.config
    network = TengNetwork(*problem.domain.bounds, problem.periodic_axes, cfg.width, cfg.depth, solver._lift(problem))
    fn = FlatModule(network.reset_parameters(0).to(dtype=torch.float64))
    model = SampledModel(fn, problem, solver._points(problem, args.n_points, None), 1 << 20)
    fit_options = FitOptions(**{key: getattr(cfg, key) for key in FIT_OPTIONS}, rcond=cfg.rcond or None)
    fitter = GaussNewtonFit(model, fit_options, torch.Generator().manual_seed(0))
    start = time.process_time()
    state = solver._initial_state(problem, fitter, 0.005, {})
    cpu = time.process_time() - start
    lower, upper = problem.domain.bounds
    axes = [torch.linspace(float(a), float(b), args.grid + 1, dtype=torch.float64)[:-1] for a, b in zip(lower, upper)]
    grid = torch.stack([c.reshape(-1) for c in torch.meshgrid(*axes, indexing="ij")], dim=1)
    exact = solver._initial_values(problem, grid)
    with torch.no_grad():
        error = float((fn(state.theta, grid) - exact).norm() / exact.norm())
    stats = state.stats
    levels = ", ".join(f"{n} points: {k} iterations, {s:.1f} s" for n, k, s in stats["init_levels"])
    print(f"initial fit: {cpu:.1f} CPU s, {stats['init_seconds']:.1f} s wall; {levels}")
    print(f"relative residual at the {args.n_points} sample points {stats['init_residual']:.2e}")
    print(f"rel. L2 on {args.grid}²: {error:.2e}")


if __name__ == "__main__":
    main()
