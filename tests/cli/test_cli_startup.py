"""A fast command: ``--help``, ``--version`` and ``list`` run in a fresh interpreter without importing torch,
DeepXDE or matplotlib (their import is most of a slow start); ``list PROBLEM`` imports the families it probes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import pdesolve

ROOT = Path(pdesolve.__file__).resolve().parents[1]
HEAVY = ("torch", "deepxde", "matplotlib", "sympy")

SCRIPT = """
import contextlib, io, json, sys
from pdesolve.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit:
        code = exit.code
heavy = [m for m in HEAVY if m in sys.modules]
print(json.dumps({"code": code, "out": out.getvalue(), "heavy": heavy}))
""".replace("HEAVY", repr(HEAVY))


def run_fresh(*argv: str, cwd: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PDESOLVE_PROBLEMS", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("argv", [("--help",), ("--version",), ("list",)])
def test_startup_commands_import_no_heavy_library(argv, tmp_path):
    result = run_fresh(*argv, cwd=tmp_path)
    assert result["code"] == 0 and result["heavy"] == [], result
    if argv == ("--version",):
        assert result["out"].strip() == f"pdesolve {pdesolve.__version__}"
    if argv == ("list",):
        rows = [line.split()[:5] for line in result["out"].splitlines()]
        assert ["poisson_lshape", "stationary", "2D,", "data", "poisson_lshape_fem.npz:"] in rows
        assert ["cg", "cg", "preconditioned", "conjugate", "gradients"] in rows
    if argv == ("--help",):
        assert all(command in result["out"] for command in ("list", "solve", "compare", "show", "dataset", "train"))


def test_list_of_a_problem_probes_the_solver_families(tmp_path):
    result = run_fresh("list", "heat2d", cwd=tmp_path)
    assert result["code"] == 0 and "torch" in result["heavy"]
    verdicts = dict(line.split(maxsplit=1) for line in result["out"].splitlines()[1:])
    assert verdicts["spectral"] == "applies" and verdicts["fd"].startswith("no: ")
