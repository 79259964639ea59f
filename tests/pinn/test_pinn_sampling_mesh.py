"""The PINN sampler's interior times: independent of where the points lie on a mesh, and graded on request."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pdesolve.errors import PdesolveError
from pdesolve.pinn.sampling import Sampler
from pdesolve.problem import Dirichlet, Mesh, Problem, Rectangle, laplacian

FIXTURE = Path(__file__).parents[1] / "data" / "square_minus_disk.msh"


def heat_on_mesh() -> Problem:
    return Problem(
        name="heat_mesh",
        domain=Mesh(FIXTURE),
        time=(0.0, 0.5),
        rhs=lambda u, x, p: 0.1 * laplacian(u),
        boundary=Dirichlet(0.0),
        initial=lambda x, p: x.x * 0.0,
    )


def test_mesh_interior_points_cover_every_time_everywhere():
    """The mesh picked elements from the uniforms the sampler draws times from (both ``default_rng(seed)``),
    so each point's time followed its element's number: near (0.1, 0.1) only t in [0.44, 0.48], corr(x, t) −0.32."""
    sampler = Sampler(heat_on_mesh(), [], False, False, n_interior=2000, n_boundary=0, n_initial=0)
    for seed in (0, 1):
        x, y, t = sampler.interior(2000, seed).numpy().T
        assert abs(np.corrcoef(x, t)[0, 1]) < 0.1 and abs(np.corrcoef(y, t)[0, 1]) < 0.1
        for cx, cy in ((0.1, 0.1), (0.9, 0.9), (0.1, 0.9), (0.9, 0.1)):
            near = (np.abs(x - cx) < 0.1) & (np.abs(y - cy) < 0.1)
            assert near.sum() > 50
            assert t[near].min() < 0.05 and t[near].max() > 0.45  # both ends of (0, 0.5) in each corner


def test_time_grading_crowds_the_times_toward_the_start_and_is_refused_where_there_is_no_time():
    """t = t₀ + (t₁ − t₀) s^k: with k = 2 half the points lie in the first quarter of the interval (a quarter when
    uniform), on a mesh and on a box (whose times come with its space-time quasi-random points)."""
    box = replace(heat_on_mesh(), name="heat_box", domain=Rectangle((0, 0), (1, 1)))
    for problem in (heat_on_mesh(), box):
        for grading, share in ((1.0, 0.25), (2.0, 0.5)):
            sampler = Sampler(problem, [], False, False, 4000, 0, 0, time_grading=grading)
            t = sampler.interior(4000, seed=0).numpy()[:, -1]
            assert abs(np.mean(t < 0.125) - share) < 0.03 and t.min() >= 0.0 and t.max() <= 0.5
    poisson = Problem(
        "poisson", Rectangle((0, 0), (1, 1)), residual=lambda u, x, p: -laplacian(u) - 1.0, boundary=Dirichlet(0.0)
    )
    with pytest.raises(PdesolveError, match="time_grading=2.0 needs an evolution problem"):
        Sampler(poisson, [], False, False, 10, 0, 0, time_grading=2.0)
