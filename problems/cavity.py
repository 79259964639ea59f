"""Lid-driven cavity: steady incompressible Navier–Stokes in the unit square (Ghia, Ghia & Shin 1982).

(w·∇)w + ∇p − ν Δw = 0, ∇·w = 0, ν = 1/Re; the lid y = 1 moves with u = 1, v = 0; no slip on the other
walls; the pressure's mean is zero. Scored by the largest deviation of u on the vertical centreline
x = 0.5 and of v on the horizontal centreline y = 0.5 from Ghia et al.'s tables at Re = 100
(``ldc_ghia1982_re100.csv``; at other Re the profiles are still reported against that table).

The two top corners: the lid velocity jumps there. The walls' condition is listed first and claims the
corner points, so the lid velocity is 1 on the open top edge and 0 at the corners (the "watertight"
cavity); a finite-element solution takes the lid velocity only on the top edge's own nodes.
"""

from pdesolve.problem import Dirichlet, Gauge, Problem, Profile, Rectangle, convective, div, grad, laplacian

GHIA = "ldc_ghia1982_re100.csv"


def residual(U, x, p):
    w = U.velocity
    return {
        "momentum": convective(w) + grad(U.p) - laplacian(w) / p.Re,
        "continuity": div(w),
    }


def walls(x):
    return (abs(x.x) < 1e-9) | (abs(x.x - 1.0) < 1e-9) | (abs(x.y) < 1e-9)


problem = Problem(
    name="cavity",
    domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
    unknowns=("u", "v", "p"),
    residual=residual,
    boundary=[
        Dirichlet({"u": 0.0, "v": 0.0}, on=walls),
        Dirichlet({"u": 1.0, "v": 0.0}, on=lambda x: abs(x.y - 1.0) < 1e-9),
        Gauge("p"),
    ],
    params={"Re": 100.0},
    quantities={
        "u_centreline": Profile(unknown="u", table=GHIA, key="u", axis=1, fixed=(0.5,)),
        "v_centreline": Profile(unknown="v", table=GHIA, key="v", axis=0, fixed=(0.5,)),
    },
    description="Lid-driven cavity, steady Navier–Stokes in (u, v, p), Re = 100, against Ghia et al. (1982)",
    defaults={"n": 17},
)
