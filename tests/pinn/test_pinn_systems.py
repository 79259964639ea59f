"""PINNs on systems: one network output per unknown, one residual column per equation, Dirichlet values per
named unknown and the pressure gauge as soft losses (hard ones: test_pinn_flow.py); the per-sample
Gauss–Newton Jacobian stays exact."""

from __future__ import annotations

import numpy as np
import torch

from pdesolve.ngd.residual_jacobian import jacobian_function
from pdesolve.pinn.solver import PinnSolver
from pdesolve.problem import Dirichlet, Gauge, Outflow, Problem, Rectangle, div, grad, laplacian, load_problem
from pdesolve.report.metrics import Reference, solution_errors

NGD_ONLY = {"adam_steps": 0, "lbfgs_steps": 0}


def hydrostatic(gauge: Gauge) -> Problem:
    """Stokes with the body force (0, 1) in a closed box: w = 0, p = y − 1/2 (p = 0 at the centre)."""
    return Problem(
        name="hydrostatic",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        unknowns=("u", "v", "p"),
        residual=lambda U, x, p: (-laplacian(U.velocity) + grad(U.p) - (0.0, 1.0), div(U.velocity)),
        boundary=[Dirichlet({"u": 0.0, "v": 0.0}), gauge],
        exact=lambda x, p: (0 * x.x, 0 * x.x, x.y - 0.5),
    )


def test_per_sample_jacobian_of_a_system_equals_autograd(settings64):
    """Equation e is evaluated on copy e of the points, so each residual row has its own network call."""
    problem = load_problem("kovasznay")
    solver = PinnSolver(
        settings64,
        preset="manual",
        width=5,
        depth=2,
        n_interior=12,
        n_boundary=16,
        ngd_steps=1,
        hard_constraints=False,
        **NGD_ONLY,
    )
    trainer = solver.build(problem)
    objective, points = trainer.objective, trainer.points
    assert set(points.boundary) == {0, 1}  # the pressure's condition on x = 1 gets its own points
    fast = jacobian_function(trainer.model, trainer.params, lambda: objective.residual_vector(points))
    slow = jacobian_function(trainer.model, trainer.params, lambda: objective.residual_vector(points), per_sample=False)
    (r_fast, j_fast), (r_slow, j_slow) = fast(), slow()
    assert j_fast.shape == (3 * 12 + 2 * len(points.boundary[0][0]) + len(points.boundary[1][0]), j_fast.shape[1])
    torch.testing.assert_close(r_fast, r_slow, rtol=0, atol=0)
    torch.testing.assert_close(j_fast, j_slow, rtol=1e-10, atol=1e-12)


def test_kovasznay_pinn_by_gauss_newton_within_the_test_budget(settings64):
    """[2, 16, 16, 3] tanh on 200 + 80 points: 1.6e-2 (velocity, relative L2) after 30 steps, ~7 s of CPU."""
    problem = load_problem("kovasznay")
    options = {"width": 16, "depth": 2, "n_interior": 200, "n_boundary": 80, "ngd_steps": 30, **NGD_ONLY}
    solution = PinnSolver(settings64, preset="manual", **options).solve(problem)
    errors = solution_errors(solution, Reference.of(problem))
    assert errors["rel_l2"] < 4e-2, errors
    assert max(e["rel_l2"] for e in errors["per_unknown"].values()) < 8e-2, errors
    arrays = solution.arrays()
    assert {"u", "v", "p"} <= set(arrays) and arrays["p"].shape == (101, 101)


def test_a_point_gauge_fixes_the_pressure_level(settings64):
    """Without the gauge p is known up to a constant; with it p(½, ½) = 0 and p = y − ½ throughout."""
    problem = hydrostatic(Gauge("p", at=(0.5, 0.5)))
    options = {"width": 8, "depth": 1, "n_interior": 100, "n_boundary": 40, "ngd_steps": 20, **NGD_ONLY}
    solution = PinnSolver(settings64, preset="manual", **options).solve(problem)
    errors = solution_errors(solution, Reference.of(problem))
    assert max(e["max_abs"] for e in errors["per_unknown"].values()) < 1e-2, errors
    assert abs(solution(np.array([[0.5, 0.5]]))[0, 2]) < 1e-3


def test_outflow_is_taken_by_networks():
    problem = hydrostatic(Gauge("p"))
    problem = Problem(
        **{**vars(problem), "boundary": (Dirichlet({"u": 0.0, "v": 0.0}, on=lambda x: x.x < 1), Outflow())}
    )
    assert PinnSolver.not_applicable(problem) is None  # the traction's viscosity, 1, read off the residual
