"""Poisson on the unit square with a manufactured solution.

-Δu = 2π² sin(πx) sin(πy) on [0, 1]², u = 0 on the boundary; exact u = sin(πx) sin(πy).
The benchmark of energy natural gradient descent (Müller & Zeinhofer, ICML 2023, "Achieving high
accuracy with PINNs via energy natural gradients").
"""

from pdesolve.problem import Dirichlet, Problem, Rectangle, laplacian, pi, sin

problem = Problem(
    name="poisson2d",
    domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
    residual=lambda u, x, p: -laplacian(u) - 2 * pi**2 * sin(pi * x.x) * sin(pi * x.y),
    boundary=Dirichlet(0.0),
    exact=lambda x, p: sin(pi * x.x) * sin(pi * x.y),
    description="-Δu = 2π² sin(πx) sin(πy) on [0,1]², u = 0; exact sin(πx) sin(πy)",
    defaults={"n": 65},
)
