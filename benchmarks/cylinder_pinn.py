"""The PINN on the DFG 2D-1 cylinder: C_D, C_L and Δp during training, and what the network can represent.

``train``: the ``pinn`` solver with ``--set``-style options; every ``--every`` Gauss–Newton steps (off the clock)
C_D, C_L, Δp (line integral, autograd normal derivatives), loss and CPU time go to the JSON file, and the model to
``OUT.pt``. ``--continuity-weight c`` multiplies the continuity row of the residual by c (a residual weight; the
flow it defines is the same).

``fit``: the same network and hard constraints fitted by L-BFGS to the finite-element solution (the problem's
default mesh) at 3,000 Sobol + 1,000 graded points, C_D of the fit every 250 iterations: whether the network can
represent the flow to the goal's accuracy at all, apart from how the PDE loss trains it.

``assess``: a trained model (``OUT.pt`` of a ``train`` run, rebuilt from ``OUT.json``'s options) against fresh
points: the mean squared residual per equation at ``--fresh`` random points, the flux ∫u dy between the walls
relative to the inflow's at x = 0.1, 0.35, 1, 2.2 (Gauss–Legendre, panels split at the cylinder),
the velocity's relative L2 error against the finite-element flow at 4,000 Sobol points (``--fem CACHE.npy``), and C_D,
C_L in the volume form with cut-offs reaching 0.07, 0.1, 0.15, 0.19 from the cylinder's centre (how far the
residual moves the force: the line integral and these agree for an exact solution).

    python benchmarks/cylinder_pinn.py train OUT.json --every 10 points_near=cylinder
    python benchmarks/cylinder_pinn.py fit OUT.json --width 32 --depth 3 --iterations 2000
    python benchmarks/cylinder_pinn.py assess OUT.json --fem /tmp/fem_velocity.npy
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import time

import numpy as np
import torch

import pdesolve as ps
from pdesolve.pinn.channel import channel_layout, section_flux
from pdesolve.pinn.graded import near_part
from pdesolve.pinn.losses import pde_residual
from pdesolve.pinn.model import build_model
from pdesolve.pinn.solution import PinnSolution
from pdesolve.pinn.solver import PinnSolver
from pdesolve.problem import load_problem
from pdesolve.problem.flow import navier_stokes
from pdesolve.problem.quantities import line_integral_force
from pdesolve.report.quantities import measure_quantities
from pdesolve.solvers.base import Settings, coerce_option

COEFFICIENT = 500.0  # 2 / (Ū² D), Ū = 0.2, D = 0.1


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def weighted_continuity(problem, weight: float):
    """``problem`` with its continuity row times ``weight``."""

    def residual(U, x, p):
        rows = navier_stokes(U, p.nu)
        return {"momentum": rows["momentum"], "continuity": weight * rows["continuity"]}

    return problem if weight == 1 else dataclasses.replace(problem, residual=residual)


def train(out: str, every: int, weight: float, options: list[str]) -> None:
    problem = weighted_continuity(load_problem("cylinder"), weight)
    given = {key: coerce_option(PinnSolver, key, value) for key, value in (o.split("=", 1) for o in options)}
    log: list[dict] = []

    def record(trainer) -> None:
        measured = measure_quantities(problem, PinnSolution(problem, trainer.model))
        trainer.model.train()
        row = {"step": trainer.global_step, "cpu_s": cpu_seconds(), "loss": trainer.history[-1]}
        row |= {key: measured[key]["value"] for key in ("C_D", "C_L", "dp")}
        log.append(row)
        print(json.dumps(row), flush=True)
        with open(out, "w") as handle:
            json.dump({"options": options, "continuity_weight": weight, "log": log}, handle, indent=1)
        torch.save(trainer.model.state_dict(), out.removesuffix(".json") + ".pt")

    trainer = PinnSolver(Settings(progress=False), **given).build(problem, record, every)
    trainer.run()
    if not log or log[-1]["step"] != trainer.global_step:
        record(trainer)


def fit(out: str, width: int, depth: int, iterations: int) -> None:
    problem = load_problem("cylinder")
    fem = ps.solve(problem, "classical", progress=False)
    points = np.concatenate(
        [problem.domain.sample_interior(3000, seed=1, method="Sobol"), near_part(problem, "cylinder", 1000, 5)]
    )
    x = torch.as_tensor(points)
    y = torch.as_tensor(np.asarray(fem.solution(points)))
    scale = y.std(dim=0)
    model = build_model(problem, width=width, depth=depth, seed=0).double()
    optimizer = torch.optim.LBFGS(
        model.parameters(), max_iter=250, history_size=50, line_search_fn="strong_wolfe", tolerance_grad=0
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = (((model(x) - y) / scale) ** 2).mean()
        loss.backward()
        return loss

    log, start = [], cpu_seconds()
    for k in range(iterations // 250):
        loss = float(optimizer.step(closure))
        with torch.no_grad():
            values = model(x)
        errors = [float(torch.linalg.norm(values[:, j] - y[:, j]) / torch.linalg.norm(y[:, j])) for j in (0, 1)]
        force = COEFFICIENT * line_integral_force(PinnSolution(problem, model), "cylinder", problem.params["nu"])
        model.train()
        row = {"iterations": 250 * (k + 1), "fit": loss, "u_rel_l2": errors[0], "v_rel_l2": errors[1]}
        row |= {"C_D": float(force[0]), "C_L": float(force[1]), "cpu_s": cpu_seconds() - start}
        log.append(row)
        print(json.dumps(row), flush=True)
    with open(out, "w") as handle:
        json.dump({"width": width, "depth": depth, "log": log}, handle, indent=1)


def flux_ratio(model: torch.nn.Module, problem, x: float) -> float:
    """∫u(x, y) dy over the fluid (``section_flux``), relative to the inflow's 2/3 · 0.3 · 0.41."""
    return section_flux(model, channel_layout(problem), x) / (2 / 3 * 0.3 * 0.41)


