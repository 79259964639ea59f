"""The channel ansatz (``ansatz="channel"``, :mod:`pdesolve.pinn.channel`) on the DFG cylinder: divergence-free,
velocity conditions exact, the inflow's flux between the walls at every x; and the isotropic input scaling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import pdesolve.cli
from pdesolve.errors import PdesolveError
from pdesolve.ngd.residual_jacobian import jacobian_function, residual_jacobian
from pdesolve.pinn.channel import section_flux
from pdesolve.pinn.losses import pde_residual
from pdesolve.pinn.model import build_model
from pdesolve.pinn.solver import PinnSolver
from pdesolve.problem import load_problem
from pdesolve.solvers.base import Settings

CENTER, RADIUS, HEIGHT, UMAX = (0.2, 0.2), 0.05, 0.41, 0.3
FLUX = 2 / 3 * UMAX * HEIGHT


@pytest.fixture(scope="module")
def problem():
    return load_problem("cylinder")


@pytest.fixture(scope="module")
def model(problem):
    """A channel model with weights away from their start: large random weights, a non-zero level on the disk."""
    model = build_model(problem, width=16, depth=2, seed=3, ansatz="channel").double()
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for weight in model.network.parameters():
            weight.add_(0.5 * torch.randn(weight.shape, generator=generator, dtype=weight.dtype))
        model.potential.levels.weight.fill_(0.3)
    return model


def velocity(model, points: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.as_tensor(points, dtype=torch.float64))[:, :2].numpy()


def test_the_channel_flow_is_divergence_free(problem, model):
    points = torch.as_tensor(problem.domain.sample_interior(500, seed=4, method="pseudo")).requires_grad_(True)
    w = model(points)
    du, dv = (torch.autograd.grad(w[:, j].sum(), points, retain_graph=True)[0] for j in (0, 1))
    divergence = (du[:, 0] + dv[:, 1]).abs().max()
    assert float(du.abs().max()) > 1 and float(divergence) < 1e-12


def test_the_velocity_conditions_hold_exactly(problem, model):
    points, _ = problem.domain.sample_boundary(3000, seed=2)
    inlet, outlet = points[:, 0] == 0.0, points[:, 0] == 2.2
    cylinder = np.abs(np.hypot(points[:, 0] - CENTER[0], points[:, 1] - CENTER[1]) - RADIUS) < 1e-12
    walls = ~inlet & ~outlet & ~cylinder
    assert inlet.sum() > 50 and cylinder.sum() > 20 and walls.sum() > 1000
    w = velocity(model, points)
    y = points[inlet, 1]
    assert np.abs(w[inlet, 0] - 4 * UMAX * y * (HEIGHT - y) / HEIGHT**2).max() < 1e-12
    assert np.abs(w[inlet, 1]).max() < 1e-12
    assert np.abs(w[walls]).max() < 1e-12 and np.abs(w[cylinder]).max() < 1e-12
    assert np.abs(velocity(model, points[outlet])).max() > 1e-2  # the outflow is free


@pytest.mark.parametrize("x", [0.0, 0.1, 0.17, 0.2, 0.26, 1.0, 2.2])
def test_the_flux_between_the_walls_is_the_inflows_at_every_x(model, x):
    assert section_flux(model, model.potential.layout, x) == pytest.approx(FLUX, abs=1e-12)


def test_the_per_sample_jacobian_includes_the_disk_level(problem, model):
    """The Gauss–Newton stage's per-sample rows equal the generic autograd Jacobian, the level θ's column too."""
    angles = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    ring = np.stack([CENTER[0] + 0.09 * np.cos(angles), CENTER[1] + 0.09 * np.sin(angles)], axis=1)  # in the blend
    points = torch.as_tensor(np.concatenate([ring, problem.domain.sample_interior(6, seed=6, method="pseudo")]))
    params = [p for p in model.parameters() if p.requires_grad]
    assert any(p is model.potential.levels.weight for p in params)
    residual = lambda: pde_residual(model, problem, points).T.reshape(-1)  # noqa: E731 - equation by equation
    r, fast = jacobian_function(model, params, residual)()
    generic = residual_jacobian(residual(), params)
    assert torch.allclose(fast, generic, rtol=1e-10, atol=1e-10) and float(generic[:, -1].abs().max()) > 1e-3


def test_only_the_outflow_stays_a_loss_term(problem):
    trainer = PinnSolver(Settings(progress=False), ansatz="channel", ngd_steps=1, n_interior=50).build(problem)
    assert len(trainer.model.exact_dirichlet) == 2 and trainer.model.exact_conditions == ["dirichlet"]
    assert trainer.sampler.soft_conditions == [0]  # the do-nothing outflow, problem.boundary[0]


@pytest.mark.parametrize("name", ["cavity", "kovasznay", "cylinder_unsteady", "poisson2d"])
def test_the_channel_ansatz_refuses_other_problems(name):
    with pytest.raises(PdesolveError, match="ansatz=channel needs"):
        build_model(load_problem(name), width=4, depth=1, ansatz="channel")


def test_the_channel_ansatz_on_a_cavity_exits_2_through_the_command(tmp_path, capsys):
    argv = ["solve", "cavity", "--solver", "pinn", "--out", str(tmp_path / "run"), "--set", "ansatz=channel"]
    assert pdesolve.cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "ansatz=channel" in err and len(err.splitlines()) == 1


def test_isotropic_inputs_keep_the_cylinder_round(problem):
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    circle = torch.as_tensor(np.stack([0.2 + 0.05 * np.cos(angles), 0.2 + 0.05 * np.sin(angles)], axis=1))
    extents = {}
    for scaling in ("box", "isotropic"):
        embedded = build_model(problem, width=4, depth=1, input_scaling=scaling).embedding(circle)
        extents[scaling] = (embedded.max(dim=0).values - embedded.min(dim=0).values).numpy()
    assert extents["isotropic"] == pytest.approx([0.1 / 1.1, 0.1 / 1.1], rel=1e-12)
    assert extents["box"] == pytest.approx([0.1 / 1.1, 0.1 / 0.205], rel=1e-12)  # a 0.09 × 0.49 ellipse
    corners = torch.tensor([[0.0, 0.0], [2.2, 0.41]], dtype=torch.float64)
    embedded = build_model(problem, width=4, depth=1, input_scaling="isotropic").embedding(corners)
    assert embedded.numpy().ravel() == pytest.approx([-1, -0.41 / 2.2, 1, 0.41 / 2.2], rel=1e-12)
