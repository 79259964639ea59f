"""Viscous Burgers equation in 2D, the third benchmark of TENG (Chen et al., ICML 2024).

u_t = ν Δu - u (u_x + u_y) on [0, 2π)² periodic, ν = 0.01, t ∈ [0, 4],
u(x, y, 0) = 0.04 cosh(3 sin x) sinh(sin y) (the initial condition of the authors' code, shared by
all three TENG benchmarks). Reference: Fourier spectral on 128² modes (64² are 3e-3 off at T = 4).
Their time step: 0.001 (``dt``); the spectral reference steps 0.01 (``spectral.dt``), 2e-8 from
steps of 0.005.
"""

from pdesolve.problem import Periodic, Problem, Rectangle, cosh, d, laplacian, pi, sin, sinh

problem = Problem(
    name="burgers2d",
    domain=Rectangle((0.0, 0.0), (2 * pi, 2 * pi)),
    time=(0.0, 4.0),
    rhs=lambda u, x, p: p.nu * laplacian(u) - u * (d(u, "x") + d(u, "y")),
    initial=lambda x, p: 0.04 * cosh(3 * sin(x.x)) * sinh(sin(x.y)),
    boundary=Periodic(),
    params={"nu": 0.01},
    description="u_t = 0.01 Δu - u (u_x + u_y) on [0,2π)² periodic, t ∈ [0,4], u0 = 0.04 cosh(3 sin x) sinh(sin y)",
    defaults={"n": 128, "dt": 0.001, "spectral": {"dt": 0.01}},
)
