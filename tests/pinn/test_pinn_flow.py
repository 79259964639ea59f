"""PINNs on incompressible flow: exact residuals of Kovasznay's solution, hard Dirichlet constraints per unknown
(boxes, the cylinder channel, the cavity's lid corners), the stream-function ansatz, the do-nothing outflow."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from pdesolve.ngd.residual_jacobian import jacobian_function
from pdesolve.pinn.corner import corner_flow
from pdesolve.pinn.losses import boundary_residual, network_field, pde_residual
from pdesolve.pinn.model import build_model
from pdesolve.pinn.outflow import viscosity
from pdesolve.pinn.solver import PinnSolver
from pdesolve.problem import Coords, Dirichlet, Outflow, Problem, Rectangle, div, grad, laplacian, load_problem
from pdesolve.report.metrics import Reference, solution_errors

NGD_ONLY = {"adam_steps": 0, "lbfgs_steps": 0}


class Exact(nn.Module):
    """The problem's exact solution as a model: (N, 2) points → (N, unknowns)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__()
        self.problem = problem

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        values = self.problem.exact(Coords([points[:, 0], points[:, 1]]), self.problem.p)
        return torch.stack([values[name] for name in self.problem.unknowns], dim=1)


def untrained(problem: Problem, **options) -> nn.Module:
    return build_model(problem, width=8, depth=2, seed=3, **options).double()


def test_kovasznay_exact_solution_has_zero_residual_through_the_pinn_loss():
    problem = load_problem("kovasznay")
    points = torch.as_tensor(problem.domain.sample_interior(200, seed=1), dtype=torch.float64)
    residual = pde_residual(Exact(problem), problem, points)
    assert residual.shape == (200, 3)
    assert float(residual.detach().abs().max()) < 1e-12


def test_kovasznay_conditions_are_exact_on_its_boundary():
    """u, v on the whole boundary, p on x = 1, by the network's construction (to 1e-12, untrained)."""
    problem = load_problem("kovasznay")
    model = untrained(problem)
    assert set(model.transform.columns) == {"u", "v", "p"} and len(model.transform.dirichlet) == 2
    points, _ = problem.domain.sample_boundary(400, seed=2)
    right = np.column_stack([np.full(50, 1.0), np.linspace(-0.5, 1.5, 50)])
    exact = Exact(problem)
    x = torch.as_tensor(np.vstack([points, right]), dtype=torch.float64)
    error = (model(x) - exact(x)).detach().abs()
    assert float(error[:, :2].max()) < 1e-12
    assert float(error[-50:, 2].max()) < 1e-12
    assert float(error[:-50, 2].max()) > 1e-3  # the pressure is free elsewhere


@pytest.mark.parametrize("part", ["left", "top", "bottom", "cylinder"])
def test_cylinder_channel_conditions_are_exact_on_walls_inlet_and_cylinder(part):
    problem = load_problem("cylinder")
    model = untrained(problem)
    points, _ = problem.domain.sample_boundary(3000, seed=4)
    points = points[problem.domain.part_mask(points, frozenset({part}))]
    assert len(points) > 50
    values = model(torch.as_tensor(points, dtype=torch.float64)).detach().numpy()
    inflow = problem.boundary[1].value["u"](Coords([points[:, 0], points[:, 1]]), problem.p)
    expected_u = inflow if part == "left" else 0.0
    assert np.abs(values[:, 0] - expected_u).max() < 1e-12
    assert np.abs(values[:, 1]).max() < 1e-12


def test_cylinder_outflow_and_pressure_stay_free():
    problem = load_problem("cylinder")
    model = untrained(problem)
    assert set(model.transform.columns) == {"u", "v"}
    right = torch.as_tensor(np.column_stack([np.full(20, 2.2), np.linspace(0.02, 0.39, 20)]), dtype=torch.float64)
    assert float(model(right)[:, 0].detach().abs().min()) > 0  # no condition built in on the outflow


