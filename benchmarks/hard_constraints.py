"""Hard constraints with mixture of experts (Chalapathi, Du & Krishnapriyan, ICLR 2024): soft vs one global
hard constraint vs MoE hard constraints, and the cost of the constraint against its number of points.

Cases (FNO backbones on the space-time grid, input = the initial condition repeated over time):

- ``diffusion_sorption1d`` (PDEBench's setup; u0 ~ U(0, 0.2), t ∈ [0, 500]); experts split in x. Its data
  come from the ``mol`` solver (second-order differences, its Robin outflow row, BDF at rtol 1e-8) on the same
  nodes and time levels; level 0 is u0 at every node. As in the paper's code, ``R(u)`` uses ``max(u, 0)``, so
  the residual stays defined for the slightly negative values a least-squares fit can take.
- ``navier_stokes2d`` (vorticity, periodic, ν = 1e-3) over a short window ``--ns-time``; data from the
  ``spectral`` solver; experts split 2 × 2 in x, y.

Reported per case and seed (data and model): test relative L2 (space-time) of soft / hard / MoE (one MoE run
per ``--overlaps`` value, ``--interfaces`` and one per ``--blends`` value: experts closed by interface rows on
overlapping subdomains, blended by a partition of unity; ``--only`` picks variants) after the same epochs, the
training time per epoch, and per number of constraint points (total over the experts; capped by the grid's
rows): training-step time, inference time and peak memory of hard and each MoE. One JSON file (``--out``).

    python benchmarks/hard_constraints.py --quick --out hc_quick.json        # CPU, under 2 minutes
    python benchmarks/hard_constraints.py --device cuda --out hc.json          # sized for ~10 min on one GPU
    # the seed study of RESULTS.md (CPU, one thread, about 10 minutes): physics-informed, 64 x 11
    OMP_NUM_THREADS=1 python benchmarks/hard_constraints.py --size study --cases ds --data-weights 0 \
        --seeds 0,1,2 --overlaps 0,0.5 --no-sweep --out hc_seeds.json
    # the blended mixture of experts alone, same study
    OMP_NUM_THREADS=1 python benchmarks/hard_constraints.py --size study --cases ds --data-weights 0 \
        --seeds 0,1,2 --no-sweep --blends 0.5 --only moe_blend_0.5 --out hc_seeds_blend.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from dataclasses import asdict, replace

import numpy as np
import torch

from pdesolve.classical.assembly import box_grid
from pdesolve.classical.mol import MethodOfLines
from pdesolve.classical.spectral import SpectralSolver
from pdesolve.constraints.grid_system import GridConstraintSystem
from pdesolve.constraints.time_rows import TIME_ROWS
from pdesolve.constraints.training import (
    ConstrainedOperator,
    ConstraintConfig,
    ConstraintData,
    train_hard_constrained,
)
from pdesolve.io.run_folder import write_json
from pdesolve.ngd import DampedGaussNewton, Multiplicative, ReducedSystem, Trial
from pdesolve.problem import Coords, Grid, Problem, d, load_problem
from pdesolve.report.memory import PeakMemory
from pdesolve.runtime import relative_l2, synchronize
from pdesolve.solvers import Settings

warnings.filterwarnings("ignore", message="Sparse")

FULL = {
    "ds": {"nx": 256, "levels": 51, "train": 48, "test": 12, "epochs": 15, "experts": 4},  # rows' floor 1.1 %
    "ns": {"n": 32, "levels": 11, "train": 32, "test": 8, "epochs": 10, "experts": (2, 2, 1)},
    # the cost sweep runs on the paper's grids (1024 x 101 and 64² x 11 hold 1e5 and 4.5e4 rows)
    "sweep": {
        "ds": {"grid": 1024, "levels": 101, "points": [100, 1000, 10_000, 100_000]},
        "ns": {"grid": 64, "levels": 11, "points": [100, 1000, 10_000]},
    },
}
# θ of the time rows: backward Euler for diffusion–sorption (diffusion numbers Δt D/(R h²) of 5–25 and an
# inflow value 1 against u0 ≤ 0.2: the field zeroing trapezoidal rows oscillates in time at the inlet; rows'
# floor at 64 × 11: 3.4 % against 6.3 %), the trapezoidal rule for the smooth periodic Navier–Stokes case
THETA = {"ds": 1.0, "ns": 0.5}
# as in the paper's code, every diffusion–sorption expert takes the global initial and boundary rows (physics-only
# at 64 × 11, 80 epochs, seed 0: MoE 0.21 from the data against 0.40 with each expert's own; 0.18-0.28 at seeds
# 0-2 in a later rerun, against 0.07-0.20 for the single constraint); Navier–Stokes experts
# keep their own part of the initial condition (periodic: no boundary rows). The cost: every ds expert then
# carries all nx initial and 2 (levels - 1) boundary rows on a whole-axis window (--quick CPU sweep: MoE step
# 0.43x of the single constraint against 0.81x with each expert's own rows). ConstraintConfig.overlap (not
# the paper's) is 0 unless --overlaps asks for more.
SHARED_CONDITIONS = {"ds": True, "ns": False}
# the blended MoE (RESULTS.md): each expert its own initial and boundary rows, closed by interface rows, blended
OWN_CONDITIONS = {"shared_conditions": False}
BLENDED = OWN_CONDITIONS | {"interfaces": True, "blend": True}
QUICK = {
    "ds": {"nx": 32, "levels": 6, "train": 8, "test": 4, "epochs": 3, "experts": 4},
    "ns": {"n": 12, "levels": 4, "train": 4, "test": 2, "epochs": 2, "experts": (2, 2, 1)},
    "sweep": {
        "ds": {"grid": 256, "levels": 21, "points": [100, 1000]},
        "ns": {"grid": 24, "levels": 5, "points": [100, 1000]},
    },
}
# the small physics-informed study of RESULTS.md (CPU, one thread: 17-60 s per variant and seed on ds)
STUDY = {
    "ds": {"nx": 64, "levels": 11, "train": 16, "test": 4, "epochs": 80, "experts": 4},  # rows' floor 3.4 %
    "ns": {"n": 16, "levels": 11, "train": 16, "test": 4, "epochs": 40, "experts": (2, 2, 1)},
    "sweep": QUICK["sweep"],
}


# --- data ----------------------------------------------------------------------------------------
def clipped_sorption(problem: Problem) -> Problem:
    """Diffusion–sorption with ``R(max(u, 0))``, the paper's guard against negative concentrations."""

    def rhs(u, x, p):
        positive = u.map(lambda v: v.clamp_min(0.0) if torch.is_tensor(v) else np.maximum(v, 0.0))
        retardation = 1 + (1 - p.phi) / p.phi * p.rho_s * p.k * p.n_f * (positive + 1e-6) ** (p.n_f - 1)
        return p.D / retardation * d(u, "x", 2)

    return replace(problem, rhs=rhs)


