"""The cost of TENG's fit of u₀ per Gauss–Newton iteration, in CPU seconds (fair on a shared machine).

Runs :func:`pdesolve.teng.fit.fit_initial` with the solver's initial-fit options on heat2d's u₀ (the paper's
network), on a coarse grid of ``--coarse`` points first (to ``COARSE_TOL_FACTOR × tol``) when that is smaller
than ``--n-points``, then at the ``--n-points`` sample points from the damping the coarse fit reached (what
the solver does with ``init_points``), and prints per phase the iterations, solves and CPU seconds per iteration, the residual at
the points and the relative L2 on the 512² grid. Run it from two trees to compare them (``PYTHONPATH=<tree>``):

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
from pdesolve.teng.solver import COARSE_TOL_FACTOR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", default="heat2d")
    parser.add_argument("--n-points", type=int, default=4096)
    parser.add_argument("--coarse", type=int, default=0, help="fit on this many grid points first (0: none)")
    parser.add_argument("--adam", type=int, default=100)
    parser.add_argument("--iterations", type=int, default=4, help="Gauss–Newton iterations (of the coarse phase)")
    parser.add_argument("--fine-iterations", type=int, default=None, help="those at the sample points (default same)")
    parser.add_argument("--tol", type=float, default=None, help="stop at this relative residual (default init_tol)")
    parser.add_argument("--history", action="store_true", help="print the residual after every iteration")
    args = parser.parse_args()
    problem = load_problem(args.problem)
    solver = TengSolver(Settings(device="cpu", seed=0))
    cfg = solver.config
    network = TengNetwork(*problem.domain.bounds, problem.periodic_axes, cfg.width, cfg.depth)
    fn = FlatModule(network.reset_parameters(0).to(dtype=torch.float64))
    tol = cfg.init_tol if args.tol is None else args.tol
    options = replace(fit.FitOptions(), tol=tol, param_subset=0, param_subset_later=0, geodesic=1.5, mu=cfg.init_mu)
    sizes = [args.coarse, args.n_points] if 0 < args.coarse < args.n_points else [args.n_points]
    theta, info = fn.theta0, None
    for level, n in enumerate(sizes):
        points = solver._points(problem, n, None)
        model = SampledModel(fn, problem, points, 1 << 20)
        target = solver._initial_values(problem, points)
        start = time.process_time()
        if level == 0:
            first = replace(options, tol=COARSE_TOL_FACTOR * tol) if len(sizes) > 1 else options
            fitter = fit.GaussNewtonFit(model, first, torch.Generator().manual_seed(0))
            theta = fit.adam_warm_start(fitter, theta, target, args.adam, cfg.init_lr)
            adam = time.process_time() - start
            theta, info = fit.fit_initial(fitter, theta, target, 0, cfg.init_lr, args.iterations)
        else:
            fitter = fit.GaussNewtonFit(model, replace(options, mu=info.damping), torch.Generator().manual_seed(0))
            theta, info = fitter.fit(theta, target, args.fine_iterations or args.iterations)
        spent = time.process_time() - start - (adam if level == 0 else 0.0)
        if args.history:
            print("residuals:", " ".join(f"{value:.2e}" for value in info.residuals))
        warm = f"Adam {adam:.1f} CPU s; " if level == 0 else ""
        print(
            f"{n} points: {warm}{info.iterations} iterations, "
            f"{info.solves} solves, {spent:.1f} CPU s ({spent / max(info.iterations, 1):.2f} per iteration); "
            f"residual {info.final:.2e}"
        )
    g = torch.linspace(0, 2 * math.pi, 513, dtype=torch.float64)[:-1]
    grid = torch.stack([c.reshape(-1) for c in torch.meshgrid(g, g, indexing="ij")], dim=1)
    exact = solver._initial_values(problem, grid)
    with torch.no_grad():
        error = float((fn(theta, grid) - exact).norm() / exact.norm())
    print(f"rel. L2 on 512²: {error:.2e}")


if __name__ == "__main__":
    main()
