"""Tiny problems written into tmp_path, small stand-in solvers in an isolated registry, and a CLI runner."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse.linalg as spla
from helpers import POISSON1D, run_cli

import pdesolve.cli
from pdesolve.classical.assembly import assemble, box_grid
from pdesolve.errors import DivergenceError
from pdesolve.problem import Coords, GridField, Problem
from pdesolve.report import progress
from pdesolve.solvers import available
from pdesolve.solvers.base import SOLVERS, Solver, option
from pdesolve.solvers.classical_alias import ClassicalAlias
from pdesolve.solvers.solution import GridSolution

NOREF1D = POISSON1D.replace('name="poisson1d"', 'name="noref1d"').replace("    exact=lambda x, p: sin(pi * x.x),\n", "")

HEAT1D = '''
"""u_t = u_xx on [0, 1], u = 0, u0 = sin(pi x); exact exp(-pi^2 t) sin(pi x)."""
from pdesolve.problem import Dirichlet, Interval, Problem, exp, laplacian, pi, sin

problem = Problem(
    name="heat1d",
    domain=Interval(0.0, 1.0),
    time=(0.0, 0.05),
    rhs=lambda u, x, p: laplacian(u),
    initial=lambda x, p: sin(pi * x.x),
    boundary=Dirichlet(0.0),
    exact=lambda x, p: exp(-pi**2 * x.t) * sin(pi * x.x),
)
'''


class GridFD(Solver):
    """Second-order finite differences through the shared assembly (a stand-in for the real fd)."""

    name = "gridfd"
    family = "classical"
    summary = "test stand-in: assembled finite differences"

    @dataclass(frozen=True)
    class Options:
        n: int = option(33, "nodes per axis")
        tol: float = option(1e-12, "relative residual to stop at")

    @classmethod
    def not_applicable(cls, problem: Problem) -> str | None:
        return "stationary problems only" if problem.is_evolution else None

    @classmethod
    def compare_variants(cls, problem: Problem) -> list[dict]:
        return [{"n": 17}, {"n": 33}]

    def solve(self, problem: Problem) -> GridSolution:
        system = assemble(problem, box_grid(problem, self.config.n))
        values = system.to_grid(spla.spsolve(system.matrix.tocsc(), system.rhs))
        return GridSolution(problem, system.grid, values, stats={"iterations": 1, "dofs": system.grid.size})


class Euler(Solver):
    """Explicit Euler in time on a finite-difference grid (a stand-in for the real mol)."""

    name = "euler"
    family = "classical"
    summary = "test stand-in: explicit Euler"

    @dataclass(frozen=True)
    class Options:
        n: int = option(21, "nodes per axis")
        frames: int = option(6, "stored time levels")

    @classmethod
    def not_applicable(cls, problem: Problem) -> str | None:
        return None if problem.is_evolution else "evolution problems only"

    def solve(self, problem: Problem) -> GridSolution:
        grid = box_grid(problem, self.config.n)
        (t0, t1), h = problem.time, grid.spacing[0]
        steps = int(np.ceil((t1 - t0) / (0.4 * h**2)))
        dt = (t1 - t0) / steps
        u = np.asarray(problem.initial(Coords(grid.coordinates(), t0), problem.p), dtype=float)
        keep = np.unique(np.linspace(0, steps, self.config.frames).round().astype(int))
        frames = [u.copy()]
        for step in range(1, steps + 1):
            x = Coords(grid.coordinates(), t0 + (step - 1) * dt)
            u = u + dt * problem.rhs(GridField(u, grid), x, problem.p).at_nodes().values
            u[0] = u[-1] = 0.0
            if step in keep:
                frames.append(u.copy())
        return GridSolution(problem, grid, np.array(frames), times=t0 + keep * dt, stats={"iterations": steps})


class Diverging(GridFD):
    name = "diverging"
    summary = "test stand-in: NaN everywhere"

    @classmethod
    def compare_variants(cls, problem: Problem) -> list[dict]:
        return [{}]

    def solve(self, problem: Problem) -> GridSolution:
        solution = super().solve(problem)
        solution.values[:] = np.nan
        return solution


class Raising(Diverging):
    """Raises ``self.error`` (set per test) from ``solve``."""

    name = "raising"
    summary = "test stand-in: raises"
    error: BaseException = DivergenceError("went to NaN")

    def solve(self, problem: Problem) -> GridSolution:
        raise type(self).error


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch):
    """SOLVERS holds only the stand-ins and the classical alias (whose 'fd' is the gridfd stand-in)."""
    saved = dict(SOLVERS)
    SOLVERS.clear()
    fake_fd = type("FakeFD", (GridFD,), {"name": "fd", "summary": "test stand-in named fd"})
    for solver in (GridFD, Euler, Diverging, Raising, fake_fd, ClassicalAlias):
        SOLVERS[solver.name] = solver
    monkeypatch.setattr(pdesolve.cli, "load_all", lambda: None)
    yield SOLVERS
    SOLVERS.clear()
    SOLVERS.update(saved)


@pytest.fixture
def installed_solvers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the solver modules that exist so far (other engineers are writing the rest)."""
    present = tuple(m for m in available.SOLVER_MODULES if importlib.util.find_spec(m) is not None)
    monkeypatch.setattr(available, "SOLVER_MODULES", present)


@pytest.fixture
def problems(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "problems"
    folder.mkdir()
    files = {}
    for name, text in {"poisson1d": POISSON1D, "noref1d": NOREF1D, "heat1d": HEAT1D}.items():
        files[name] = folder / f"{name}.py"
        files[name].write_text(text)
    return files


@pytest.fixture
def cli(capsys: pytest.CaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``cli("solve", ...)`` runs ``pdesolve`` in-process (cwd = tmp_path) and returns code, stdout, stderr.

    Progress lines (every few seconds on a pipe; tested in test_cli_report.py) are kept out of stderr, which
    these tests read line by line, however slow the machine."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(progress, "PIPED_EVERY_S", 3600.0)

    return lambda *argv: run_cli(capsys, *argv)
