"""``pdesolve train constrained`` writes a model file that ``pdesolve solve --solver fno`` loads and runs."""

from __future__ import annotations

import numpy as np
import torch
from constraints_helpers import HEAT_FAMILY
from helpers import run_cli

from pdesolve.constraints.training import ConstrainedOperator, ConstraintConfig
from pdesolve.operators.pairs import input_channels
from pdesolve.operators.solver import FNOSolver, family_member
from pdesolve.problem import Grid, load_problem
from pdesolve.solvers.base import Settings


def test_a_constrained_model_solves_through_the_fno_solver(tmp_path, capsys):
    problem_file = tmp_path / "heat_family_hc.py"
    problem_file.write_text(HEAT_FAMILY)
    data, run = tmp_path / "data", tmp_path / "run"
    common = ["--device", "cpu", "--seed", "0"]
    dataset = ["dataset", problem_file, "--samples", "6", "--resolution", "12", "--workers", "1", "--out", data]
    assert run_cli(capsys, *dataset, *common).code == 0
    train = ["train", "constrained", problem_file, "--data", data, "--constraint", "hard", "--basis", "3"]
    small = [
        "--time-levels",
        "4",
        "--epochs",
        "1",
        "--batch-size",
        "2",
        "--modes",
        "3",
        "--width",
        "8",
        "--layers",
        "1",
    ]
    assert run_cli(capsys, *train, *small, "--out", run, *common).code == 0
    model_file = run / "constrained_model.pt"
    assert (run / "constrained_model.md").is_file()  # the card for people, as for a plain FNO
    solved = run_cli(capsys, "solve", problem_file, "--solver", "fno", "--set", f"model={model_file}", "--out",
                     tmp_path / "solve", *common)  # fmt: skip
    assert solved.code == 0, solved.err

    # the values are the trained model's final level on the member's initial condition, on the training grid
    problem = load_problem(str(problem_file))
    solution = FNOSolver(Settings(seed=0), model=str(model_file), repeats=1).solve(problem)
    saved = torch.load(model_file, weights_only=True)
    grid = Grid((0.0,), (1.0,), (12,), (True,), method="spectral")
    model = ConstrainedOperator(problem, grid, ConstraintConfig(**saved["config"]), None, 1, ["initial"])
    model.load_state_dict(saved["state"])
    inputs = torch.as_tensor(input_channels(problem, family_member(problem, 0), grid)[None], dtype=torch.float32)
    expected = model(inputs).detach()[0, -1].numpy()
    assert solution.values.shape == (1, 12) and np.abs(expected).max() > 1e-3
    np.testing.assert_allclose(solution.values[0], expected, rtol=0, atol=1e-6)

    refused = run_cli(capsys, "solve", problem_file, "--solver", "fno", "--set", f"model={model_file}", "--set",
                      "n=24", "--out", tmp_path / "n24", *common)  # fmt: skip
    refused.one_line("evaluates on its training grid (n=12)")
