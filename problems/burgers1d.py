"""Viscous Burgers equation of Raissi, Perdikaris & Karniadakis (J. Comput. Phys. 378, 2019).

u_t = -u u_x + ν u_xx on x ∈ [-1, 1], ν = 0.01/π, u(x, 0) = -sin(πx), u(±1, t) = 0.
A steep front forms at x = 0 around t ≈ 0.4.

Reference: ``burgers_raissi.npz`` (the PINN paper's data set, as shipped with DeepXDE): x (256, 1),
t (100, 1), usol (256, 100) indexed [x, t]. The data end at t = 0.99, so the problem's time
interval is [0, 0.99] rather than the paper's [0, 1].
"""

import numpy as np

from pdesolve.problem import Dirichlet, Interval, Problem, ReferenceData, d, pi, sin


def load_reference(data):
    x, t = np.meshgrid(data["x"].ravel(), data["t"].ravel(), indexing="ij")
    return np.column_stack([x.ravel(), t.ravel()]), data["usol"].ravel()


problem = Problem(
    name="burgers1d",
    domain=Interval(-1.0, 1.0),
    time=(0.0, 0.99),
    rhs=lambda u, x, p: -u * d(u, "x") + p.nu * d(u, "x", 2),
    initial=lambda x, p: -sin(pi * x.x),
    boundary=Dirichlet(0.0),
    params={"nu": 0.01 / pi},
    reference=ReferenceData("burgers_raissi.npz", load_reference, "Raissi et al.'s Burgers data (DeepXDE)"),
    description="u_t = -u u_x + (0.01/π) u_xx on [-1,1] × [0,0.99], u0 = -sin(πx), u(±1) = 0",
    defaults={"n": 2049, "dt": 1e-3},
)
