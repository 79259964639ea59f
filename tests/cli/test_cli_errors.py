"""Bad input ends with exactly one line ``pdesolve: error: ...`` and exit code 2 (130 for Ctrl-C)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from pdesolve.errors import DivergenceError

PREFIX = "pdesolve: error: "


def one_line(result, *words: str, code: int = 2) -> str:
    assert result.code == code, (result.code, result.err)
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith(PREFIX), line
    assert "Traceback" not in result.err
    for word in words:
        assert word in line, (word, line)
    return line


def test_problem_errors(cli, registry, problems, tmp_path):
    one_line(cli("solve", "no_such_problem", "--solver", "gridfd"), "unknown problem", "no_such_problem")
    one_line(cli("solve", tmp_path / "missing.py", "--solver", "gridfd"), "missing.py", "does not exist")
    bad = {
        "syntax.py": ("problem = Problem(\n", "syntax.py", "does not import"),
        "imports.py": ("import no_such_module_xyz\n", "imports.py", "no_such_module_xyz"),
        "empty.py": ("x = 1\n", "empty.py", "defines no"),
        "inconsistent.py": (
            "from pdesolve.problem import *\n"
            "problem = Problem(name='bad', domain=Interval(0, 1), residual=lambda u, x, p: u,\n"
            "                  boundary=Dirichlet(0.0), time=(0.0, 1.0))\n",
            "inconsistent.py",
            "stationary problem takes no time",
        ),
    }
    for name, (text, *words) in bad.items():
        (tmp_path / name).write_text(text)
        one_line(cli("solve", tmp_path / name, "--solver", "gridfd"), *words)
        one_line(cli("compare", tmp_path / name), *words)


def test_solver_errors(cli, registry, problems):
    line = one_line(cli("solve", problems["poisson1d"], "--solver", "nope"), "unknown solver", "'nope'", "gridfd")
    assert "euler" in line
    one_line(cli("solve", problems["heat1d"], "--solver", "gridfd"), "'gridfd'", "'heat1d'", "stationary problems only")
    one_line(cli("compare", problems["heat1d"], "--solvers", "euler,gridfd"), "'gridfd'", "stationary problems only")
    one_line(cli("compare", problems["heat1d"], "--solvers", "euler,nope"), "unknown solver", "'nope'")
    one_line(cli("compare", problems["heat1d"], "--solvers", ","), "--solvers")


def test_option_errors(cli, registry, problems, tmp_path):
    solve = ("solve", problems["poisson1d"], "--solver", "gridfd")
    one_line(cli(*solve, "--set", "m=3"), "--set", "'m'", "n, tol")
    one_line(cli(*solve, "--set", "n=abc"), "--set n=abc", "int")
    one_line(cli(*solve, "--set", "n"), "--set n", "key=value")
    one_line(cli(*solve, "--set", "pinn.steps=3"), "unknown solver", "'pinn'")
    one_line(cli(*solve, "--device", "tpu"), "unknown device", "'tpu'")
    one_line(cli(*solve, "--dtype", "float16"), "unknown dtype", "float16")
    one_line(cli(*solve, "--seed", "x"), "--seed")
    one_line(cli("solve", problems["poisson1d"]), "--solver")
    one_line(cli("frobnicate"), "frobnicate")
    one_line(cli("compare", problems["poisson1d"], "--set", "steps=3"), "--set steps", "gridfd: n, tol")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on machines without CUDA")
def test_cuda_without_cuda(cli, registry, problems):
    one_line(cli("solve", problems["poisson1d"], "--solver", "gridfd", "--device", "cuda"), "CUDA is not available")


def test_config_file_errors(cli, registry, problems, tmp_path):
    solve = ("solve", problems["poisson1d"], "--solver", "gridfd", "--config")
    one_line(cli(*solve, tmp_path / "none.toml"), "none.toml", "no such file")
    cases = {
        "broken.toml": ("seed = \n", "not valid TOML"),
        "unknown.toml": ("colour = 'red'\n", "unknown key", "colour"),
        "seed.toml": ("seed = 'one'\n", "seed must be an integer"),
        "value.toml": ("[solver]\nn = 2.5\n", "value.toml: [solver] n = 2.5", "int"),
        "key.toml": ("[solver]\nwidth = 3\n", "key.toml", "width"),
        "table.toml": ("solver = 3\n", "[solver]", "table"),
    }
    for name, (text, *words) in cases.items():
        (tmp_path / name).write_text(text)
        one_line(cli(*solve, tmp_path / name), *words)


def test_run_errors(cli, registry, problems, tmp_path):
    solve = ("solve", problems["poisson1d"], "--solver")
    one_line(cli(*solve, "diverging"), "diverged", "NaN")
    raising = registry["raising"]
    raising.error = DivergenceError("loss became NaN at step 12")
    one_line(cli(*solve, "raising"), "loss became NaN at step 12")
    raising.error = KeyboardInterrupt()
    one_line(cli(*solve, "raising"), "interrupted", code=130)
    raising.error = torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB. GPU 0 has ...")
    one_line(cli(*solve, "raising"), "out of CUDA memory", "Tried to allocate 20.00 GiB", "smaller")
    raising.error = ValueError("a bug")
    with pytest.raises(ValueError, match="a bug"):  # internal errors are not dressed up as user errors
        cli(*solve, "raising")


def test_folder_errors(cli, registry, problems, tmp_path):
    one_line(cli("show", tmp_path / "nothing"), "does not exist")
    (tmp_path / "half").mkdir()
    one_line(cli("show", tmp_path / "half"), "half", "no metrics.json")
    out = tmp_path / "done"
    assert cli("solve", problems["poisson1d"], "--solver", "gridfd", "--out", out).code == 0
    one_line(
        cli("solve", problems["poisson1d"], "--solver", "gridfd", "--out", out),
        "already holds a finished pdesolve solve run",
    )


def test_errors_through_python_m(tmp_path):
    """The real entry point, in a fresh interpreter: one line, exit code 2."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "pdesolve", "solve", "no_such_problem", "--solver", "fd"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().startswith(PREFIX + "unknown problem 'no_such_problem'")
    assert len(done.stderr.strip().splitlines()) == 1


def test_an_interrupted_run_leaves_no_metrics_and_no_half_files(cli, registry, problems, tmp_path, monkeypatch):
    import pdesolve.report.run as run_module

    def interrupted(solution, target, title):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "plot_solution", interrupted)
    out = tmp_path / "cut"
    one_line(cli("solve", problems["poisson1d"], "--solver", "gridfd", "--out", out), "interrupted", code=130)
    names = {p.name for p in out.iterdir()}
    assert "metrics.json" not in names and {"solution.npz", "solution.vtu"} <= names
    assert "solution.png" not in names
    one_line(cli("show", out), "not a finished run")
