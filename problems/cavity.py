"""Lid-driven cavity: steady incompressible Navier–Stokes in the unit square (Ghia, Ghia & Shin 1982).

(w·∇)w + ∇p − ν Δw = 0, ∇·w = 0, ν = 1/Re; the lid y = 1 moves with u = 1, v = 0; no slip on the other
walls; the pressure's mean is zero. Scored by the largest deviation of u on the vertical centreline
x = 0.5 and of v on the horizontal centreline y = 0.5 from Ghia et al.'s tables at Re = 100
(``ldc_ghia1982_re100.csv``; at other Re the profiles are still reported against that table).

The two top corners: the lid velocity jumps there. The walls' condition is listed first and claims the
corner points, so the lid velocity is 1 on the open top edge and 0 at the corners (the "watertight"
cavity); a finite-element solution takes the lid velocity only on the top edge's own nodes. Networks
impose both conditions exactly by the transfinite blend of Sukumar & Srinivasan (2022, eq. 12),
``u = w_lid · 1 + w_walls · 0 + φ N`` with ``w_lid = φ_walls / (φ_walls + φ_lid)``: 1 on the open lid,
0 on the walls and, the walls claiming them, 0 at the two corners themselves. The jump itself is carried by
the Stokes flow of a wall sliding past a fixed one at 90° (Taylor's scraper, Moffatt 1964; velocity a function
of the angle only, pressure ~ 1/r), cut off smoothly at distance 1 from each top corner and added to the
network's velocity and pressure, the lid data less its cut-off corner values being blended instead
(:mod:`pdesolve.pinn.corner`; ``--set corner_enrichment=false``: the blend alone, whose Laplacian grows like
1/r² at the corners). The lid is not regularised, so the scores are against Ghia's table for the same
discontinuous lid.
"""

from pdesolve.problem import Dirichlet, Gauge, Problem, Profile, Rectangle, navier_stokes

GHIA = "ldc_ghia1982_re100.csv"


def residual(U, x, p):
    return navier_stokes(U, 1 / p.Re)


problem = Problem(
    name="cavity",
    domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
    unknowns=("u", "v", "p"),
    residual=residual,
    boundary=[
        Dirichlet({"u": 0.0, "v": 0.0}, on=("left", "right", "bottom")),
        Dirichlet({"u": 1.0, "v": 0.0}, on="top"),
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
