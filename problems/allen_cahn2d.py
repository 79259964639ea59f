"""Allen–Cahn equation, the second benchmark of TENG (Chen et al., ICML 2024).

u_t = ν Δu + u - u³ on [0, 2π)² periodic, ν = 0.005, t ∈ [0, 4],
u(x, y, 0) = 0.04 cosh(3 sin x) sinh(sin y) (the initial condition of the authors' code, shared by
all three TENG benchmarks). Reference: Fourier spectral on 128² modes (64² are 7e-4 off at T = 4).
Their time step: 0.005 (``dt``); the spectral reference steps 0.02 (``spectral.dt``), 3e-9 from
steps of 0.005.
"""

from pdesolve.problem import Periodic, Problem, Rectangle, cosh, laplacian, pi, sin, sinh

problem = Problem(
    name="allen_cahn2d",
    domain=Rectangle((0.0, 0.0), (2 * pi, 2 * pi)),
    time=(0.0, 4.0),
    rhs=lambda u, x, p: p.nu * laplacian(u) + u - u**3,
    initial=lambda x, p: 0.04 * cosh(3 * sin(x.x)) * sinh(sin(x.y)),
    boundary=Periodic(),
    params={"nu": 0.005},
    description="u_t = 0.005 Δu + u - u³ on [0,2π)² periodic, t ∈ [0,4], u0 = 0.04 cosh(3 sin x) sinh(sin y)",
    defaults={"n": 128, "dt": 0.005, "spectral": {"dt": 0.02}},
)
