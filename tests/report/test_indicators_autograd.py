"""Residual indicators of network solutions by autograd on the network itself (PINN, TENG, systems), and the
local interpolant kept for solutions without a differentiable form."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pdesolve.ngd import FlatModule
from pdesolve.pinn.model import build_model
from pdesolve.pinn.solution import PinnSolution
from pdesolve.problem import (
    Dirichlet,
    Gauge,
    Interval,
    Problem,
    Rectangle,
    cos,
    d,
    div,
    grad,
    laplacian,
    load_problem,
    pi,
    sin,
)
from pdesolve.report.indicators import indicators, residual_points, residual_rows
from pdesolve.teng.solution import TengSolution

A, C = 0.5, 0.2  # the viscous Burgers travelling wave u = C − A tanh(A (x − C t) / 2ν)


class Formula(torch.nn.Module):
    """A network solution given by a torch formula of the points."""

    def __init__(self, formula) -> None:
        super().__init__()
        self.formula = formula
        self.anchor = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))  # dtype and device for PinnSolution

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.formula(points)


class Interpolated(PinnSolution):
    """The same network seen as a solution without a differentiable form (values only)."""

    differentiable = False


def wave(points: torch.Tensor, nu: float, eps: float = 0.0) -> torch.Tensor:
    x, t = points[:, 0], points[:, 1]
    return C - A * torch.tanh(A * (x - C * t) / (2 * nu)) + eps * torch.sin(np.pi * x) * t


def test_burgers_front_residual_is_that_of_the_network():
    """burgers1d's equation on its exact travelling wave (front width 2ν/A ≈ 0.013, narrower than the stencil's
    4h = 0.08): zero through autograd, O(1) through the interpolant; a perturbation ε sin(πx) t gives its own
    analytic residual ε (w_t + u w_x + w u_x − ν w_xx) + ε² w w_x."""
    problem = load_problem("burgers1d")
    nu = problem.params["nu"]
    exact = PinnSolution(problem, Formula(lambda q: wave(q, nu)))
    found = indicators(exact, problem)
    assert found["indicators_derivatives"] == "autograd" and found["residual_rms"] < 1e-10, found
    assert indicators(Interpolated(problem, exact.model), problem)["residual_rms"] > 0.1  # the old figure's fault
    eps = 1e-3
    perturbed = PinnSolution(problem, Formula(lambda q: wave(q, nu, eps)))
    points = residual_points(perturbed, problem, np.random.default_rng(7919))
    assert points[:, 1].min() < 0.02 and points[:, 1].max() > 0.97  # the whole time interval
    x, t = points[:, 0], points[:, 1]
    s = A * (x - C * t) / (2 * nu)
    u, u_x = C - A * np.tanh(s), -(A**2) / (2 * nu) / np.cosh(s) ** 2
    w, w_t, w_x = np.sin(np.pi * x) * t, np.sin(np.pi * x), np.pi * np.cos(np.pi * x) * t
    w_xx = -(np.pi**2) * w
    analytic = eps * (w_t + u * w_x + w * u_x - nu * w_xx) + eps**2 * w * w_x
    assert np.sqrt(np.mean(analytic**2)) > 1e-3
    assert indicators(perturbed, problem)["residual_rms"] == pytest.approx(np.sqrt(np.mean(analytic**2)), rel=1e-9)


@pytest.mark.parametrize("name", ["poisson2d", "heat2d"])
def test_smooth_network_residual_is_unchanged_from_the_interpolant(name):
    """On a smooth field the two derivatives agree point by point (the interpolant's O(h⁴) error)."""
    problem = load_problem(name)
    model = build_model(problem, width=16, depth=2, seed=4).double()
    points = residual_points(Interpolated(problem, model), problem, np.random.default_rng(7919))
    (autograd,) = residual_rows(PinnSolution(problem, model), problem, points)
    (interpolant,) = residual_rows(Interpolated(problem, model), problem, points)
    rms = float(torch.sqrt(torch.mean(autograd**2)))
    assert rms > 1e-2 and float(torch.max(torch.abs(autograd - interpolant))) < 1e-4 * rms


def test_teng_residual_is_that_of_its_interpolant_in_time():
    """Heat u_t = ν u_xx with networks a_k sin(πx) at the steps: the Hermite interpolant H(t) of a_k with slopes
    F = −νπ² a_k leaves the residual (H' + νπ² H) sin(πx), exactly what the indicator measures."""
    nu, lam = 0.1, 0.1 * np.pi**2
    problem = Problem(
        "heat_teng",
        Interval(0.0, 1.0),
        rhs=lambda u, x, p: nu * d(u, "x", 2),
        time=(0.0, 1.0),
        initial=lambda x, p: sin(pi * x.x),
        boundary=Dirichlet(0.0),
    )

    class Mode(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))

        def forward(self, points: torch.Tensor) -> torch.Tensor:
            return self.a * torch.sin(np.pi * points[:, 0])

    times = np.linspace(0.0, 1.0, 5)
    thetas = torch.as_tensor(np.exp(-lam * times)[:, None])
    solution = TengSolution(problem, FlatModule(Mode()), times, thetas)
    points = residual_points(solution, problem, np.random.default_rng(7919))
    x, t = points[:, 0], points[:, 1]
    k = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    h, s = times[k + 1] - times[k], (t - times[k]) / (times[k + 1] - times[k])
    a0, a1 = np.exp(-lam * times[k]), np.exp(-lam * times[k + 1])
    value = (2 * s**3 - 3 * s**2 + 1) * a0 + (3 * s**2 - 2 * s**3) * a1
    value += h * ((s**3 - 2 * s**2 + s) * -lam * a0 + (s**3 - s**2) * -lam * a1)
    slope = (6 * s**2 - 6 * s) * (a0 - a1) / h + (3 * s**2 - 4 * s + 1) * -lam * a0 + (3 * s**2 - 2 * s) * -lam * a1
    (found,) = residual_rows(solution, problem, points)
    analytic = (slope + lam * value) * np.sin(np.pi * x)
    assert np.sqrt(np.mean(analytic**2)) > 1e-5
    np.testing.assert_allclose(found.numpy(), analytic, atol=1e-12)
    assert np.allclose(solution(points), value * np.sin(np.pi * x), atol=1e-14)  # the field is the solution


