"""Kovasznay flow: steady incompressible Navier–Stokes with an exact solution (Kovasznay 1948).

(w·∇)w + ∇p − ν Δw = 0, ∇·w = 0 on [−0.5, 1] × [−0.5, 1.5], ν = 1/Re; exact
u = 1 − e^{λx} cos 2πy, v = λ/(2π) e^{λx} sin 2πy, p = (1 − e^{2λx})/2 with λ = Re/2 − sqrt(Re²/4 + 4π²).
Velocity given on the whole boundary and the pressure on x = 1, as in DeepXDE's own example
(examples/pinn_forward/Kovasznay_flow.py, Re = 20). The conditions name the box's faces, so networks
impose them exactly: the velocity on the whole boundary, the pressure on x = 1 (``pdesolve.pinn.constraints``).
"""

import math

from pdesolve.problem import Dirichlet, Problem, Rectangle, cos, exp, navier_stokes, pi, sin


def _lambda(p):
    return p.Re / 2 - math.sqrt(p.Re**2 / 4 + 4 * math.pi**2)


def exact(x, p):
    lam = _lambda(p)
    return {
        "u": 1 - exp(lam * x.x) * cos(2 * pi * x.y),
        "v": lam / (2 * pi) * exp(lam * x.x) * sin(2 * pi * x.y),
        "p": 0.5 * (1 - exp(2 * lam * x.x)),
    }


def residual(U, x, p):
    return navier_stokes(U, 1 / p.Re)


problem = Problem(
    name="kovasznay",
    domain=Rectangle((-0.5, -0.5), (1.0, 1.5)),
    unknowns=("u", "v", "p"),
    residual=residual,
    boundary=[
        Dirichlet({"u": lambda x, p: exact(x, p)["u"], "v": lambda x, p: exact(x, p)["v"]}),
        Dirichlet({"p": lambda x, p: exact(x, p)["p"]}, on="right"),
    ],
    params={"Re": 20.0},
    exact=exact,
    description="Kovasznay flow, steady Navier–Stokes in (u, v, p), Re = 20, exact solution",
    defaults={"n": 17},
)
