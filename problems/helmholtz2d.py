"""Helmholtz equation with a manufactured solution, the PINN benchmark of Wang, Teng & Perdikaris
("Understanding and mitigating gradient pathologies in physics-informed neural networks",
SIAM J. Sci. Comput. 2021, section 2.2).

Δu + k²u = q on [-1, 1]², u = 0 on the boundary, with exact u = sin(a₁πx) sin(a₂πy), a₁ = 1,
a₂ = 4, k = 1 (all three are parameters). Written here as -Δu - k²u = f with
f = ((a₁π)² + (a₂π)² - k²) u.
"""

from pdesolve.problem import Dirichlet, Problem, Rectangle, laplacian, pi, sin


def exact(x, p):
    return sin(p.a1 * pi * x.x) * sin(p.a2 * pi * x.y)


def forcing(x, p):
    return ((p.a1 * pi) ** 2 + (p.a2 * pi) ** 2 - p.k**2) * exact(x, p)


problem = Problem(
    name="helmholtz2d",
    domain=Rectangle((-1.0, -1.0), (1.0, 1.0)),
    residual=lambda u, x, p: -laplacian(u) - p.k**2 * u - forcing(x, p),
    boundary=Dirichlet(0.0),
    params={"k": 1.0, "a1": 1.0, "a2": 4.0},
    exact=exact,
    description="-Δu - k²u = f on [-1,1]², u = 0; exact sin(a₁πx) sin(a₂πy)",
    defaults={"n": 129},
)
