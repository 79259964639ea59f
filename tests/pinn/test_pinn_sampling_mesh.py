"""The PINN sampler on a mesh: interior points' times independent of where they lie."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pdesolve.pinn.sampling import Sampler
from pdesolve.problem import Dirichlet, Mesh, Problem, laplacian

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
