"""Allen–Cahn equation, the PINN benchmark of Raissi et al. (J. Comput. Phys. 2019) used by jaxpi
(Wang et al., "An expert's guide to training physics-informed neural networks", 2023) and PirateNets.

u_t = ε u_xx + 5u - 5u³ on x ∈ [-1, 1] periodic, t ∈ [0, 1], ε = 1e-4, u(x, 0) = x² cos(πx).
No closed form; the reference is a Fourier-spectral ETDRK4 solve.
"""

from pdesolve.problem import Interval, Periodic, Problem, cos, d, pi

problem = Problem(
    name="allen_cahn1d",
    domain=Interval(-1.0, 1.0),
    time=(0.0, 1.0),
    rhs=lambda u, x, p: p.eps * d(u, "x", 2) + 5 * u - 5 * u**3,
    initial=lambda x, p: x.x**2 * cos(pi * x.x),
    boundary=Periodic(),
    params={"eps": 1e-4},
    description="u_t = 1e-4 u_xx + 5u - 5u³ on [-1,1) periodic, t ∈ [0,1], u0 = x² cos(πx)",
    defaults={"n": 512, "dt": 1e-3},
)