def sorption_trajectories(problem: Problem, nx: int, levels: int, samples: int, seed: int, **options):
    """Method-of-lines (``mol``) trajectories (samples, levels, nx) of diffusion–sorption for u0 ~ the family,
    on ``nx`` nodes and ``levels`` equally spaced times; ``options`` go to the solver (rtol, atol, method).

    Level 0 is the initial condition at every node, boundary nodes included (PDEBench's data and the constraint
    layer's initial rows); ``mol``'s own first snapshot already holds the boundary values there (u = 1 at the
    inlet), which the conditions only fix for t > 0."""
    (lower,), (upper,) = problem.domain.bounds
    x = Coords([np.linspace(lower, upper, nx)])
    solver = MethodOfLines(n=nx, outputs=levels - 1, **options)
    out = np.zeros((samples, levels, nx))
    for s in range(samples):
        member = problem.sample(seed + s)
        out[s] = solver.solve(member).values
        out[s, 0] = np.broadcast_to(member.initial(x, member.p), nx)
    return Grid((float(lower),), (float(upper),), (nx,)), np.linspace(*problem.time, levels), out


def navier_stokes_trajectories(problem: Problem, n: int, levels: int, samples: int, seed: int, device: str):
    """Spectral (ETDRK4) trajectories (samples, levels, n, n) of vorticity on the periodic grid."""
    grid = box_grid(problem, n, method="spectral")
    times = np.linspace(*problem.time, levels)
    points = grid.points()
    out = np.zeros((samples, levels, n, n))
    for s in range(samples):
        solver = SpectralSolver(Settings(device=device), n=n, outputs=levels - 1)
        solution = solver.solve(problem.sample(seed + s))
        for k, t in enumerate(times):
            out[s, k] = np.asarray(solution(np.column_stack([points, np.full(len(points), t)]))).reshape(n, n)
    return grid, times, out


