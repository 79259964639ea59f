"""Experts sharded over processes: the training step of a mixture-of-experts hard constraint on 1, 2, … ranks.

Chalapathi, Du & Krishnapriyan (ICLR 2024) obtain their MoE speed-ups over the single hard constraint (3.2× at
1e5 points on diffusion–sorption, 12.8× at 1e4 on Navier–Stokes) by solving the experts on separate devices.
A lent machine has one GPU, so this script measures the sharding where it can run: gloo ranks on CPU cores, one
thread each (or NCCL ranks, one GPU each, with ``--device cuda`` on a machine that has several). Each rank runs
the whole FNO backbone and the Levenberg–Marquardt solves and implicit backward of its block of experts
(``pdesolve.constraints.distributed``); the cases, grids and settings are the cost sweep's of
``benchmarks/hard_constraints.py`` on the paper's grids, the single constraint (one process) is the reference.

    OMP_NUM_THREADS=1 python benchmarks/expert_sharding.py --case ns --points 10000 --ranks 1,2 --out shard.json
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from dataclasses import replace
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hard_constraints as hc  # noqa: E402

from pdesolve.constraints.distributed import free_local_port  # noqa: E402
from pdesolve.io.run_folder import write_json  # noqa: E402


def variants(case: str, names: list[str]) -> dict[str, dict]:
    """The cost sweep's constraint settings by name: ``hard``, ``moe`` (the paper's), ``moe_blend_0.5``."""
    known = dict(hc.sweep_variants(hc.FULL[case]["experts"], [0.5]))
    unknown = set(names) - set(known)
    if unknown:
        raise SystemExit(f"unknown variants {sorted(unknown)} (known: {', '.join(known)})")
    return {name: known[name] for name in names}


def measure_on_ranks(rank: int, size: int, port: int, args: argparse.Namespace, name: str, out: str) -> None:
    """One variant on ``size`` ranks; rank 0 saves the measurement to ``out``."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(args.threads)
    cuda = args.device == "cuda"
    device = f"cuda:{rank}" if cuda else "cpu"
    dist.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=size)
    try:
        problem = hc.case_problem(args.case)
        sweep = hc.FULL["sweep"][args.case]
        grid, inputs = hc.sweep_inputs(problem, args.case, sweep["grid"], args.batch)
        generator = torch.Generator().manual_seed(0)
        targets = torch.randn(args.batch, sweep["levels"], *grid.shape, generator=generator)
        settings = variants(args.case, [name])[name]
        case = {"theta": hc.THETA[args.case], "shared_conditions": hc.SHARED_CONDITIONS[args.case]}
        points = {"levels": sweep["levels"], "points": max(1, args.points // hc.expert_count(settings["experts"]))}
        config = replace(hc.benchmark_config(), **case | points | settings)
        group = dist.group.WORLD if size > 1 else None
        found = hc.measure(problem, grid, inputs.to(device), targets.to(device), config, device, args.repeats, group)
        if rank == 0:
            torch.save(found, out)
    finally:
        dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=("ds", "ns"), default="ns")
    parser.add_argument("--points", type=int, default=10_000, help="constraint points, total over the experts")
    parser.add_argument("--ranks", type=hc.comma_list(int), default=[1, 2], help="process counts (default 1,2)")
    parser.add_argument("--variants", type=hc.comma_list(str), default=["moe", "moe_blend_0.5"])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per rank (default 1)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", help="JSON file")
    args = parser.parse_args()
    variants(args.case, args.variants)  # unknown names fail before any run
    report = {"device": args.device, "platform": platform.platform(), "torch": torch.__version__,
              "cpus": os.cpu_count(), **vars(args), "runs": []}  # fmt: skip
    plan = [("hard", 1)] + [(name, size) for name in args.variants for size in args.ranks]
    for name, size in plan:
        out = Path(args.out or "expert_sharding.json").with_suffix(f".{name}.{size}.pt")
        mp.spawn(measure_on_ranks, args=(size, free_local_port(), args, name, str(out)), nprocs=size, join=True)
        run = {"variant": name, "ranks": size, **torch.load(out, weights_only=False)}
        out.unlink()
        reference = report["runs"][0]["train_step_s"] if report["runs"] else run["train_step_s"]
        run["speedup_over_hard"] = reference / run["train_step_s"]
        report["runs"].append(run)
        print(f"{name:14s} on {size} rank(s): step {run['train_step_s']:.3f} s ({run['speedup_over_hard']:.2f}x the "
              f"single constraint), inference {run['inference_s']:.3f} s, LM {run['lm_iterations']}", flush=True)  # fmt: skip
        if args.out:
            write_json(args.out, report)


if __name__ == "__main__":
    main()
