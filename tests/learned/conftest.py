"""A tiny graph-network preconditioner trained for seconds on darcy2d at n = 17, shared by the tests."""

from __future__ import annotations

import pytest
import torch

from pdesolve.learned.training import TrainOptions, train_preconditioner
from pdesolve.problem import load_problem

TINY = TrainOptions(nodes=17, samples=2, steps=40, unseen=2, seed=0, threads=1)


@pytest.fixture(scope="session")
def darcy():
    return load_problem("darcy2d")


@pytest.fixture(scope="session")
def tiny_gnn(darcy, tmp_path_factory):
    """``(checkpoint, path)`` of a graph network trained for ~40 steps on two members."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("precond") / "darcy2d-gnn.pt"
    return train_preconditioner(darcy, "gnn", TINY, torch.device("cpu"), path), path
