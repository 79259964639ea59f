"""The Python API: ``pdesolve.solve`` and ``pdesolve.compare`` on the catalogue's poisson2d (real solvers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

import pdesolve as ps
from pdesolve.errors import PdesolveError
from pdesolve.problem import load_problem

ROOT = Path(__file__).resolve().parents[1]


def test_solve_measures_against_the_exact_solution_and_saves_a_run_folder(tmp_path):
    result = ps.solve("poisson2d", "fd", n=33, progress=False)
    points, exact = load_problem("poisson2d").reference_set()
    error = np.linalg.norm(result(points) - exact) / np.linalg.norm(exact)
    # second order: about 1e-3 at h = 1/32 (2.4e-4 at n = 65 in compare)
    assert 5e-4 < result.metrics["rel_l2"] < 2e-3
    assert result.metrics["rel_l2"] == pytest.approx(error, rel=1e-9)
    assert result.metrics["options"] == {"n": 33} and result.metrics["config"]["n"] == 33
    assert result.metrics["iterations"] is None  # a direct solve
    assert result.metrics["command"] == "pdesolve.solve('poisson2d', 'fd', n=33)"
    assert "—" in str(result).splitlines()[-1] and "exact solution" in str(result).splitlines()[0]

    figure = result.plot()
    assert isinstance(figure, Figure) and len([a for a in figure.axes if a.get_label() != "<colorbar>"]) == 2

    folder = result.save(tmp_path / "run")
    saved = json.loads((folder / "metrics.json").read_text())
    assert saved["rel_l2"] == result.metrics["rel_l2"] and saved["files"]["error.png"] == "ok"
    assert {"solution.npz", "solution.vtu", "solution.png", "error.png"} <= {p.name for p in folder.iterdir()}
    with pytest.raises(PdesolveError, match="already holds a finished pdesolve solve run"):
        result.save(folder)


def test_solve_takes_a_problem_object_and_refuses_bad_options():
    problem = load_problem("poisson2d")
    assert ps.solve(problem, "fem", progress=False).metrics["rel_l2"] < 2e-3  # P1 on 32 × 32 cells: 6.7e-4
    with pytest.raises(PdesolveError, match="no solver option 'steps'"):
        ps.solve(problem, "fd", steps=3)
    with pytest.raises(PdesolveError, match="expected an integer"):
        ps.solve(problem, "fd", n="many")
    with pytest.raises(PdesolveError, match="unknown solver"):
        ps.solve(problem, "nonesuch")


def test_compare_rows_and_rendering():
    table = ps.compare("poisson2d", solvers=["fd", "fem"], fem={"refine": 0}, progress=False)
    rows = table.rows
    assert [(r["solver"], r["options"]) for r in rows] == [
        ("fd", {"n": 65}),
        ("fd", {"n": 129}),
        ("fem", {"refine": 0}),
    ]
    fd65, fd129, fem = (r["rel_l2"] for r in rows)
    assert 3.6 < fd65 / fd129 < 4.4  # second order
    assert fem < 2e-3 and table.folder is None
    assert table.best.run.options == {"n": 129} and len(table) == 3 and table[1] is rows[1]

    text = str(table).splitlines()
    assert "exact solution" in text[0]  # the reference named above the table
    assert text[1].split()[:2] == ["solver", "options"] and f"{fd129:.3e}" in text[4]
    assert all(line.split()[-3] == "—" for line in text[3:6])  # direct solves: no iterations
    markdown = table._repr_markdown_()
    assert "exact solution" in markdown and "| fem | refine=0 |" in markdown
    html = table._repr_html_()
    assert html.startswith("<table><caption>poisson2d: Errors are measured against the exact solution")
    assert html.count("<tr>") == 4 and f"{fem:.3e}" in html


def test_compare_keeps_its_folder_when_asked(tmp_path):
    table = ps.compare("poisson2d", solvers=["fd"], n=17, out=tmp_path / "cmp", progress=False)
    assert [r["options"] for r in table] == [{"n": 17}]
    report = (tmp_path / "cmp" / "report.md").read_text()
    assert "| fd | n=17 |" in report and table.folder == tmp_path / "cmp"
    with pytest.raises(PdesolveError, match="solvers: give a list"):
        ps.compare("poisson2d", solvers="fd")


def test_printing_the_default_comparison_from_the_command_line():
    """The whole default comparison (fd, fem, cg, the PINN's ngd preset), as the README's one-liner runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    code = "import pdesolve as ps; print(ps.compare('poisson2d'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "poisson2d: Errors are measured against the exact solution at 6561 points."
    pinn = next(line for line in lines if line.startswith("pinn"))
    assert float(pinn.split()[2]) < 1e-4  # ngd preset: 1.2e-6 measured
    assert {line.split()[0] for line in lines[3:]} >= {"fd", "fem", "cg", "pinn"}


def test_importing_pdesolve_stays_light():
    """``import pdesolve as ps`` loads no torch and no matplotlib until ``ps.solve``/``ps.compare`` is used."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "import sys, pdesolve as ps; print(sorted({'torch', 'matplotlib'} & set(sys.modules)), ps.solve.__module__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.split() == ["[]", "pdesolve.api"], done.stderr