def as_data(trajectories: np.ndarray) -> ConstraintData:
    u = torch.as_tensor(trajectories, dtype=torch.float32)
    return ConstraintData(u[:, :1], u, list(range(u.shape[1])))


# --- measurements --------------------------------------------------------------------------------
def accuracy(
    problem,
    grid,
    train,
    test,
    base: ConstraintConfig,
    experts,
    device: str,
    weights: list[float],
    overlaps: list[float],
    interfaces: bool = False,
    blends: tuple[float, ...] = (),
    only: list[str] | None = None,
) -> dict:
    """Test relative L2 and seconds per epoch of soft, hard (one expert) and MoE training (one run per MoE
    ``overlap``; key ``moe`` for 0, ``moe_overlap_<f>`` otherwise; with ``interfaces`` one more, ``moe_interfaces``:
    interface rows, each expert its own initial and boundary rows; one ``moe_blend_<f>`` per value of ``blends``:
    those rows on subdomains widened by ``f``, blended), for each data weight: 0 is physics-informed
    training only (the paper's: the relative residual of each variant's rows, no data), 1 the data loss (plus the
    residual penalty for soft). ``only`` keeps the variants of those names."""
    variants = [("soft", "soft", {}), ("hard", "hard", {})]
    variants += [("moe" if f == 0 else f"moe_overlap_{f:g}", "moe", {"overlap": f}) for f in overlaps]
    if interfaces:
        variants.append(("moe_interfaces", "moe", OWN_CONDITIONS | {"interfaces": True}))
    variants += [(f"moe_blend_{f:g}", "moe", BLENDED | {"overlap": f}) for f in blends]
    variants = [v for v in variants if only is None or v[0] in only]
    results = {}
    for weight in weights:
        regime = results.setdefault(f"data_weight_{weight:g}", {})
        for name, constraint, settings in variants:
            config = replace(base, constraint=constraint, experts=experts, data_weight=weight, **settings)
            result = train_hard_constrained(problem, grid, train, test, config, device)
            regime[name] = {
                "test_relative_l2": result.test_error,
                "seconds_per_epoch": result.seconds / max(1, config.epochs),
                "final_train_loss": result.train_loss[-1],
                "kept_epoch": result.kept_epoch,
                "kept_train_loss": result.train_loss[result.kept_epoch],
                "unconverged_samples": result.unconverged,
            }
            print(f"  seed {base.seed}, data weight {weight:g}, {name}: test relative L2 {result.test_error:.4f} "
                  f"({result.seconds:.1f} s)", flush=True)  # fmt: skip
    return results


def discretization_floor(
    problem, grid, data: ConstraintData, levels: int, device: str, samples: int = 2, theta: float = 0.5
) -> float:
    """Mean relative L2 between the data and the field that zeroes the constraint rows (θ-method in time) on the
    same space-time grid: no model whose output satisfies, or is trained on, those rows alone can come closer."""
    times = np.linspace(*problem.time, levels)
    errors = []
    for k in range(samples):
        target = data.targets[k : k + 1].to(device, torch.float64)
        u = marched_rows_solution(problem, grid, times, theta, data.inputs[k : k + 1].to(device, torch.float64), target)
        errors.append(float((u - target).norm() / target.norm()))
    return float(np.mean(errors))


