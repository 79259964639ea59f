"""Time marching: windows join continuously, a linear problem is solved window by window, resume per window."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from pinn_helpers import relative_l2

from pdesolve.errors import PdesolveError
from pdesolve.pinn.checkpoint import load_checkpoint
from pdesolve.pinn.sampling import Sampler
from pdesolve.pinn.solver import PinnSolver
from pdesolve.problem import Interval, Periodic, Problem, d, exp, pi, sin

GN = {"adam_steps": 0, "lbfgs_steps": 0, "ngd_damping": 1e-3}


def advection_diffusion() -> Problem:
    """u_t = −u_x + 0.05 u_xx on [−1, 1) periodic, t ∈ [0, 1], u₀ = sin πx; exact e^{−0.05π²t} sin π(x − t)."""
    return Problem(
        name="advection_diffusion",
        domain=Interval(-1.0, 1.0),
        time=(0.0, 1.0),
        rhs=lambda u, x, p: -d(u, "x") + p.nu * d(u, "x", 2),
        initial=lambda x, p: sin(pi * x.x),
        boundary=Periodic(),
        params={"nu": 0.05},
        exact=lambda x, p: exp(-p.nu * pi**2 * x.t) * sin(pi * (x.x - x.t)),
    )


def test_windows_join_continuously_and_each_time_reads_its_window(settings64):
    """u_k(x, t_k) = u_{k−1}(x, t_k) to 1e-12 (hard initial condition through the time factor)."""
    options = {"width": 8, "depth": 2, "n_interior": 64, "ngd_steps": 2, "time_windows": 3, "periodic_modes": 2}
    marcher = PinnSolver(settings64, preset="manual", **GN, **options).build(advection_diffusion())
    marcher.run()
    model, edges = marcher.model, marcher.edges
    assert edges == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0], abs=0) and edges[-1] == 1.0
    x = torch.linspace(-1, 1, 101, dtype=torch.float64)
    for k in (1, 2):
        at = torch.stack([x, torch.full_like(x, edges[k])], dim=1)
        with torch.no_grad():
            jump = model.windows[k](at) - model.windows[k - 1](at)
            assert float(jump.abs().max()) <= 1e-12
            inside = torch.stack([x, torch.full_like(x, (edges[k] + edges[k + 1]) / 2)], dim=1)
            assert torch.equal(model(inside), model.windows[k](inside))
            # the window's own network moved it away from the previous one inside the window
            assert float((model.windows[k](inside) - model.windows[k - 1](inside)).abs().max()) > 1e-6
    assert "window initial" in model.exact_conditions


def test_time_marching_solves_advection_diffusion(settings64):
    """Three windows of 40 Gauss–Newton steps each: relative L2 ≤ 1e-3 against the exact solution (6.1e-4)."""
    options = {"width": 10, "depth": 1, "n_interior": 150, "ngd_steps": 40, "time_windows": 3, "periodic_modes": 2}
    solution = PinnSolver(settings64, preset="manual", **GN, **options).solve(advection_diffusion())
    assert solution.stats["time_windows"] == 3 and solution.stats["steps"]["ngd"] <= 120
    assert len(solution.stats["window_losses"]) == 3
    assert relative_l2(solution, advection_diffusion()) <= 1e-3
    assert np.all(np.isfinite(solution.arrays()["u"]))


def _interrupt_after(calls: int):
    count = {"n": 0}

    def callback(trainer) -> None:
        count["n"] += 1
        if count["n"] == calls:
            raise KeyboardInterrupt

    return callback


@pytest.mark.parametrize("calls", [4, 8])  # inside the second window; inside the third
def test_resume_inside_a_window_reproduces_the_uninterrupted_run(tmp_path, settings64, calls):
    problem = advection_diffusion()
    options = {"width": 6, "depth": 1, "n_interior": 48, "ngd_steps": 6, "time_windows": 3, "ngd_refresh_every": 3}
    full = PinnSolver(settings64, preset="manual", **GN, **options, rad=True).solve(problem)
    path = tmp_path / "march.pt"
    saving = {**GN, **options, "rad": True, "checkpoint": str(path), "checkpoint_every": 2}
    marcher = PinnSolver(settings64, preset="manual", **saving).build(problem, _interrupt_after(calls), 2)
    with pytest.raises(KeyboardInterrupt):
        marcher.run()
    assert load_checkpoint(path)["windows_done"] == (1 if calls < 8 else 2)
    resumed = PinnSolver(settings64, preset="manual", **GN, **options, rad=True, resume=str(path)).solve(problem)
    assert resumed.stats["steps"] == full.stats["steps"]
    for ours, theirs in zip(resumed.stats["window_losses"], full.stats["window_losses"], strict=True):
        assert math.isclose(ours, theirs, rel_tol=1e-10, abs_tol=0)


def test_rad_draws_from_as_many_candidates_as_asked_and_refuses_none(settings64, monkeypatch):
    requested = []
    interior = Sampler.interior

    def recording(self, n, *args, **kwargs):
        requested.append(n)
        return interior(self, n, *args, **kwargs)

    monkeypatch.setattr(Sampler, "interior", recording)
    options = {**GN, "width": 6, "depth": 1, "n_interior": 48, "ngd_steps": 4, "ngd_refresh_every": 2, "rad": True}
    for k in (3, 25):
        requested.clear()
        PinnSolver(settings64, preset="manual", **options, rad_candidates=k).solve(advection_diffusion())
        assert k * 48 in requested
    with pytest.raises(PdesolveError, match="rad_candidates"):
        PinnSolver(settings64, preset="manual", **options, rad_candidates=0).build(advection_diffusion())
