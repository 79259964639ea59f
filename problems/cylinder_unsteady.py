"""Flow past a cylinder, DFG benchmark 2D-3 (Schäfer & Turek 1996): unsteady Navier–Stokes, 0 ≤ Re(t) ≤ 100.

∂w/∂t = −(w·∇)w − ∇p + ν Δw, ∇·w = 0 in the channel [0, 2.2] × [0, 0.41] minus the disk of radius 0.05 around
(0.2, 0.2), t ∈ (0, 8); inflow u = 4 U(t) y (0.41 − y)/0.41², v = 0 at x = 0 with U(t) = 1.5 sin(πt/8); no slip on
the walls and the cylinder; do-nothing outflow at x = 2.2; ν = 1e-3, w = 0 at t = 0; D = 0.1, largest mean
inflow Ū = 1. Scored by the largest drag and lift coefficients C = 2 F / (Ū² D) over time, whose reference values
(John 2004, "Reference values for drag and lift of a two-dimensional time-dependent flow around a cylinder")
are C_D max = 2.950921575 at t = 3.93625 and C_L max = 0.47795 at t = 5.693125, and the pressure difference between
the cylinder's front and back Δp(8) = p(0.15, 0.2) − p(0.25, 0.2) = −0.1116. The finite elements report the
coefficients after every step (``stats.forces``); ``C_D`` and ``C_L`` in the metrics are their values at t = 8, with
their largest values over time scored against the references.
"""

import importlib.util
from pathlib import Path

from pdesolve.problem import Drag, Lift, PressureDifference, Problem, continuity, navier_stokes_rhs, pi, sin

_spec = importlib.util.spec_from_file_location("_cylinder", Path(__file__).with_name("cylinder.py"))
_steady = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_steady)

DIAMETER, MEAN = 0.1, 1.0
COEFFICIENT = 2 / (MEAN**2 * DIAMETER)
C_D_MAX, C_L_MAX, DP_END = 2.950921575, 0.47795, -0.1116


def rhs(U, x, p):
    return navier_stokes_rhs(U, p.nu)


def constraints(U, x, p):
    return continuity(U)


def peak(x, p):
    """U(t) = 1.5 sin(πt/8), the inflow's peak velocity."""
    return 1.5 * sin(pi * x.t / 8)


def initial(x, p):
    return 0.0 * x.x, 0.0 * x.x


domain, boundary = _steady.channel(peak)

problem = Problem(
    name="cylinder_unsteady",
    domain=domain,
    unknowns=("u", "v", "p"),
    rhs=rhs,
    constraints=constraints,
    time=(0.0, 8.0),
    initial=initial,
    boundary=boundary,
    params={"nu": 1e-3},
    quantities={
        "C_D": Drag(on="cylinder", scale=COEFFICIENT, reference_max=C_D_MAX),
        "C_L": Lift(on="cylinder", scale=COEFFICIENT, reference_max=C_L_MAX),
        "dp": PressureDifference((0.15, 0.2), (0.25, 0.2), reference=DP_END),
    },
    description="DFG 2D-3 flow past a cylinder, unsteady Navier–Stokes in (u, v, p), t in (0, 8): C_D, C_L over time and Δp at t = 8",
    defaults={"n": 45, "refine_near": ("cylinder", 3), "dt": 0.01},
)
