"""Poisson on the L-shaped domain (DeepXDE's example ``Poisson_Lshape``).

-Δu = 1 on the polygon (0,0), (1,0), (1,-1), (-1,-1), (-1,1), (0,1); u = 0 on the boundary.
The solution has the r^(2/3) corner singularity at the re-entrant corner (0, 0).

Reference: ``poisson_lshape_fem.npz`` (see ``problems/data/README.md``), corner-graded P3 finite elements
converged to about 1e-6, at the 19,521 in-domain points of DeepXDE's 161 × 161 test grid over [-1, 1]².
Odd ``n`` on [-1, 1] puts grid nodes on every corner of the L, so finite differences see the domain exactly.
"""

from pdesolve.problem import Dirichlet, Polygon, Problem, ReferenceData, laplacian


def load_reference(data):
    return data["X_test"], data["y_ref"]


problem = Problem(
    name="poisson_lshape",
    domain=Polygon([(0, 0), (1, 0), (1, -1), (-1, -1), (-1, 1), (0, 1)]),
    residual=lambda u, x, p: -laplacian(u) - 1.0,
    boundary=Dirichlet(0.0),
    reference=ReferenceData("poisson_lshape_fem.npz", load_reference, "corner-graded P3 finite elements"),
    description="-Δu = 1 on the L-shape, u = 0",
    defaults={"n": 257},
)
