"""Learned preconditioners against Jacobi, IC(0), geometric multigrid and AMG, to a true relative residual of 1e-8.

Cases: Darcy -∇·(a∇u) = 1 with a ∈ {1e-2, 1} (``darcy2d_contrast100``) and a ∈ {1e-4, 1} (``darcy2d_contrast``),
and 3D Poisson (``poisson3d``); each at the checkpoint's training size and at about 4× and 16× more unknowns,
on a member of the family no model saw (seed ``UNSEEN_SEED + 99``), with a unit source ``A x = 1``.
Every method reports iterations, setup,
inference (the network's share: the factor or prolongations in setup, the DCDM network in the solve) and
solve time, and the true residual; the checkpoints' training times come from their cards (or from training
here with ``--train``). CUDA timings synchronise and follow a warm-up solve.

    python benchmarks/learned_precond.py --quick --out learned_quick.json      # CPU, committed checkpoints
    python benchmarks/learned_precond.py --device cuda --out learned_h100.json
    python benchmarks/learned_precond.py --train --checkpoints runs/precond --steps 300 --out fresh.json
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch
from timing import timed

from pdesolve.learned.checkpoint import Checkpoint, check_applicable, load_checkpoint
from pdesolve.learned.cli import TRAIN_NODES
from pdesolve.learned.conjugate_directions import conjugate_directions
from pdesolve.learned.systems import GridSystem, grid_system
from pdesolve.learned.training import UNSEEN_SEED, TrainOptions, train_preconditioner
from pdesolve.linalg.cg import ConjugateGradient
from pdesolve.linalg.preconditioners import GridLayout, make_preconditioner
from pdesolve.linalg.system import SparseOperator
from pdesolve.problem import load_problem

CASES = ("darcy2d_contrast100", "darcy2d_contrast", "poisson3d")
KINDS = ("gnn", "dcdm", "mg")
CLASSICAL = ("jacobi", "ic0", "mg", "amg")
TRAINING_NODES = {2: TRAIN_NODES[2], 3: 13}  # the committed checkpoints' grids (odd interior counts)


def coarsens(m: int, dim: int, coarse_size: int = 256) -> bool:
    """Whether halving ``m`` interior unknowns per axis (``m -> (m - 1) / 2`` while odd) reaches a small grid."""
    while m**dim > coarse_size and m % 2 == 1 and m >= 3:
        m = (m - 1) // 2
    return m**dim <= 8 * coarse_size


def scaled_nodes(nodes: int, dim: int) -> list[int]:
    """Node counts with about 1×, 4× and 16× the unknowns of ``nodes``, nearest ones that multigrid coarsens."""
    sizes = [nodes]
    for factor in (4, 16):
        target = int(round((nodes - 2) * factor ** (1 / dim)))
        m = min((m for m in range(target - 4, target + 5) if coarsens(m, dim)), key=lambda m: abs(m - target))
        sizes.append(m + 2)
    return sizes


def checkpoint_for(case: str, kind: str, args: argparse.Namespace) -> Checkpoint:
    path = Path(args.checkpoints) / f"{case}-{kind}.pt"
    if args.train or not path.is_file():
        problem = load_problem(case)
        nodes = args.nodes or TRAINING_NODES[problem.dim]
        options = TrainOptions(nodes=nodes, samples=args.samples, steps=args.steps, seconds=args.max_seconds)
        command = f"python benchmarks/learned_precond.py --train --checkpoints {args.checkpoints} --steps {args.steps}"
        return train_preconditioner(problem, kind, options, torch.device("cpu"), path, command)
    return load_checkpoint(path)


def run_method(
    name: str, system: GridSystem, args: argparse.Namespace, checkpoint: Checkpoint | None = None
) -> dict[str, Any]:
    """Setup and solve (after a warm-up solve on CUDA); the learned share of the time as ``inference_s``."""
    device = torch.device(args.device)
    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    shape = system.shape
    layout = GridLayout(tuple(m + 2 for m in shape), np.pad(np.ones(shape, bool), 1), (False,) * len(shape))

    def setup() -> tuple[Any, Any]:
        operator = SparseOperator(system.matrix, device, dtype)
        if checkpoint is None:
            return operator, make_preconditioner(name, operator, system.matrix, layout)
        return operator, checkpoint.kind.preconditioner(checkpoint.model, operator, system.matrix, shape)

    (operator, preconditioner), setup_s = timed(setup, device)
    b = torch.ones(system.size, dtype=torch.float64, device=device)  # a unit source (poisson3d's own is an eigenvector)

    def solve() -> Any:
        if checkpoint is not None and checkpoint.kind.name == "dcdm":
            return conjugate_directions(operator, b, preconditioner, tol=1e-8, maxiter=args.dcdm_maxiter)
        return ConjugateGradient(operator, preconditioner, tol=1e-8, maxiter=args.maxiter).solve(b)

    if device.type == "cuda":
        solve()
    if hasattr(preconditioner, "inference_time") and checkpoint is not None and checkpoint.kind.name == "dcdm":
        preconditioner.inference_time = 0.0
    result, solve_s = timed(solve, device)
    inference = getattr(preconditioner, "inference_time", 0.0)
    return {
        "method": name if checkpoint is None else f"learned-{checkpoint.kind.name}",
        "iterations": result.iterations,
        "converged": bool(result.converged),
        "residual": result.residual,
        "setup_s": setup_s,
        "inference_s": inference,
        "solve_s": solve_s,
        "total_s": setup_s + solve_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="CPU, committed checkpoints, DCDM capped at 200 steps")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--checkpoints", default="preconditioners", help="folder of <case>-<kind>.pt")
    parser.add_argument("--train", action="store_true", help="train fresh checkpoints into --checkpoints")
    parser.add_argument("--nodes", type=int, help="training nodes per axis with --train (default 33 2D, 13 3D)")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--maxiter", type=int, default=20_000)
    parser.add_argument("--dcdm-maxiter", type=int, default=1000, help="learned directions may stagnate off their size")
    parser.add_argument("--out", help="JSON file")
    args = parser.parse_args()
    if args.quick:
        args.device, args.dcdm_maxiter = "cpu", min(args.dcdm_maxiter, 200)
    rows: list[dict[str, Any]] = []
    training: dict[str, dict[str, Any]] = {}
    for case in args.cases.split(","):
        problem = load_problem(case)
        checkpoints = {kind: checkpoint_for(case, kind, args) for kind in KINDS}
        training[case] = {
            kind: {k: c.card[k] for k in ("n", "unknowns", "samples", "steps", "training_seconds", "device")}
            for kind, c in checkpoints.items()
        }
        member = problem.sample(UNSEEN_SEED + 99)
        for nodes in scaled_nodes(checkpoints["gnn"].card["n"], problem.dim):
            system = grid_system(member, nodes)
            runs = [(name, None) for name in CLASSICAL] + [(kind, checkpoints[kind]) for kind in KINDS]
            for name, checkpoint in runs:
                if checkpoint is not None:
                    check_applicable(checkpoint, problem, system.size)
                row = {
                    "case": case,
                    "nodes": nodes,
                    "unknowns": system.size,
                    **run_method(name, system, args, checkpoint),
                }
                rows.append(row)
                print(
                    f"{case:20s} {system.size:8d} {row['method']:14s} it={row['iterations']:6d} "
                    f"setup={row['setup_s']:8.3f}s inference={row['inference_s']:7.3f}s solve={row['solve_s']:8.3f}s "
                    f"res={row['residual']:.2e}{'' if row['converged'] else ' NOT CONVERGED'}",
                    flush=True,
                )
    report = {
        "benchmark": "learned preconditioners vs classical, true relative residual 1e-8",
        "device": torch.cuda.get_device_name(args.device)
        if args.device.startswith("cuda")
        else platform.processor() or "cpu",
        "threads": torch.get_num_threads(),
        "dtype": args.dtype,
        "torch": str(torch.__version__),
        "quick": args.quick,
        "training": training,
        "results": rows,
    }
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
