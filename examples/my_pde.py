"""A PDE of your own, in your own file: variable-coefficient diffusion with a manufactured solution.

-∇·(a ∇u) + c u = f on [0, 1]², u = 0 on the boundary, with the coefficient a = 1 + κ (x² + y²),
the reaction c, and f chosen so that u = sin(πx) sin(πy) exactly (the method of manufactured
solutions). Copy this file, change the equation, and run

    pdesolve solve examples/my_pde.py --solver fd
    pdesolve compare examples/my_pde.py

The equation is written once with the operators of ``pdesolve.problem``; grid solvers, finite
elements and physics-informed networks all read this same definition.
"""

from pdesolve.problem import Dirichlet, Problem, Rectangle, cos, div, grad, pi, sin


def coefficient(x, p):
    return 1 + p.kappa * (x.x**2 + x.y**2)


def exact(x, p):
    return sin(pi * x.x) * sin(pi * x.y)


def source(x, p):
    """f = -∇·(a∇u) + c u for the exact u: -a Δu - ∇a·∇u + c u."""
    u_x = pi * cos(pi * x.x) * sin(pi * x.y)
    u_y = pi * sin(pi * x.x) * cos(pi * x.y)
    grad_a_dot_grad_u = 2 * p.kappa * (x.x * u_x + x.y * u_y)
    return (2 * pi**2 * coefficient(x, p) + p.c) * exact(x, p) - grad_a_dot_grad_u


problem = Problem(
    name="my_pde",
    domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
    residual=lambda u, x, p: -div(coefficient(x, p) * grad(u)) + p.c * u - source(x, p),
    boundary=Dirichlet(0.0),
    params={"kappa": 2.0, "c": 5.0},
    exact=exact,
    description="-∇·((1 + κ(x² + y²)) ∇u) + c u = f on [0,1]², u = 0; exact sin(πx) sin(πy)",
    defaults={"n": 65},
)
