"""Linear advection with a large speed, the PINN failure mode of Krishnapriyan et al.
("Characterizing possible failure modes in physics-informed neural networks", NeurIPS 2021).

u_t = -β u_x on x ∈ [0, 2π] periodic, t ∈ [0, 1], β = 50, u(x, 0) = sin x; exact u = sin(x - βt).
"""

from pdesolve.problem import Interval, Periodic, Problem, d, pi, sin

problem = Problem(
    name="advection1d",
    domain=Interval(0.0, 2 * pi),
    time=(0.0, 1.0),
    rhs=lambda u, x, p: -p.beta * d(u, "x"),
    initial=lambda x, p: sin(x.x),
    boundary=Periodic(),
    params={"beta": 50.0},
    exact=lambda x, p: sin(x.x - p.beta * x.t),
    description="u_t = -β u_x on [0,2π) periodic, t ∈ [0,1], β = 50, u0 = sin x; exact sin(x - βt)",
    defaults={"n": 256, "dt": 2e-4},
)
