"""The pinn solver refuses problems whose equation does not evaluate on a network field."""

from __future__ import annotations

import numpy as np
from pinn_helpers import POISSON1D_SOURCE, poisson1d

import pdesolve.cli
from pdesolve.pinn.solver import PinnSolver
from pdesolve.problem import Periodic, Problem, Rectangle, d, inverse_laplacian, laplacian, load_problem


def _vorticity(w, x, p):
    psi = inverse_laplacian(-w)
    return -(d(psi, "y") * d(w, "x") - d(psi, "x") * d(w, "y")) + 1e-3 * laplacian(w)


def test_applies_to_a_plain_poisson_problem():
    assert PinnSolver.not_applicable(poisson1d()) is None


def test_refuses_inverse_laplacian():
    problem = Problem(
        name="vorticity",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        time=(0.0, 1.0),
        rhs=_vorticity,
        initial=lambda x, p: x.x * 0,
        boundary=Periodic(),
    )
    assert "inverse_laplacian" in PinnSolver.not_applicable(problem)
    assert "inverse_laplacian" in PinnSolver.not_applicable(load_problem("navier_stokes2d"))


def test_refuses_a_residual_written_with_numpy():
    problem = poisson1d(residual=lambda u, x, p: np.sin(u.values.detach().numpy()))
    reason = PinnSolver.not_applicable(problem)
    assert reason is not None and "numpy" in reason


def test_the_command_says_why(tmp_path, capsys):
    source = POISSON1D_SOURCE.replace('-d(u, "x", 2)', 'x.x.numpy() * 0 - d(u, "x", 2)')
    (tmp_path / "numpy_residual.py").write_text(source)
    argv = ["solve", str(tmp_path / "numpy_residual.py"), "--solver", "pinn", "--out", str(tmp_path / "run")]
    assert pdesolve.cli.main(argv) == 2
    assert "does not apply" in capsys.readouterr().err
