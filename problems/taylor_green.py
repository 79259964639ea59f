"""Taylor–Green vortex: unsteady incompressible Navier–Stokes with an exact decaying solution
(Taylor & Green 1937; the transient flow of the catalogue).

∂w/∂t = −(w·∇)w − ∇p + ν Δw, ∇·w = 0 on the unit square, ν = 1/Re, t ∈ (0, T); exact
u = −cos πx sin πy F, v = sin πx cos πy F, p = −(cos 2πx + cos 2πy) F² / 4 with F = e^{−2π²νt}.
The velocity is given on the whole boundary from the exact solution and the pressure has mean zero
(as the exact one does). The convection is a gradient here, so the nonlinear term is balanced by the
pressure: a test of the velocity–pressure coupling and of the time stepping rather than of the
nonlinear solve.
"""

import math

from pdesolve.problem import Dirichlet, Gauge, Problem, Rectangle, continuity, cos, exp, navier_stokes_rhs, pi, sin


def _decay(x, p):
    return exp(-2 * math.pi**2 * x.t / p.Re)


def exact(x, p):
    F = _decay(x, p)
    return {
        "u": -cos(pi * x.x) * sin(pi * x.y) * F,
        "v": sin(pi * x.x) * cos(pi * x.y) * F,
        "p": -0.25 * (cos(2 * pi * x.x) + cos(2 * pi * x.y)) * F * F,
    }


def rhs(U, x, p):
    return navier_stokes_rhs(U, 1 / p.Re)


def constraints(U, x, p):
    return continuity(U)


def initial(x, p):
    values = exact(x, p)
    return values["u"], values["v"]


problem = Problem(
    name="taylor_green",
    domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
    unknowns=("u", "v", "p"),
    rhs=rhs,
    constraints=constraints,
    time=(0.0, 1.0),
    initial=initial,
    boundary=[
        Dirichlet({"u": lambda x, p: exact(x, p)["u"], "v": lambda x, p: exact(x, p)["v"]}),
        Gauge("p"),
    ],
    params={"Re": 100.0},
    exact=exact,
    description="Taylor–Green vortex, unsteady Navier–Stokes in (u, v, p), Re = 100, t in (0, 1), exact solution",
    defaults={"n": 9, "dt": 0.05},
)