def marched_rows_solution(problem, grid, times, theta: float, inputs: torch.Tensor, start: torch.Tensor):
    """:func:`rows_solution` of the whole space-time grid, one time step at a time: the θ-rows couple two levels
    only, so the two-level system of each step, whose initial rows hold the level before, zeroes the same rows
    (equal to the whole-grid solve to 1e-13 on 64 × 11 diffusion–sorption and 12² × 6 Navier–Stokes) with one
    step's unknowns instead of all of them (the paper's 1024 × 101 grid: 2048 instead of 103,424)."""
    initial = GridConstraintSystem(problem, grid, times=times[:2], theta=theta).inputs.index("initial")
    levels, step_inputs = [], inputs.clone()
    for n in range(len(times) - 1):
        step = GridConstraintSystem(problem, grid, times=times[n : n + 2], theta=theta)
        u = rows_solution(step, step_inputs, start[:, n : n + 2])
        levels += [u[:, 1]] if levels else [u[:, 0], u[:, 1]]
        step_inputs[:, initial] = u[:, 1]
    return torch.stack(levels, 1)


def rows_solution(system, inputs: torch.Tensor, start: torch.Tensor, iterations: int = 8) -> torch.Tensor:
    """The field (shaped like ``start``) with zero rows, by undamped Gauss–Newton from ``start`` (the library's
    driver): the constraint layer's own rows and Jacobian with one basis function per node (the identity)."""
    size = start[0].numel()
    basis = torch.eye(size, dtype=start.dtype, device=start.device).reshape(1, size, *start.shape[1:])
    problem = NewtonRows(system, basis, inputs)
    omega = start.reshape(1, 1, size).clone()
    driver = DampedGaussNewton(problem, Multiplicative(), max_tries=1, max_steps=iterations)
    state = driver.init(omega, problem.cost(omega), 0.0)
    while not driver.terminate(state) and state.cost > (1e-12 * max(1.0, float(state.point.norm()))) ** 2:
        state = driver.step(state)
    return state.point.reshape(start.shape)


