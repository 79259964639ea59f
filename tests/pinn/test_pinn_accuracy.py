"""A PINN solves 1D Poisson; L-BFGS improves on Adam."""

from __future__ import annotations

from pinn_helpers import relative_l2

from pdesolve.pinn.solver import PinnSolver
from pdesolve.solvers.base import SOLVERS

SMALL = {"width": 16, "depth": 2, "n_interior": 32}


def test_registered():
    assert SOLVERS["pinn"] is PinnSolver


def test_poisson1d_reaches_1e_3(problem1d, settings64):
    solution = PinnSolver(settings64, preset="manual", adam_steps=100, lbfgs_steps=60, **SMALL).solve(problem1d)
    assert relative_l2(solution, problem1d) <= 1e-3
    assert solution.stats["exact_conditions"] == ["dirichlet"]
    assert solution.stats["steps"]["adam"] == 100


def test_lbfgs_lowers_the_loss_after_adam(problem1d, settings64):
    trainer = PinnSolver(
        settings64, preset="manual", hard_constraints=False, adam_steps=150, lbfgs_steps=60, **SMALL
    ).build(problem1d)
    stats = trainer.run()
    after_adam = trainer.history[149]
    assert stats["steps"]["lbfgs"] > 10  # did not stop after a few iterations
    assert stats["final_loss"] < 1e-2 * after_adam
