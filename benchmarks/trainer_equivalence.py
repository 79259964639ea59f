"""Four short trainings, one per family, whose figures must not move when the training machinery changes.

``python benchmarks/trainer_equivalence.py`` prints one line per run: the losses, the test error and a hash of the
trained parameters (sha256 of their bytes), so two checkouts can be compared digit for digit:

- ``fno``: an FNO on 20 darcy2d pairs at 16² (4 held out), 4 epochs;
- ``constrained``: a hard-constrained FNO (2 experts) on exact periodic heat trajectories, 4 epochs;
- ``precond``: a graph-network preconditioner on 2 members of darcy2d at n = 17, 30 steps;
- ``pinn``: poisson2d, 100 Adam steps then 20 L-BFGS steps.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np
import torch

import pdesolve
from pdesolve.constraints.training import ConstraintConfig, ConstraintData, train_hard_constrained
from pdesolve.learned.training import TrainOptions, train_preconditioner
from pdesolve.operators.dataset import generate_dataset, load_dataset
from pdesolve.operators.pipeline import train_operator
from pdesolve.operators.training import TrainConfig
from pdesolve.problem import Grid, Interval, Periodic, Problem, d, load_problem


def digest(model: torch.nn.Module) -> str:
    sha = hashlib.sha256()
    for name, value in model.state_dict().items():
        sha.update(name.encode() + value.detach().cpu().contiguous().numpy().tobytes())
    return sha.hexdigest()[:16]


def fno(folder: Path) -> dict:
    problem = load_problem("darcy2d")
    generate_dataset(problem, folder / "data", 20, 16, seed=0, workers=1)
    train, test = load_dataset(folder / "data", problem).split(4)
    config = TrainConfig(epochs=4, batch_size=4, lr=5e-3, progress=False)
    model, result, _ = train_operator(problem, train, test, config, architecture={"modes": 4, "width": 8, "layers": 2})
    return {"train_loss": result.train_loss, "test_error": result.test_error, "parameters": digest(model)}


def heat_trajectories(samples: int, n: int, levels: int, seed: int) -> ConstraintData:
    """Exact periodic heat solutions sum_k a_k e^{-0.1 (2πk)² t} sin 2πkx on ``levels`` times in [0, 0.5]."""
    x, t, k = torch.linspace(0, 1, n + 1)[:-1], torch.linspace(0, 0.5, levels), torch.tensor([1.0, 2.0])
    a = torch.randn(samples, 2, generator=torch.Generator().manual_seed(seed))
    decay = torch.exp(-0.1 * (2 * np.pi * k[:, None]) ** 2 * t)
    trajectories = torch.einsum("nk,kt,kx->ntx", a, decay, torch.sin(2 * np.pi * k[:, None] * x))
    return ConstraintData(trajectories[:, :1], trajectories, list(range(levels)))


def constrained() -> dict:
    heat = Problem(
        "heat1d_hc",
        Interval(0.0, 1.0),
        rhs=lambda u, x, p: p.nu * d(u, "x", 2),
        time=(0.0, 0.5),
        initial=lambda x, p: np.sin(2 * np.pi * x.x),
        boundary=Periodic(),
        params={"nu": 0.1},
    )
    grid = Grid((0.0,), (1.0,), (12,), periodic=(True,))
    config = ConstraintConfig(
        "moe", experts=2, basis=4, points=None, levels=4, ridge=1e-6, epochs=4, batch_size=4, lr=1e-2,
        modes=3, width=8, layers=1,
    )  # fmt: skip
    result = train_hard_constrained(heat, grid, heat_trajectories(8, 12, 4, 0), heat_trajectories(4, 12, 4, 1), config)
    return {
        "train_loss": result.train_loss,
        "test_error": result.test_error,
        "kept_epoch": result.kept_epoch,
        "unconverged": result.unconverged,
        "parameters": digest(result.model),
    }


def precond() -> dict:
    torch.manual_seed(0)
    options = TrainOptions(nodes=17, samples=2, steps=30, unseen=2, seed=0, threads=1)
    checkpoint = train_preconditioner(load_problem("darcy2d"), "gnn", options, torch.device("cpu"), None)
    card = checkpoint.card
    return {
        "loss_first": card["loss_first"],
        "loss_last": card["loss_last"],
        "trained_iterations": card["validation"]["gnn (trained)"],
        "parameters": digest(checkpoint.model),
    }


def pinn() -> dict:
    options = {
        "preset": "manual",
        "adam_steps": 100,
        "lbfgs_steps": 20,
        "width": 16,
        "depth": 2,
        "n_interior": 64,
        "n_boundary": 32,
    }
    result = pdesolve.solve("poisson2d", "pinn", progress=False, **options)
    stats = result.metrics["stats"]
    return {"rel_l2": result.metrics["rel_l2"], "final_loss": stats["final_loss"], "iterations": stats["iterations"]}


def main() -> None:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        runs = {"fno": lambda: fno(Path(folder)), "constrained": constrained, "precond": precond, "pinn": pinn}
        for name, run in runs.items():
            print(json.dumps({"run": name, **run()}))


if __name__ == "__main__":
    main()