def cutoff(s: torch.Tensor) -> torch.Tensor:
    """1 at s ≤ 0, 0 at s ≥ 1, C^∞ between."""
    s = s.clamp(1e-12, 1 - 1e-12)
    rising, falling = torch.exp(-1 / s), torch.exp(-1 / (1 - s))
    return falling / (rising + falling)


def volume_force(model: torch.nn.Module, nu: float, reach: float) -> list[float]:
    """C_D, C_L in the volume (reaction) form, −∫ [(w·∇)w·V + ν ∇w : ∇V − p ∇·V] dx with V = χ e_k, χ = 1 on the
    cylinder falling to 0 at ``reach`` from its centre (Gauss–Legendre 48 in r, 256 angles); it equals the line
    integral for an exact solution and differs from it by ∫ residual · V for a network."""
    radius, centre = 0.05, torch.tensor([0.2, 0.2], dtype=torch.float64)
    nodes, weights = np.polynomial.legendre.leggauss(48)
    r = radius + (reach - radius) * (nodes + 1) / 2
    angles = np.arange(256) * 2 * np.pi / 256
    rr, aa = (a.ravel() for a in np.meshgrid(r, angles, indexing="ij"))
    w = torch.as_tensor(np.repeat(weights * (reach - radius) / 2, 256) * rr * 2 * np.pi / 256)
    x = (centre + torch.as_tensor(np.column_stack([rr * np.cos(aa), rr * np.sin(aa)]))).requires_grad_(True)
    u, v, p = model(x).unbind(dim=1)
    grad_u, grad_v = (torch.autograd.grad(f.sum(), x, retain_graph=True)[0] for f in (u, v))
    chi = cutoff(((x - centre).norm(dim=1) - radius) / (reach - radius))
    (grad_chi,) = torch.autograd.grad(chi.sum(), x)
    forces = []
    for k, grad in enumerate((grad_u, grad_v)):
        convection = u * grad[:, 0] + v * grad[:, 1]
        integrand = convection * chi.detach() + nu * (grad * grad_chi).sum(dim=1) - p * grad_chi[:, k]
        forces.append(-COEFFICIENT * float((w * integrand).sum()))
    return forces


def fem_velocity(problem, grid: np.ndarray, cache: str) -> np.ndarray:
    """The finite-element (u, v) at ``grid``, kept in the file ``cache`` (.npy) once solved."""
    try:
        return np.load(cache)
    except FileNotFoundError:
        values = np.asarray(ps.solve(problem, "classical", progress=False).solution(grid))[:, :2]
        np.save(cache, values)
        return values


def assess(out: str, fresh: int, fem: str) -> None:
    with open(out) as handle:
        record = json.load(handle)
    problem = load_problem("cylinder")
    given = {k: coerce_option(PinnSolver, k, v) for k, v in (o.split("=", 1) for o in record["options"])}
    model = PinnSolver(Settings(progress=False), **given).build(problem).model
    model.load_state_dict(torch.load(out.removesuffix(".json") + ".pt"))
    points = torch.as_tensor(problem.domain.sample_interior(fresh, seed=12345, method="pseudo"))
    residual = pde_residual(model, problem, points).detach()
    row = {"fresh_points": fresh, "fresh_mse": [float(m) for m in residual.square().mean(dim=0)]}
    row["flux"] = {x: flux_ratio(model, problem, x) for x in (0.1, 0.35, 1.0, 2.2)}
    row["volume_C_D_C_L"] = {
        reach: volume_force(model, problem.params["nu"], reach) for reach in (0.07, 0.1, 0.15, 0.19)
    }
    if fem:
        grid = problem.domain.sample_interior(4000, seed=1, method="Sobol")
        exact = fem_velocity(problem, grid, fem)
        with torch.no_grad():
            values = model(torch.as_tensor(grid)).numpy()
        row["rel_l2_uv"] = [
            float(np.linalg.norm(values[:, j] - exact[:, j]) / np.linalg.norm(exact[:, j])) for j in (0, 1)
        ]
    print(json.dumps(row), flush=True)
    record["assess"] = row
    with open(out, "w") as handle:
        json.dump(record, handle, indent=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("train", "fit", "assess"))
    parser.add_argument("out")
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--continuity-weight", type=float, default=1.0)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--fresh", type=int, default=4000, help="assess: fresh random points")
    parser.add_argument("--fem", default="", help="assess: a .npy file caching the FEM flow's velocity (solved once)")
    parser.add_argument("options", nargs="*", help="pinn options key=value (train)")
    args = parser.parse_intermixed_args()
    started = time.time()
    if args.mode == "train":
        train(args.out, args.every, args.continuity_weight, args.options)
    elif args.mode == "fit":
        fit(args.out, args.width, args.depth, args.iterations)
    else:
        assess(args.out, args.fresh, args.fem)
    print(f"wall {time.time() - started:.0f} s, cpu {cpu_seconds():.0f} s")


if __name__ == "__main__":
    main()
