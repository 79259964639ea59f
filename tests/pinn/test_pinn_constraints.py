"""Hard constraints hold to rounding in float64, for an untrained network."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from pdesolve.pinn.losses import network_field
from pdesolve.pinn.model import build_model, default_dtype
from pdesolve.problem import (
    Dirichlet,
    Interval,
    Periodic,
    Polygon,
    Problem,
    Rectangle,
    cos,
    d,
    exp,
    laplacian,
    load_problem,
    pi,
    sin,
)

LSHAPE = [(0, 0), (1, 0), (1, -1), (-1, -1), (-1, 1), (0, 1)]


def _model(problem: Problem, network: str = "mlp"):
    return build_model(problem, network, width=16, depth=2, hard_constraints=True, seed=1).double()


def _tensor(points) -> torch.Tensor:
    return torch.as_tensor(np.asarray(points, dtype=float))


def test_dirichlet_on_a_rectangle_with_varying_data():
    g = lambda x, p: sin(3 * x.x) + x.y**2  # noqa: E731
    problem = Problem(
        name="box", domain=Rectangle((-1, 0), (2, 1)), residual=lambda u, x, p: laplacian(u), boundary=Dirichlet(g)
    )
    points, _ = problem.domain.sample_boundary(400, seed=0)
    for network in ("mlp", "fourier", "gated"):
        u = _model(problem, network)(_tensor(points)).detach().numpy()
        assert np.max(np.abs(u - (np.sin(3 * points[:, 0]) + points[:, 1] ** 2))) <= 1e-12


def test_dirichlet_on_the_l_shape():
    problem = Problem(
        name="lshape", domain=Polygon(LSHAPE), residual=lambda u, x, p: -laplacian(u) - 1.0, boundary=Dirichlet(0.0)
    )
    points, _ = problem.domain.sample_boundary(600, seed=0)
    corners = np.array(LSHAPE, dtype=float)
    u = _model(problem)(_tensor(np.vstack([points, corners]))).detach().numpy()
    assert np.max(np.abs(u)) <= 1e-12
    inside = problem.domain.sample_interior(200, seed=1)
    assert np.min(np.abs(_model(problem)(_tensor(inside)).detach().numpy())) > 0  # not trivially zero


def test_initial_and_dirichlet_in_time():
    problem = Problem(
        name="heat",
        domain=Interval(0.0, 1.0),
        time=(0.5, 1.5),
        rhs=lambda u, x, p: d(u, "x", 2),
        initial=lambda x, p: sin(pi * x.x) + 2 * x.x,
        boundary=Dirichlet(lambda x, p: 2 * x.x * exp(x.t - 0.5)),
    )
    model = _model(problem)
    x = np.linspace(0, 1, 101)
    start = model(_tensor(np.column_stack([x, np.full_like(x, 0.5)]))).detach().numpy()
    assert np.max(np.abs(start - (np.sin(np.pi * x) + 2 * x))) <= 1e-12
    t = np.linspace(0.5, 1.5, 51)
    for end in (0.0, 1.0):
        edge = model(_tensor(np.column_stack([np.full_like(t, end), t]))).detach().numpy()
        assert np.max(np.abs(edge - 2 * end * np.exp(t - 0.5))) <= 1e-12


def test_periodic_embedding_is_exactly_periodic_with_derivatives():
    problem = Problem(
        name="ac",
        domain=Interval(-1.0, 1.0),
        time=(0.0, 1.0),
        rhs=lambda u, x, p: 1e-4 * d(u, "x", 2) + 5 * u - 5 * u**3,
        initial=lambda x, p: cos(pi * x.x) ** 2 + 0.5 * sin(pi * x.x),
        boundary=Periodic(),
    )
    model = _model(problem, "fourier")
    assert model.exact_conditions == ["initial", "periodic"]
    t = torch.linspace(0, 1, 21, dtype=torch.float64)
    low, _ = network_field(model, problem, torch.stack([torch.full_like(t, -1.0), t], 1))
    high, _ = network_field(model, problem, torch.stack([torch.full_like(t, 1.0), t], 1))
    for order in (0, 1, 2):
        a = low.derivative("x", order).values if order else low.values
        b = high.derivative("x", order).values if order else high.values
        assert float(torch.max(torch.abs(a - b))) <= 1e-12 * max(1.0, float(torch.max(torch.abs(a))))
    x = torch.linspace(-1, 1, 33, dtype=torch.float64)
    start = model(torch.stack([x, torch.zeros_like(x)], 1))
    exact = torch.cos(torch.pi * x) ** 2 + 0.5 * torch.sin(torch.pi * x)
    assert float(torch.max(torch.abs(start - exact))) <= 1e-12
    allen_cahn = replace(problem, initial=lambda x, p: x.x**2 * cos(pi * x.x))  # ∂u₀ jumps across x = ±1
    assert _model(allen_cahn).exact_conditions == ["periodic"]


def test_seeded_model_does_not_depend_on_the_default_dtype():
    """DeepXDE sets a float64 default; the same seed must still give the same network (it once did not)."""
    problem = load_problem("allen_cahn1d")
    reference = build_model(problem, width=8, depth=2, seed=3)
    previous = torch.get_default_dtype()
    with default_dtype(torch.float64):
        other = build_model(problem, width=8, depth=2, seed=3)
    assert torch.get_default_dtype() == previous
    for a, b in zip(reference.parameters(), other.parameters(), strict=True):
        assert torch.equal(a, b)
