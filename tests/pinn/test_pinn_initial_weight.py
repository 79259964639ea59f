"""``initial_weight``: a factor on the initial condition's loss term where the condition is not built in (the mesh's
holed square, whose data miss the chords); refused in one line where there is no such term."""

from __future__ import annotations

import pytest
import torch

import pdesolve.cli
from pdesolve.errors import PdesolveError
from pdesolve.pinn.solver import PinnSolver
from pdesolve.problem import Dirichlet, Interval, Problem, laplacian, pi, sin

TINY = {"preset": "manual", "adam_steps": 0, "lbfgs_steps": 0, "ngd_steps": 1, "width": 6, "depth": 1}


def heat(initial) -> Problem:
    """u_t = u_xx on (0, 1), u = 0 at both ends, u₀ = ``initial``."""
    return Problem(
        name="heat1d",
        domain=Interval(0.0, 1.0),
        time=(0.0, 0.1),
        rhs=lambda u, x, p: laplacian(u),
        boundary=Dirichlet(0.0),
        initial=initial,
        defaults={"pinn": {"n_interior": 32, "n_initial": 16}},
    )


def incompatible_heat() -> Problem:
    """u₀ = 1 misses the boundary data, so the initial condition is a loss term."""
    return heat(lambda x, p: 1.0 + 0 * x.x)


def test_the_factor_scales_the_initial_rows_of_the_gauss_newton_residual_and_nothing_else(settings64):
    problem = incompatible_heat()
    terms, vectors = [], []
    for weight in (1.0, 4.0):
        trainer = PinnSolver(settings64, initial_weight=weight, **TINY).build(problem)
        assert "initial" not in trainer.model.exact_conditions
        points = trainer.points
        terms.append({name: float(term.detach()) for name, term in trainer.objective.terms(points).items()})
        vectors.append(trainer.objective.residual_vector(points).detach())
        loss = float(trainer.objective.weighted(trainer.objective.terms(points)).detach())
        assert loss == pytest.approx(terms[-1]["pde"] + weight * terms[-1]["initial"], rel=1e-14)
    assert terms[0] == terms[1]  # same seed, same network: only the weighting differs
    n_initial = len(points.initial)
    plain, weighted = vectors
    torch.testing.assert_close(weighted[:-n_initial], plain[:-n_initial], rtol=0, atol=0)
    torch.testing.assert_close(weighted[-n_initial:], 2.0 * plain[-n_initial:], rtol=1e-15, atol=0)


def test_no_initial_term_is_one_line_and_exit_2(settings64, capsys, tmp_path):
    with pytest.raises(PdesolveError, match=r"^pinn: initial_weight weights .* \(the condition is built in"):
        PinnSolver(settings64, initial_weight=10.0, **TINY).build(heat(lambda x, p: sin(pi * x.x)))
    code = pdesolve.cli.main(
        ["solve", "poisson2d", "--solver", "pinn", "--set", "initial_weight=10", "--out", str(tmp_path / "run")]
    )
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "initial_weight" in lines[0], lines
