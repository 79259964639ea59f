"""The registered `fno` solver and the `dataset` / `train` command functions."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

from pdesolve.cli_operators import add_dataset_parser, run_dataset
from pdesolve.cli_train import add_train_parser, run_train
from pdesolve.errors import NotApplicableError, PdesolveError
from pdesolve.operators.fno import FNO
from pdesolve.operators.model_file import load_model
from pdesolve.operators.pairs import data_grid, direct_solve
from pdesolve.operators.solver import FNOSolver
from pdesolve.solvers.base import SOLVERS, Settings


def test_the_solver_evaluates_a_saved_model_at_the_requested_resolution(trained, problem):
    assert SOLVERS["fno"] is FNOSolver
    member = problem.sample(200)  # the solver draws the member of its seed (the problem sets no field itself)
    solution = FNOSolver(Settings(seed=200), model=str(trained["path"]), n=48).solve(problem)
    grid = data_grid(problem, 48)
    assert solution.grid.shape == (48, 48)
    reference = direct_solve(member, grid)
    error = np.linalg.norm(solution.values - reference) / np.linalg.norm(reference)
    assert error < 0.1
    assert solution.stats["inference_seconds"] > 0 and solution.stats["trained_resolution"] == 32
    assert np.allclose(solution(grid.points()[:5]), solution.values.ravel()[:5])


def test_the_solver_refuses_a_model_of_another_problem_and_a_missing_model(trained, make_problem):
    with pytest.raises(PdesolveError, match="trained for problem 'smooth_darcy', not 'other'"):
        FNOSolver(model=str(trained["path"])).solve(make_problem("other"))
    with pytest.raises(PdesolveError, match="needs --set model=PATH"):
        FNOSolver().solve(make_problem())
    with pytest.raises(PdesolveError, match="does not exist"):
        FNOSolver(model="nowhere.pt").solve(make_problem())
    assert FNOSolver.not_applicable(make_problem()) is None


def test_the_model_file_round_trips_with_its_card(trained):
    model, card = load_model(trained["path"])
    assert isinstance(model, FNO) and card["problem"] == "smooth_darcy" and card["resolution"] == 32
    assert trained["path"].with_suffix(".md").read_text().startswith("# FNO for `smooth_darcy`")
    x = torch.as_tensor(trained["test"].inputs[:2])
    with torch.no_grad():
        assert torch.equal(model(x), trained["model"].eval()(x))


def test_dataset_and_train_commands(tmp_path, monkeypatch):
    problem_file = tmp_path / "tiny_darcy.py"
    problem_file.write_text(
        "from pdesolve.problem import *\n"
        "field = GaussianRandomField((0.0, 0.0), (1.0, 1.0), 16, alpha=2.5, tau=3.0, sigma=10.0, boundary='neumann')\n"
        "problem = Problem(name='tiny_darcy', domain=Rectangle((0.0, 0.0), (1.0, 1.0)),\n"
        "    residual=lambda u, x, p: -div(exp(p.a(x)) * grad(u)) - 1.0, boundary=Dirichlet(0.0),\n"
        "    family=Family(a=field))\n"
    )
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command")
    add_dataset_parser(commands)
    add_train_parser(commands)
    data = tmp_path / "data"
    args = parser.parse_args(
        ["dataset", str(problem_file), "--samples", "12", "--resolution", "16", "--out", str(data)]
    )
    assert run_dataset(args) == 0
    out = tmp_path / "run"
    argv = ["train", "fno", str(problem_file), "--data", str(data), "--test-samples", "4", "--epochs", "2"]
    argv += ["--out", str(out), "--modes", "4", "--width", "8", "--layers", "2"]
    assert run_train(parser.parse_args(argv)) == 0
    _, card = load_model(out / "model.pt")
    assert card["data"] == {"samples": 8, "test_samples": 4, "seed": 0} and card["training"]["epochs"] == 2
    assert (out / "checkpoint.pt").is_file()
    with pytest.raises(PdesolveError, match="no --set"):
        run_train(argparse.Namespace(**{**vars(parser.parse_args(argv)), "sets": ["x=1"]}))
    with pytest.raises(NotApplicableError):
        run_dataset(parser.parse_args(["dataset", "poisson2d", "--samples", "1", "--resolution", "8"]))
