"""Poisson on the L-shaped domain (DeepXDE's example ``Poisson_Lshape``).

-Δu = 1 on the polygon (0,0), (1,0), (1,-1), (-1,-1), (-1,1), (0,1); u = 0 on the boundary.
The solution has the r^(2/3) corner singularity at the re-entrant corner (0, 0).

Reference: ``poisson_lshape.npz`` (DeepXDE's ``examples/dataset/Poisson_Lshape.npz``), 25,921
points of a 161 × 161 tensor grid over [-1, 1]²; the 6,400 points outside the L carry NaN and
are dropped. Caveat: the shared data does not satisfy -Δu = 1 exactly (how far off is being
quantified separately), so errors against it are floored at its own accuracy; a fine classical
solve is the better reference. Odd ``n`` on [-1, 1] puts grid nodes on every corner of the L,
so finite differences see the domain exactly.
"""

import numpy as np

from pdesolve.problem import Dirichlet, Polygon, Problem, ReferenceData, laplacian


def load_reference(data):
    values = data["y_ref"].ravel()
    keep = ~np.isnan(values)
    return data["X_test"][keep], values[keep]


problem = Problem(
    name="poisson_lshape",
    domain=Polygon([(0, 0), (1, 0), (1, -1), (-1, -1), (-1, 1), (0, 1)]),
    residual=lambda u, x, p: -laplacian(u) - 1.0,
    boundary=Dirichlet(0.0),
    reference=ReferenceData("poisson_lshape.npz", load_reference, "DeepXDE's Poisson_Lshape.npz, NaN points dropped"),
    description="-Δu = 1 on the L-shape, u = 0",
    defaults={"n": 129},
)
