"""Helpers of the fault tests: tiny problem files, option sets, the command in this process or a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from helpers import Result, run_cli

ROOT = Path(__file__).resolve().parents[2]

HEAT1D = """
from pdesolve.problem import Interval, Periodic, Problem, d, pi, sin

problem = Problem(
    name="heat1d",
    domain=Interval(0.0, 2 * pi),
    rhs=lambda u, x, p: p.nu * d(u, "x", 2),
    time=(0.0, {t1}),
    initial=lambda x, p: sin(x.x),
    boundary=Periodic(),
    params={{"nu": {nu}}},
)
"""

# tiny runs: a few seconds each on one thread
PINN = [
    "--solver",
    "pinn",
    "--set",
    "preset=manual",
    "--set",
    "lbfgs_steps=0",
    "--set",
    "n_interior=16",
    "--set",
    "width=4",
    "--set",
    "depth=1",
]
TENG = ["--solver", "teng"] + [
    f"--set={key}={value}"
    for key, value in {
        "dt": 0.01,
        "n_points": 32,
        "width": 6,
        "depth": 1,
        "init_adam_steps": 20,
        "init_iterations": 3,
        "iterations": 2,
        "corrector_iterations": 1,
    }.items()
]
FNO = ["--modes", "2", "--width", "4", "--layers", "1", "--batch-size", "2", "--test-samples", "2"]


TINY_DARCY = """
from pdesolve.problem import *
field = GaussianRandomField((0.0, 0.0), (1.0, 1.0), 16, alpha=2.5, tau=3.0, sigma=10.0, boundary='neumann')
problem = Problem(name='tiny_darcy', domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
    residual=lambda u, x, p: -div(exp(p.a(x)) * grad(u)) - 1.0, boundary=Dirichlet(0.0),
    family=Family(a=field))
"""


run = run_cli  # ``run(capsys, *argv)``: the command in this process


def one_line(result: Result, *words: str) -> str:
    return result.one_line(*words)


def problem_file(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(text)
    return path


def spawn(*argv, cwd: Path) -> subprocess.Popen:
    """The command in a child process, on as many threads as this one (identical arithmetic)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(torch.get_num_threads())}
    command = [sys.executable, "-m", "pdesolve", *map(str, argv)]
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 120.0) -> None:
    """Until ``path`` exists (the child's first checkpoint or claim); fails if the child ends first."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the run ended before {path.name} appeared: {process.communicate()}")
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.02)


def same_arrays(first: Path, second: Path) -> bool:
    """Bit-identical ``.npz`` files (every array)."""
    with np.load(first) as a, np.load(second) as b:
        return sorted(a.files) == sorted(b.files) and all(np.array_equal(a[k], b[k]) for k in a.files)