def test_cavity_lid_is_one_on_the_open_edge_and_the_corners_take_the_walls_value():
    problem = load_problem("cavity")
    model = untrained(problem)
    s = np.linspace(0.0, 1.0, 101)
    lid = np.column_stack([s[1:-1], np.ones(99)])
    walls = np.vstack([np.column_stack([np.zeros(101), s]), np.column_stack([np.ones(101), s]), np.c_[s, 0 * s]])
    corners = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    value = {name: model(torch.as_tensor(x, dtype=torch.float64)).detach().numpy() for name, x in
             (("lid", lid), ("walls", walls), ("corners", corners))}  # fmt: skip
    assert np.abs(value["lid"][:, 0] - 1).max() < 1e-12 and np.abs(value["lid"][:, 1]).max() < 1e-12
    assert np.abs(value["walls"][:, :2]).max() < 1e-12
    assert np.abs(value["corners"][:, :2]).max() < 1e-12
    near = torch.tensor([[1e-6, 1.0 - 1e-6]], dtype=torch.float64)
    blend = untrained(problem, corner_enrichment=False)(near).detach().numpy()
    assert 0.0 < blend[0, 0] < 1.0  # the blend alone is continuous off the corner, between the two values
    stokes = torch.stack(corner_flow(model.enrichment.corners[0], near, model.enrichment.nu)[:2], dim=1)
    assert float((model(near)[:, :2] - stokes).detach().abs().max()) < 1e-4  # by default: the Stokes corner flow


def test_stream_function_ansatz_is_divergence_free_to_round_off():
    problem = load_problem("kovasznay")
    model = untrained(problem, ansatz="stream")
    assert set(model.transform.columns) == {"p"}  # velocity conditions soft, the pressure's still exact
    points = torch.as_tensor(problem.domain.sample_interior(300, seed=5), dtype=torch.float64)
    u, _ = network_field(model, problem, points)
    assert float(div(u.velocity).values.detach().abs().max()) < 1e-13
    assert float(u["u"].values.detach().abs().max()) > 1e-2
    with torch.no_grad():
        assert not model(points).requires_grad  # evaluation outside autograd returns plain values


def test_stream_ansatz_needs_a_2d_flow_system():
    with pytest.raises(Exception, match="ansatz=stream needs"):
        build_model(load_problem("poisson2d"), ansatz="stream")


def poiseuille(nu: float, outflow: Outflow) -> Problem:
    """Stokes flow in [0, 2] × [0, 1]: u = 4y(1 − y), p = 8ν(2 − x), traction-free at x = 2."""

    def exact(x, p):
        return {"u": 4 * x.y * (1 - x.y), "v": 0 * x.x, "p": 8 * nu * (2 - x.x)}

    return Problem(
        name="poiseuille",
        domain=Rectangle((0.0, 0.0), (2.0, 1.0)),
        unknowns=("u", "v", "p"),
        residual=lambda U, x, p: (-nu * laplacian(U.velocity) + grad(U.p), div(U.velocity)),
        boundary=[outflow, Dirichlet({"u": lambda x, p: exact(x, p)["u"], "v": 0.0})],
        exact=exact,
    )


def test_outflow_traction_vanishes_for_poiseuille_flow_and_sees_a_pressure_shift():
    nu = 0.01
    problem = poiseuille(nu, Outflow(on="right"))
    assert viscosity(problem) == pytest.approx(nu, rel=1e-12)
    assert viscosity(load_problem("cylinder")) == pytest.approx(1e-3, rel=1e-12)
    assert viscosity(load_problem("kovasznay")) == pytest.approx(1 / 20, rel=1e-12)
    points = torch.as_tensor(np.column_stack([np.full(30, 2.0), np.linspace(0, 1, 30)]), dtype=torch.float64)
    normals = torch.tensor([[1.0, 0.0]], dtype=torch.float64).expand(30, 2)
    exact = Exact(problem)
    assert float(boundary_residual(exact, problem, 0, points, normals).abs().max()) < 1e-13

    class Shifted(nn.Module):
        def forward(self, x):
            return exact(x) + torch.tensor([0.0, 0.0, 0.5], dtype=torch.float64)

    residual = boundary_residual(Shifted(), problem, 0, points, normals)
    torch.testing.assert_close(residual, torch.cat([torch.full((30,), -0.5), torch.zeros(30)]).double())


def test_outflow_needs_a_flow_residual():
    problem = poiseuille(0.01, Outflow(on="right"))
    bad = Problem(**{**vars(problem), "residual": lambda U, x, p: (U.u - U.v, U.p, div(U.velocity))})
    assert PinnSolver.not_applicable(problem) is None
    assert "Outflow" in PinnSolver.not_applicable(bad)


