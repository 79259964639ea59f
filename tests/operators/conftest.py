"""Shared pieces of the operator tests: a smooth Darcy-like family, its data sets and one trained tiny FNO.

Coefficients ``a = exp(ψ)`` with ψ a smooth Gaussian random field (α = 2.5): the solution operator is smooth,
so a model trained at 32² should transfer to 64². The data sets and the model are built once per session.
"""

from __future__ import annotations

import pytest
import torch

from pdesolve.operators.dataset import generate_dataset, load_dataset
from pdesolve.operators.pipeline import train_operator
from pdesolve.operators.training import TrainConfig
from pdesolve.problem import Dirichlet, Family, GaussianRandomField, Problem, Rectangle, div, exp, grad

TRAIN, TEST = 96, 24
TINY = {"modes": 8, "width": 16, "layers": 3, "projection": 32}


def smooth_darcy(name: str = "smooth_darcy", tau: float = 3.0) -> Problem:
    """-∇·(exp(ψ) ∇u) = 1 on the unit square, u = 0 on the boundary; ψ ~ N(0, 100 (-Δ + τ²)^-2.5)."""
    field = GaussianRandomField((0.0, 0.0), (1.0, 1.0), 33, alpha=2.5, tau=tau, sigma=10.0, boundary="neumann")
    return Problem(
        name=name,
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        residual=lambda u, x, p: -div(exp(p.a(x)) * grad(u)) - 1.0,
        boundary=Dirichlet(0.0),
        family=Family(a=field),
    )


@pytest.fixture(scope="session")
def make_problem():
    """The factory itself, for tests that need a second (different) problem."""
    return smooth_darcy


@pytest.fixture(scope="session")
def problem() -> Problem:
    return smooth_darcy()


@pytest.fixture(scope="session")
def data(problem, tmp_path_factory):
    """Train/test pairs at 32² (seeds 0..119) and the same test members at 64²."""
    folder = tmp_path_factory.mktemp("operators")
    generate_dataset(problem, folder / "d32", TRAIN + TEST, 32, seed=0, workers=1, shard_size=40)
    generate_dataset(problem, folder / "d64", TEST, 64, seed=TRAIN, workers=1)
    train, test = load_dataset(folder / "d32", problem).split(TEST)
    return {"folder": folder, "train": train, "test": test, "test64": load_dataset(folder / "d64", problem)}


@pytest.fixture(scope="session")
def trained(problem, data):
    """A tiny FNO trained for a few seconds at 32² (saved as model.pt in a temporary folder)."""
    torch.set_num_threads(min(torch.get_num_threads(), 2))
    config = TrainConfig(epochs=25, batch_size=8, lr=5e-3, weight_decay=0.0, progress=False)
    out = data["folder"] / "run"
    model, result, card = train_operator(problem, data["train"], data["test"], config, out=out, architecture=TINY)
    return {"model": model, "result": result, "card": card, "path": out / "model.pt"}