class NewtonRows:
    """Rows ``r(ω)`` of a constraint system as the driver's problem: every full step is accepted."""

    def __init__(self, system, basis: torch.Tensor, inputs: torch.Tensor) -> None:
        self.system, self.basis, self.inputs = system, basis, inputs
        self.at: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    def rows(self, omega: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.at is None or self.at[0] is not omega:
            r, jacobian = self.system.residual_and_jacobian(omega, self.basis, self.inputs)
            self.at = (omega, r[0, 0], jacobian[0, 0])
        return self.at[1], self.at[2]

    def cost(self, omega: torch.Tensor) -> float:
        return float(self.rows(omega)[0].square().sum())

    def linearize(self, omega: torch.Tensor) -> ReducedSystem:
        r, jacobian = self.rows(omega)
        return ReducedSystem.of(jacobian, r, method="svd")

    def propose(self, omega: torch.Tensor, system, delta: torch.Tensor, info, damping: float) -> Trial:
        trial = omega - delta
        return Trial(trial, self.cost(trial))


def train_step(model: ConstrainedOperator, optimizer, inputs: torch.Tensor, targets: torch.Tensor) -> None:
    loss = relative_l2(model(inputs), targets).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def sweep_inputs(problem: Problem, case: str, n: int, batch: int) -> tuple[Grid, torch.Tensor]:
    """The sweep's grid and a batch of initial conditions of the family on it (targets do not matter)."""
    if case == "ds":
        grid = Grid((0.0,), (1.0,), (n,))
    else:
        grid = box_grid(problem, n, method="spectral")
    x = Coords(list(grid.points().T))
    fields = [np.broadcast_to(problem.sample(s).initial(x, problem.sample(s).p), (grid.size,)) for s in range(batch)]
    return grid, torch.as_tensor(np.stack(fields), dtype=torch.float32).reshape(batch, 1, *grid.shape)


def expert_count(experts: int | tuple[int, ...]) -> int:
    """The number of experts of a split count (along x) or of splits per axis."""
    return experts if isinstance(experts, int) else int(np.prod(experts))


def measure(
    problem, grid, inputs, targets, config: ConstraintConfig, device: str, repeats: int = 3, group=None
) -> dict:
    """One constraint's training-step and inference time (medians of ``repeats``) and peak memory, after a
    warm-up step; with a process ``group`` its experts are sharded over the group's ranks."""
    torch.manual_seed(0)
    model = ConstrainedOperator(problem, grid, config, group, channels=inputs.shape[1]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    train_step(model, optimizer, inputs, targets)  # warm-up (caches, CUDA kernels)
    synchronize(device)
    steps, inferences = [], []
    with PeakMemory(device) as memory:
        for _ in range(repeats):
            start = time.perf_counter()
            train_step(model, optimizer, inputs, targets)
            synchronize(device)
            steps.append(time.perf_counter() - start)
    with torch.no_grad():
        for _ in range(repeats):
            start = time.perf_counter()
            model(inputs)
            synchronize(device)
            inferences.append(time.perf_counter() - start)
    step_seconds, inference = float(np.median(steps)), float(np.median(inferences))
    peak = memory.cuda_bytes if memory.cuda_bytes is not None else memory.cpu_bytes
    report = model.layer.report
    return {"rows": int(model.system.rows.weight.gt(0).sum()), "window": list(model.system.windows.shape),
            "train_step_s": step_seconds, "inference_s": inference, "peak_bytes": peak,
            "lm_iterations": report.iterations, "lm_expert_iterations": report.expert_iterations,
            "lm_mean_iterations": float(np.mean(report.expert_iterations))}  # fmt: skip


def sweep_variants(experts, blends=()) -> list[tuple[str, dict]]:
    """The cost sweep's constraints by name: ``hard`` (one expert), ``moe`` (the paper's), ``moe_blend_F`` per
    value F of ``blends``."""
    variants = [("hard", {"constraint": "hard", "experts": 1}), ("moe", {"constraint": "moe", "experts": experts})]
    return variants + [
        (f"moe_blend_{f:g}", {"constraint": "moe", "experts": experts, "overlap": f} | BLENDED) for f in blends
    ]


def scaling(
    problem, case: str, sweep: dict, base: ConstraintConfig, experts, device: str, blends=(), only=None
) -> dict:
    """Training-step time, inference time and peak memory of hard and MoE (the paper's, and one blended run per
    value of ``blends``: :func:`accuracy`) against the constraint points (total over the experts), and the speed-up
    of each MoE over the single hard constraint; ``only`` keeps the MoE variants of those names."""
    grid, inputs = sweep_inputs(problem, case, sweep["grid"], base.batch_size)
    inputs = inputs.to(device)
    targets = torch.randn(base.batch_size, sweep["levels"], *grid.shape, device=device)
    config = replace(base, levels=sweep["levels"])
    count = expert_count(experts)
    variants = [v for v in sweep_variants(experts, blends) if only is None or v[0] in only or v[0] == "hard"]
    runs, speedups = [], []
    for total in sweep["points"]:
        measured = {}
        for name, settings in variants:
            share = count if settings["constraint"] == "moe" else 1
            chosen = replace(config, points=max(1, total // share), **settings)
            measured[name] = {"requested_points": total, "constraint": name, "experts": share,
                              **measure(problem, grid, inputs, targets, chosen, device)}  # fmt: skip
            run = measured[name]
            print(f"  {name:12s} {run['rows']:7d} rows: step {run['train_step_s']:.3f} s, inference "
                  f"{run['inference_s']:.3f} s, peak {run['peak_bytes'] / 2**20:.0f} MiB", flush=True)  # fmt: skip
        runs += list(measured.values())
        hard = measured["hard"]
        entry = {"requested_points": total}
        for name, _ in variants[1:]:
            moe = measured[name]
            ratios = {"rows": moe["rows"], "train_step_speedup": hard["train_step_s"] / moe["train_step_s"],
                      "inference_speedup": hard["inference_s"] / moe["inference_s"],
                      "memory_ratio": hard["peak_bytes"] / max(1, moe["peak_bytes"])}  # fmt: skip
            entry |= ratios if name == "moe" else {name: ratios}
            print(f"  {name} speed-up at {total} points: step {ratios['train_step_speedup']:.2f}x, inference "
                  f"{ratios['inference_speedup']:.2f}x", flush=True)  # fmt: skip
        speedups.append(entry)
    return {"grid": list(grid.shape), "levels": sweep["levels"], "runs": runs, "speedup": speedups}


def comma_list(kind):
    return lambda text: [kind(item) for item in text.split(",") if item]


def trajectories(problem: Problem, case: str, size: dict, seed: int, device: str):
    """Grid, times and (train + test) trajectories of ``case`` for the data seeds ``seed, seed + 1, ...``."""
    count = size["train"] + size["test"]
    if case == "ds":
        return sorption_trajectories(problem, size["nx"], size["levels"], count, seed)
    return navier_stokes_trajectories(problem, size["n"], size["levels"], count, seed, device)


def seeded_accuracy(problem, case: str, size: dict, base: ConstraintConfig, args) -> dict:
    """Data, discretisation floor and the accuracy of every variant for ``base.seed``."""
    start = time.perf_counter()
    grid, _, u = trajectories(problem, case, size, base.seed, args.device)
    data_seconds = time.perf_counter() - start
    print(f"{case}, seed {base.seed}: data {u.shape} in {data_seconds:.1f} s", flush=True)
    train, test = as_data(u[: size["train"]]), as_data(u[size["train"] :])
    floor = discretization_floor(problem, grid, test, size["levels"], args.device, theta=THETA[case])
    print(f"{case}, seed {base.seed}: the rows' own solution is {floor:.4f} from the data (discretisation floor)")
    config = replace(base, levels=size["levels"], epochs=size["epochs"])
    return {"grid": list(grid.shape), "data_seconds": data_seconds, "discretization_floor": floor,
            "accuracy": accuracy(problem, grid, train, test, config, size["experts"], args.device, args.data_weights,
                                 args.overlaps, args.interfaces, args.blends, args.only)}  # fmt: skip


def benchmark_config(
    small: bool = False,
    basis: int = 16,
    lm_iterations: int = ConstraintConfig.lm_iterations,
    time_rows: str = ConstraintConfig.time_rows,
) -> ConstraintConfig:
    """The backbone and layer settings every variant shares (FNO 12 modes, width 32, 4 layers; tiny when
    ``small``)."""
    return ConstraintConfig(
        basis=4 if small else basis, points=None, lm_iterations=lm_iterations, time_rows=time_rows,
        batch_size=4, lr=3e-3,
        modes=4 if small else 12, width=8 if small else 32, layers=2 if small else 4,
    )  # fmt: skip


def case_problem(case: str, ns_time: float = 1.0) -> Problem:
    """The problem of a case: diffusion–sorption with the paper's ``R(max(u, 0))``, or Navier–Stokes on [0, T]."""
    if case == "ds":
        return clipped_sorption(load_problem("diffusion_sorption1d"))
    return replace(load_problem("navier_stokes2d"), time=(0.0, ns_time))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=("quick", "study", "full"), default="full")
    parser.add_argument("--quick", action="store_true", help="the same as --size quick: CPU smoke run (< 2 min)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", help="JSON file")
    parser.add_argument("--cases", default="ds,ns", help="comma list of ds, ns")
    parser.add_argument("--sweep-only", action="store_true", help="only the cost sweep (no accuracy training)")
    parser.add_argument("--no-sweep", action="store_true", help="only the accuracy training (no cost sweep)")
    parser.add_argument(
        "--override",
        type=lambda text: {k: int(v) for k, v in (item.split("=") for item in text.split(","))},
        default={},
        help="integer entries of the size's case settings, e.g. nx=128,levels=26,train=32,test=8,epochs=60",
    )
    parser.add_argument("--basis", type=int, default=16)
    parser.add_argument(
        "--lm-iterations",
        type=int,
        default=ConstraintConfig.lm_iterations,
        help="the layer's Levenberg–Marquardt cap (default 60; samples whose solve stops at the cap are left out "
        "of the gradient, see RESULTS.md)",
    )
    parser.add_argument(
        "--time-rows",
        choices=tuple(TIME_ROWS),
        default=ConstraintConfig.time_rows,
        help="form of the time rows: step (u^{n+1} - u^n - dt f, default) or rate (divided by dt; the figures of "
        "RESULTS.md before 2026-11-23's step-form rerun)",
    )
    parser.add_argument("--ns-time", type=float, default=1.0, help="Navier–Stokes window [0, T] (default 1)")
    parser.add_argument("--seeds", type=comma_list(int), default=[0], help="data and model seeds (default 0)")
    parser.add_argument(
        "--overlaps",
        type=comma_list(float),
        default=[0.0],
        help="one MoE run per value: experts take PDE rows from their subdomain widened by this fraction "
        "(default 0, the paper's; RESULTS.md has a small ds study of 0 and 0.5 at three seeds)",
    )
    parser.add_argument(
        "--interfaces",
        action="store_true",
        help="one more MoE run whose experts fit learned interface values and keep their own initial and "
        "boundary rows (ConstraintConfig.interfaces; not in the paper)",
    )
    parser.add_argument(
        "--blends",
        type=comma_list(float),
        default=[0.5],
        help="one more MoE run per value f: interface rows, each expert its own initial and boundary rows, "
        "subdomains widened by f, experts blended by a partition of unity (not in the paper; default 0.5, "
        "none: --blends '')",
    )
    parser.add_argument(
        "--sweep-points", type=comma_list(int), help="constraint points of the cost sweep (default: the size's)"
    )
    parser.add_argument(
        "--only",
        type=comma_list(str),
        help="run only these variants, e.g. hard,moe_interfaces (the cost sweep keeps hard, its reference)",
    )
    parser.add_argument(
        "--data-weights",
        type=comma_list(float),
        default=[0.0, 1.0],
        help="training regimes: 0 physics-informed only (the paper's), 1 with the data loss (default: 0,1)",
    )
    args = parser.parse_args()
    size_name = "quick" if args.quick else args.size
    sizes = {"quick": QUICK, "study": STUDY, "full": FULL}[size_name]
    small = size_name == "quick"
    unknown = set(args.override) - {key for case in args.cases.split(",") for key in sizes[case]}
    if unknown:
        parser.error(f"--override: no setting {', '.join(sorted(unknown))} in the cases {args.cases}")
    if args.device == "cpu":
        torch.set_num_threads(min(4, torch.get_num_threads()))
    base = benchmark_config(small, args.basis, args.lm_iterations, args.time_rows)
    report = {"device": args.device, "size": size_name, "platform": platform.platform(),
              "torch": torch.__version__, "config": asdict(base), "cases": {}}  # fmt: skip
    for case in args.cases.split(","):
        size = sizes[case] | {k: v for k, v in args.override.items() if k in sizes[case]}
        problem = case_problem(case, args.ns_time)
        result = report["cases"].setdefault(case, {"problem": problem.name, **size, "seeds": {}})
        case_config = replace(base, theta=THETA[case], shared_conditions=SHARED_CONDITIONS[case])
        if not args.sweep_only:
            for seed in args.seeds:
                result["seeds"][str(seed)] = seeded_accuracy(problem, case, size, replace(case_config, seed=seed), args)
                if args.out:
                    write_json(args.out, report)
        if not args.no_sweep:
            sweep = sizes["sweep"][case] | ({"points": args.sweep_points} if args.sweep_points else {})
            print(f"{case}: cost sweep on {sweep}", flush=True)
            result["scaling"] = scaling(
                problem, case, sweep, case_config, size["experts"], args.device, args.blends, args.only
            )
        if args.out:
            write_json(args.out, report)
    summary = {
        case: {seed: run["accuracy"] for seed, run in r["seeds"].items()}
        | ({"speedup": r["scaling"]["speedup"]} if "scaling" in r else {})
        for case, r in report["cases"].items()
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
