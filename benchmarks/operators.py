"""Neural-operator benchmarks: our FNO on the FNO paper's Darcy, Burgers and Navier–Stokes families.

    python benchmarks/operators.py --quick --out operators.json           # CPU, under 2 minutes
    python benchmarks/operators.py --device cuda --out operators.json     # full recipes, one H100

For each family: generate (or reuse) the data set with the classical solver, train, and report the test
relative L2, the training time, the inference time per sample (one batch of the whole test set) and the
classical solve time per sample at the same resolution (recorded while the data were generated, one sample
at a time). Differences from the paper: Darcy pairs are solved at 85² directly (the coefficient is drawn on
the paper's 421² grid and sampled exactly at the 85² nodes) instead of solving at 421² and subsampling;
Burgers is solved by our Fourier/ETDRK4 solver at the data resolution (1024) instead of 8192; Navier–Stokes
maps w(0) to w(T) (T from the catalogue, 10) instead of the paper's 10 steps in to 40 steps out.
The ``neuraloperator`` package's FNO is trained beside ours on the same data when it is installed.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pdesolve.errors import PdesolveError
from pdesolve.operators.dataset import Dataset, generate_dataset, load_dataset
from pdesolve.operators.pairs import default_solver
from pdesolve.operators.pipeline import train_operator
from pdesolve.operators.training import TrainConfig, evaluate, train
from pdesolve.problem import Family, GaussianRandomField, Interval, Periodic, Problem, d, load_problem
from pdesolve.solvers.base import Settings


def burgers_family() -> Problem:
    """u_t + (u²/2)_x = 0.1 u_xx on the periodic unit interval to T = 1; u0 ~ N(0, 625 (-Δ + 25 I)^-2)."""
    family = Family(u0=GaussianRandomField((0.0,), (1.0,), 8192, alpha=2.0, tau=5.0, sigma=25.0))
    return Problem(
        name="burgers_family",
        domain=Interval(0.0, 1.0),
        time=(0.0, 1.0),
        rhs=lambda u, x, p: -0.5 * d(u**2, "x") + p.nu * d(u, "x", 2),
        initial=lambda x, p: p.u0(x),
        boundary=Periodic(),
        params={"nu": 0.1, **family.draw(0)},
        family=family,
    )


@dataclass(frozen=True)
class Recipe:
    """One benchmark: data, architecture, training and the published figures to compare with."""

    name: str
    problem: str
    resolution: int
    train: int
    test: int
    architecture: dict[str, Any]
    config: TrainConfig
    published: dict[str, float] = field(default_factory=dict)


FULL = [
    Recipe(
        "darcy2d",
        "darcy2d",
        85,
        1000,
        100,
        {"modes": 12, "width": 32},
        TrainConfig(epochs=500, batch_size=20),
        {"FNO (Li et al. 2021), 85²": 1.08e-2, "best published (Transolver)": 5.7e-3},
    ),
    Recipe(
        "burgers",
        "burgers_family",
        1024,
        1000,
        100,
        {"modes": 16, "width": 64},
        TrainConfig(epochs=500, batch_size=20),
        {"FNO (Li et al. 2021), s = 1024": 1.6e-2},
    ),
    Recipe(
        "navier_stokes2d",
        "navier_stokes2d",
        64,
        1000,
        100,
        {"modes": 12, "width": 32},
        TrainConfig(epochs=300, batch_size=20),
        {"FNO-2D, ν = 1e-3 (recollection, unconfirmed)": 1e-2},
    ),
]

QUICK = {
    "darcy2d": dict(resolution=29, train=200, test=50, architecture={"modes": 8, "width": 16}),
    "burgers": dict(resolution=128, train=48, test=12, architecture={"modes": 12, "width": 32}),
}


def load(name: str) -> Problem:
    return burgers_family() if name == "burgers_family" else load_problem(name)


def _tensors(data: Dataset, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.as_tensor(data.inputs, device=device), torch.as_tensor(data.outputs, device=device)


@torch.no_grad()
def seconds_per_sample(model: torch.nn.Module, inputs: torch.Tensor, repeats: int = 5) -> float:
    """Best wall time of one forward pass over the whole batch, divided by its size (after a warm-up)."""
    model.eval()
    model(inputs)
    best = float("inf")
    for _ in range(repeats):
        if inputs.is_cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        model(inputs)
        if inputs.is_cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best / len(inputs)


def neuraloperator_peer(recipe: Recipe, train_data: Dataset, test_data: Dataset, device: torch.device) -> dict:
    """The neuraloperator package's FNO on the same data and training loop (normalised like ours)."""
    try:
        from neuralop import models as peer
    except ImportError:
        return {"skipped": "neuraloperator is not installed"}

    class Normalised(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
            super().__init__()
            self.inner = inner
            dims = [0, *range(2, x.ndim)]
            for name, data in (("x", x), ("y", y)):
                self.register_buffer(f"{name}_mean", data.mean(dims, keepdim=True)[0:1])
                self.register_buffer(f"{name}_std", data.std(dims, keepdim=True)[0:1])

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner((x - self.x_mean) / self.x_std) * self.y_std + self.y_mean

    train_set, test_set = _tensors(train_data, device), _tensors(test_data, device)
    dim = train_set[0].ndim - 2
    inner = peer.FNO(
        n_modes=(recipe.architecture["modes"],) * dim,
        hidden_channels=recipe.architecture["width"],
        in_channels=train_set[0].shape[1],
        out_channels=train_set[1].shape[1],
    )
    model = Normalised(inner, *train_set).to(device)
    result = train(model, train_set, test_set, replace(recipe.config, progress=False))
    return {
        "test_relative_l2": result.final_test_error,
        "training_seconds": result.seconds,
        "inference_seconds_per_sample": seconds_per_sample(model, test_set[0]),
    }


def run(recipe: Recipe, device: torch.device, data_root: Path, workers: int | None, progress: bool) -> dict:
    problem = load(recipe.problem)
    settings = Settings(device=str(device), seed=0, progress=progress)
    folder = data_root / f"{recipe.problem}-{recipe.resolution}-{recipe.train + recipe.test}"
    solver = default_solver(problem)
    generate_dataset(
        problem, folder, recipe.train + recipe.test, recipe.resolution, 0, solver, settings, workers, shard_size=50
    )
    train_data, test_data = load_dataset(folder, problem).split(recipe.test)
    config = replace(recipe.config, progress=progress)
    model, result, _ = train_operator(
        problem, train_data, test_data, config, device, folder / "fno", architecture=recipe.architecture
    )
    test_inputs, test_outputs = _tensors(test_data, device)
    inference = seconds_per_sample(model, test_inputs)
    classical = float(np.mean(train_data.solve_seconds))
    return {
        "problem": recipe.problem,
        "resolution": recipe.resolution,
        "train_samples": recipe.train,
        "test_samples": recipe.test,
        "classical_solver": solver,
        "architecture": recipe.architecture,
        "epochs": config.epochs,
        "test_relative_l2": evaluate(model, test_inputs, test_outputs),
        "training_seconds": result.seconds,
        "inference_seconds_per_sample": inference,
        "inference_batch": len(test_inputs),
        "classical_seconds_per_sample": classical,
        "speedup": classical / inference,
        "published": recipe.published,
        "neuraloperator": neuraloperator_peer(recipe, train_data, test_data, device),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small CPU versions (under 2 minutes)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--only", help="comma-separated benchmark names (darcy2d, burgers, navier_stokes2d)")
    parser.add_argument("--epochs", type=int, help="override the recipe's epochs")
    parser.add_argument("--data", type=Path, default=Path("benchmark-data"), help="where data sets are kept")
    parser.add_argument("--workers", type=int, help="processes for CPU data generation (default: all cores)")
    parser.add_argument("--out", type=Path, help="JSON file for the results")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    recipes = FULL
    if args.quick:
        quick = {"epochs": 20, "batch_size": 10, "lr": 3e-3}
        recipes = [replace(r, **QUICK[r.name], config=replace(r.config, **quick)) for r in FULL if r.name in QUICK]
    if args.only:
        recipes = [r for r in recipes if r.name in args.only.split(",")]
    if args.epochs:
        recipes = [replace(r, config=replace(r.config, epochs=args.epochs)) for r in recipes]
    results: dict[str, Any] = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": str(torch.__version__),
        "quick": args.quick,
        "benchmarks": {},
    }
    for recipe in recipes:
        start = time.perf_counter()
        try:
            entry = run(recipe, device, args.data, args.workers, sys.stderr.isatty())
        except PdesolveError as error:  # e.g. the spectral solver is missing in this checkout
            entry = {"skipped": str(error)}
        entry["wall_seconds"] = time.perf_counter() - start
        results["benchmarks"][recipe.name] = entry
        print(json.dumps({recipe.name: entry}, indent=2, default=str), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