def test_cylinder_is_taken_by_networks_and_trains_its_outflow(settings64):
    problem = load_problem("cylinder")
    assert PinnSolver.not_applicable(problem) is None
    options = {"width": 8, "depth": 1, "n_interior": 60, "n_boundary": 200, "ngd_steps": 2, **NGD_ONLY}
    trainer = PinnSolver(settings64, preset="manual", **options).build(problem)
    assert set(trainer.points.boundary) == {0}  # only the outflow is a loss term; the rest is built in
    before = trainer.loss()
    stats = trainer.run()
    assert "bc0" in stats["loss_terms"] and stats["final_loss"] < before


def test_small_kovasznay_pinn_reaches_its_error_within_the_test_budget(settings64):
    """[2, 16, 16, 3] tanh, hard constraints, 300 points, 15 Gauss–Newton steps: velocity rel. L2 2.3e-5 (< 1e-4)."""
    problem = load_problem("kovasznay")
    options = {"width": 16, "depth": 2, "n_interior": 300, "ngd_steps": 15, **NGD_ONLY}
    solution = PinnSolver(settings64, preset="manual", **options).solve(problem)
    errors = solution_errors(solution, Reference.of(problem))
    assert errors["rel_l2"] < 1e-4, errors
    assert solution.stats["exact_conditions"] == ["dirichlet"]


@pytest.mark.parametrize(("name", "ansatz"), [("cylinder", "plain"), ("kovasznay", "stream")])
def test_per_sample_gauss_newton_jacobian_is_exact_with_hard_constraints_outflow_and_stream(settings64, name, ansatz):
    """Each row still depends on its own network call point: the transform, the outflow copies, ∂ψ."""
    options = {"width": 5, "depth": 2, "n_interior": 10, "n_boundary": 40, "ngd_steps": 1, "ansatz": ansatz}
    trainer = PinnSolver(settings64, preset="manual", **options, **NGD_ONLY).build(load_problem(name))
    objective, points = trainer.objective, trainer.points
    assert points.boundary  # the outflow (cylinder), the velocity's soft values (stream)
    fast = jacobian_function(trainer.model, trainer.params, lambda: objective.residual_vector(points))
    slow = jacobian_function(trainer.model, trainer.params, lambda: objective.residual_vector(points), per_sample=False)
    (r_fast, j_fast), (r_slow, j_slow) = fast(), slow()
    torch.testing.assert_close(r_fast, r_slow, rtol=0, atol=0)
    torch.testing.assert_close(j_fast, j_slow, rtol=1e-10, atol=1e-12)


def test_cavity_pressure_mean_is_set_by_the_model_not_a_loss_term(settings64):
    """The mean gauge of a pressure nothing else fixes: no loss row (the per-sample Jacobian applies), the mean
    exactly c on evaluation, and the training graph's p differs from the evaluated one by a constant only."""
    problem = load_problem("cavity")
    options = {"width": 6, "depth": 1, "n_interior": 40, "ngd_steps": 1, **NGD_ONLY}
    trainer = PinnSolver(settings64, preset="manual", **options).build(problem)
    model = trainer.model
    assert model.exact_conditions == ["dirichlet", "gauge"]
    assert set(trainer.objective.terms(trainer.points)) == {"pde"}
    points = torch.as_tensor(problem.domain.sample_interior(50, seed=7), dtype=torch.float64)
    with torch.no_grad():
        assert abs(float(model(model.gauge.points)[:, 2].mean())) < 1e-14
        evaluated = model(points)
    difference = evaluated - model(points).detach()
    assert float(difference[:, :2].abs().max()) == 0.0
    assert float((difference[:, 2] - difference[0, 2]).abs().max()) < 1e-14 and float(difference[0, 2].abs()) > 1e-6
    residual = lambda: trainer.objective.residual_vector(trainer.points)  # noqa: E731
    fast, slow = (jacobian_function(model, trainer.params, residual, per_sample=flag)()[1] for flag in (True, False))
    torch.testing.assert_close(fast, slow, rtol=1e-10, atol=1e-12)
