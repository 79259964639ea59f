"""Poisson on the unit cube minus a ball: u = (|x − c|² − R²) e^x vanishes on the sphere."""

from pdesolve.problem import Ball, Box, Dirichlet, Problem, exp, laplacian

C, R = (0.5, 0.5, 0.5), 0.25


def bubble(x):
    return (x.x - C[0]) ** 2 + (x.y - C[1]) ** 2 + (x.z - C[2]) ** 2 - R**2


def exact(x, p):
    return bubble(x) * exp(x.x)


problem = Problem(
    "box_minus_ball",
    Box((0, 0, 0), (1, 1, 1)) - Ball(C, R, name="hole"),
    residual=lambda u, x, p: -laplacian(u) + exp(x.x) * (6 + 4 * (x.x - C[0]) + bubble(x)),
    boundary=[Dirichlet(0.0, on="hole"), Dirichlet(exact)],
    exact=exact,
)