def stokes(U, x, p):
    """Stokes (ν = 1) with the forcing of u = sin x cos y, v = −cos x sin y, p = 0."""
    momentum = -laplacian(U.velocity) + grad(U.p)
    return (momentum[0] - 2 * sin(x.x) * cos(x.y), momentum[1] + 2 * cos(x.x) * sin(x.y), div(U.velocity))


def test_a_system_has_one_residual_per_equation():
    """The exact solution leaves every equation at zero; a pressure error ε x² only the x-momentum, by 2εx."""
    problem = Problem(
        "stokes_exact",
        Rectangle((0.0, 0.0), (1.0, 1.0)),
        unknowns=("u", "v", "p"),
        residual=stokes,
        boundary=[Dirichlet({"u": 0.0, "v": 0.0}), Gauge("p")],
    )

    def field(q: torch.Tensor, eps: float) -> torch.Tensor:
        x, y = q[:, 0], q[:, 1]
        return torch.stack([torch.sin(x) * torch.cos(y), -torch.cos(x) * torch.sin(y), eps * x**2], dim=1)

    exact = indicators(PinnSolution(problem, Formula(lambda q: field(q, 0.0))), problem)
    assert max(exact["residual_rms_per_equation"]) < 1e-12 and exact["residual_rms"] < 1e-12, exact
    perturbed = PinnSolution(problem, Formula(lambda q: field(q, 1e-2)))
    found = indicators(perturbed, problem)
    x = residual_points(perturbed, problem, np.random.default_rng(7919))[:, 0]
    assert found["residual_rms_per_equation"][0] == pytest.approx(np.sqrt(np.mean((2e-2 * x) ** 2)), rel=1e-10)
    assert max(found["residual_rms_per_equation"][1:]) < 1e-12
    assert found["residual_rms"] == pytest.approx(found["residual_rms_per_equation"][0], rel=1e-10)
    assert found["boundary_max"] > 0.5  # sin x cos y is not 0 on the walls: the Dirichlet values are checked
