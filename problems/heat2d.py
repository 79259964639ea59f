"""Heat equation, the first benchmark of TENG (Chen et al., "TENG: Time-evolving natural gradient
for solving PDEs with deep neural nets toward machine precision", ICML 2024).

u_t = ν Δu on [0, 2π)² periodic, ν = 0.1, t ∈ [0, 4], u(x, y, 0) = 0.04 cosh(3 sin x) sinh(sin y)
(the initial condition of the authors' code; it matches their shipped reference to 4e-16). The
solution is a Fourier series with decaying modes; the reference is the spectral solve. Their time
step: 0.005 (``dt``); ETDRK4 is exact to 1e-13 at 64² with steps of 0.05
(``spectral.dt``).
"""

from pdesolve.problem import Periodic, Problem, Rectangle, cosh, laplacian, pi, sin, sinh

problem = Problem(
    name="heat2d",
    domain=Rectangle((0.0, 0.0), (2 * pi, 2 * pi)),
    time=(0.0, 4.0),
    rhs=lambda u, x, p: p.nu * laplacian(u),
    initial=lambda x, p: 0.04 * cosh(3 * sin(x.x)) * sinh(sin(x.y)),
    boundary=Periodic(),
    params={"nu": 0.1},
    description="u_t = 0.1 Δu on [0,2π)² periodic, t ∈ [0,4], u0 = 0.04 cosh(3 sin x) sinh(sin y)",
    defaults={"n": 64, "dt": 0.005, "spectral": {"dt": 0.05}},
)
