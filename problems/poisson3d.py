"""Poisson on the unit cube with a manufactured solution (the 3D analogue of ``poisson2d``).

-Δu = 3π² sin(πx) sin(πy) sin(πz) on [0, 1]³, u = 0 on the boundary; exact u = sin(πx) sin(πy) sin(πz).
"""

from pdesolve.problem import Box, Dirichlet, Problem, laplacian, pi, sin


def exact(x, p):
    return sin(pi * x.x) * sin(pi * x.y) * sin(pi * x.z)


problem = Problem(
    name="poisson3d",
    domain=Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
    residual=lambda u, x, p: -laplacian(u) - 3 * pi**2 * exact(x, p),
    boundary=Dirichlet(0.0),
    exact=exact,
    description="-Δu = 3π² sin(πx) sin(πy) sin(πz) on [0,1]³, u = 0; exact sin(πx) sin(πy) sin(πz)",
    defaults={"n": 33},
)
