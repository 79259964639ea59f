"""The cost of TENG's fit of u₀ per least-squares solve, in CPU seconds (fair on a shared machine).

Runs :func:`pdesolve.teng.fit.fit_initial` with the solver's initial-fit options on heat2d's u₀ (the paper's
network) and prints Adam's and the Gauss–Newton phase's CPU time, the solves, the residual at the points
and the relative L2 on the 512² grid. Run it from two trees to compare them (``PYTHONPATH=<tree>``):

    OMP_NUM_THREADS=1 python benchmarks/teng_fit.py --n-points 4096 --adam 100 --iterations 4
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import replace

import torch

import pdesolve.teng.fit as fit
from pdesolve.ngd import FlatModule
from pdesolve.problem import load_problem
from pdesolve.solvers import Settings
from pdesolve.teng import TengSolver
from pdesolve.teng.model import SampledModel
from pdesolve.teng.network import TengNetwork


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", default="heat2d")
    parser.add_argument("--n-points", type=int, default=4096)
    parser.add_argument("--adam", type=int, default=100)
    parser.add_argument("--iterations", type=int, default=4)
    args = parser.parse_args()
    problem = load_problem(args.problem)
    solver = TengSolver(Settings(device="cpu", seed=0))
    cfg = solver.config
    network = TengNetwork(*problem.domain.bounds, problem.periodic_axes, cfg.width, cfg.depth)
    fn = FlatModule(network.reset_parameters(0).to(dtype=torch.float64))
    points = solver._points(problem, args.n_points, None)
    model = SampledModel(fn, problem, points, 1 << 20)
    target = solver._initial_values(problem, points)
    options = replace(
        fit.FitOptions(), tol=cfg.init_tol, param_subset=0, param_subset_later=0, geodesic=1.5, mu=cfg.init_mu
    )
    fitter = fit.GaussNewtonFit(model, options, torch.Generator().manual_seed(0))
    adam = fit.adam_warm_start
    spent = {}

    def timed(*a, **k):
        start = time.process_time()
        out = adam(*a, **k)
        spent["adam"] = time.process_time() - start
        return out

    fit.adam_warm_start = timed
    start = time.process_time()
    theta, info = fit.fit_initial(fitter, fn.theta0, target, args.adam, cfg.init_lr, args.iterations)
    rest = time.process_time() - start - spent["adam"]
    g = torch.linspace(0, 2 * math.pi, 513, dtype=torch.float64)[:-1]
    grid = torch.stack([c.reshape(-1) for c in torch.meshgrid(g, g, indexing="ij")], dim=1)
    exact = solver._initial_values(problem, grid)
    with torch.no_grad():
        error = float((fn(theta, grid) - exact).norm() / exact.norm())
    print(
        f"Adam {spent['adam']:.1f} CPU s; {info.iterations} iterations, {info.solves} solves, {rest:.1f} CPU s "
        f"({rest / max(info.solves, 1):.2f} per solve); residual {info.final:.2e}, rel. L2 on 512² {error:.2e}"
    )


if __name__ == "__main__":
    main()
