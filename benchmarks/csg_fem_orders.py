"""P1 / P2 finite elements on the unit square minus a disk (u = 0 on the circle): L2 errors and observed orders,
P2 on curved (isoparametric) and on straight-chord meshes of the same nodes.

    OMP_NUM_THREADS=1 python benchmarks/csg_fem_orders.py
"""

from __future__ import annotations

import numpy as np

import pdesolve.classical.fem_meshes as meshes
from pdesolve.classical.fem import FiniteElement
from tests.classical.test_fem_csg import holed_problem, l2_error


def main() -> None:
    problem, sizes = holed_problem(), [8, 16, 32, 64]
    curved = meshes.curved
    for label, order, straight in (("P1", 1, False), ("P2 curved", 2, False), ("P2 straight chords", 2, True)):
        meshes.curved = (lambda mesh, domain: mesh) if straight else curved
        errors = [l2_error(FiniteElement(n=k + 1, order=order).solve(problem)) for k in sizes]
        orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
        print(f"{label:20s} h=1/8..1/64  L2 " + " ".join(f"{e:.3e}" for e in errors), " orders", np.round(orders, 2))
    meshes.curved = curved


if __name__ == "__main__":
    main()
