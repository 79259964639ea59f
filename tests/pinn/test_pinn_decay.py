"""The decay factor of the output transform: ``u = g + e^{−λ(t − t₀)} (u₀ − g(t₀) + φτN)`` for data that decay."""

from __future__ import annotations

import math

import numpy as np
import torch

from pdesolve.pinn.constraints import build_transform
from pdesolve.pinn.initial import initial_decay_rate
from pdesolve.pinn.model import build_model
from pdesolve.problem import Dirichlet, Disk, Problem, Rectangle, laplacian, load_problem, pi, sin

HOLED = Rectangle((0.0, 0.0), (1.0, 1.0)) - Disk((0.5, 0.5), 0.25)


def heat(domain, nu: float, final: float, initial) -> Problem:
    return Problem(
        "heat",
        domain,
        time=(0.0, final),
        rhs=lambda u, x, p: nu * laplacian(u),
        boundary=Dirichlet(0.0),
        initial=initial,
    )


def test_the_rate_is_nu_times_the_rayleigh_quotient_and_only_large_ones_switch_the_factor_on():
    mode = lambda x, p: sin(pi * x.x) * sin(pi * x.y)  # noqa: E731 - Δ mode = −2π² mode
    square = Rectangle((0.0, 0.0), (1.0, 1.0))
    slow = build_transform(heat(square, 0.01, 0.5, mode), True)  # λ(t₁ − t₀) = 0.099: no factor
    assert abs(initial_decay_rate(slow) - 2 * math.pi**2 * 0.01) < 1e-12 and slow.decay == 0.0
    fast = build_transform(heat(square, 0.1, 0.5, mode), True)  # 2π² · 0.1 · 0.5 = 0.99 < 2
    assert fast.decay == 0.0
    faster = build_transform(heat(square, 0.1, 2.0, mode), True)  # 3.9 ≥ 2
    assert abs(faster.decay - 2 * math.pi**2 * 0.1) < 1e-12
    for name in ("burgers1d", "heat2d", "advection1d", "burgers2d"):  # the catalogue's transforms unchanged
        assert build_transform(load_problem(name), True).decay == 0.0


def test_both_conditions_stay_exact_with_the_decay_factor():
    problem = heat(
        HOLED, 0.1, 0.5, lambda x, p: sin(pi * x.x) * sin(pi * x.y) * ((x.x - 0.5) ** 2 + (x.y - 0.5) ** 2 - 0.0625)
    )
    torch.manual_seed(0)
    model = build_model(problem, width=8, depth=2).double()
    assert model.transform.decay > 8  # ≈ 10.7 for these data
    space, _ = HOLED.sample_boundary(400, seed=1)
    times = np.random.default_rng(0).uniform(0.0, 0.5, (len(space), 1))
    inside = HOLED.sample_interior(400, seed=2)
    with torch.no_grad():
        on = model(torch.as_tensor(np.hstack([space, times])))
        start = model(torch.as_tensor(np.hstack([inside, np.zeros((len(inside), 1))])))
    x, y = inside.T
    u0 = np.sin(np.pi * x) * np.sin(np.pi * y) * ((x - 0.5) ** 2 + (y - 0.5) ** 2 - 0.0625)
    assert float(on.abs().max()) < 1e-12
    assert np.max(np.abs(start.numpy() - u0)) < 1e-15
