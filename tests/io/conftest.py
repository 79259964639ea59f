"""Grid solutions with known values, built without any solver."""

from __future__ import annotations

import numpy as np
import pytest

from pdesolve.problem import Dirichlet, Grid, Interval, Problem, Rectangle, exp, laplacian, pi, sin
from pdesolve.solvers.solution import GridSolution


@pytest.fixture
def grid_solution_2d() -> GridSolution:
    problem = Problem(
        name="square",
        domain=Rectangle((0.0, 0.0), (1.0, 2.0)),
        residual=lambda u, x, p: laplacian(u),
        boundary=Dirichlet(0.0),
    )
    grid = Grid((0.0, 0.0), (1.0, 2.0), (5, 9))
    x, y = grid.coordinates()
    return GridSolution(problem, grid, x + 10 * y)


@pytest.fixture
def heat_solution() -> GridSolution:
    """The exact heat solution exp(-pi^2 t) sin(pi x) sampled at 81 times."""
    problem = Problem(
        name="heat",
        domain=Interval(0.0, 1.0),
        time=(0.0, 0.1),
        rhs=lambda u, x, p: laplacian(u),
        initial=lambda x, p: sin(pi * x.x),
        boundary=Dirichlet(0.0),
        exact=lambda x, p: exp(-(pi**2) * x.t) * sin(pi * x.x),
    )
    grid = Grid((0.0,), (1.0,), (33,))
    times = np.linspace(0.0, 0.1, 81)
    values = np.exp(-(np.pi**2) * times)[:, None] * np.sin(np.pi * grid.axes[0])[None, :]
    return GridSolution(problem, grid, values, times=times)
