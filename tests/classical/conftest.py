"""Problems shared by the fd and fem tests (defined here, not in the catalogue)."""

import pytest

from pdesolve.problem import Dirichlet, Polygon, Problem, Rectangle, cos, div, grad, laplacian, pi, sin


def coefficient(x):
    """A smooth diffusion coefficient a = 1 + x²/2 + sin(y)/4."""
    return 1 + x.x**2 / 2 + sin(x.y) / 4


@pytest.fixture(scope="session")
def variable_coefficient() -> Problem:
    """-∇·(a∇u) = f on the unit square, u = sin(πx) sin(πy), u = 0 on the boundary."""

    def forcing(x, p):
        ux, uy = pi * cos(pi * x.x) * sin(pi * x.y), pi * sin(pi * x.x) * cos(pi * x.y)
        ax, ay = x.x, cos(x.y) / 4
        return 2 * pi**2 * coefficient(x) * sin(pi * x.x) * sin(pi * x.y) - ax * ux - ay * uy

    return Problem(
        "variable_coefficient",
        Rectangle((0.0, 0.0), (1.0, 1.0)),
        residual=lambda u, x, p: -div(coefficient(x) * grad(u)) - forcing(x, p),
        boundary=Dirichlet(0.0),
        exact=lambda x, p: sin(pi * x.x) * sin(pi * x.y),
    )


@pytest.fixture(scope="session")
def lshape() -> Problem:
    """-Δu = 1 on the L-shape (0,0),(1,0),(1,-1),(-1,-1),(-1,1),(0,1), u = 0 (DeepXDE's Poisson_Lshape)."""
    return Problem(
        "lshape",
        Polygon([(0, 0), (1, 0), (1, -1), (-1, -1), (-1, 1), (0, 1)]),
        residual=lambda u, x, p: -laplacian(u) - 1.0,
        boundary=Dirichlet(0.0),
        defaults={"n": 33},
    )
