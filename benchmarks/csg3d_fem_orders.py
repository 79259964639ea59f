"""P1 / P2 finite elements on the unit cube minus a ball (u = 0 on the sphere): L2 errors and observed orders,
P2 on curved (isoparametric) and on flat-facet meshes of the same nodes, and the meshes' quality.

    OMP_NUM_THREADS=1 python benchmarks/csg3d_fem_orders.py
"""

from __future__ import annotations

import time

import numpy as np
import skfem

import pdesolve.classical.fem_meshes as meshes
from pdesolve.classical.fem import FiniteElement
from pdesolve.classical.tet_mesher import quality, tetrahedralize
from tests.classical.test_fem_csg3d import HOLED, holed_problem, l2_error


def main() -> None:
    for k in (4, 8, 12, 16, 24):
        start = time.perf_counter()
        mesh = tetrahedralize(HOLED, 1 / k)
        q = quality(mesh)
        volume = np.abs(np.linalg.det((mesh.p[:, mesh.t[1:]] - mesh.p[:, mesh.t[:1]]).transpose(2, 1, 0))).sum() / 6
        print(
            f"mesh h=1/{k}: {mesh.p.shape[1]} nodes, {mesh.t.shape[1]} tetrahedra, quality min {q.min():.3f}, "
            f"1st percentile {np.percentile(q, 1):.3f}, median {np.median(q):.3f}, "
            f"volume - exact {volume - HOLED.measure:.2e}, {time.perf_counter() - start:.1f} s"
        )
    problem = holed_problem()
    curved = meshes.curved_tets
    runs = (("P1", 1, False, [4, 8, 12, 16, 24]), ("P2 curved", 2, False, [4, 6, 8, 12, 16]))
    runs += (("P2 flat facets", 2, True, [4, 6, 8, 12, 16]),)
    for label, order, flat, sizes in runs:
        meshes.curved_tets = (lambda mesh, surfaces: skfem.MeshTet2.from_mesh(mesh)) if flat else curved
        errors, seconds = [], []
        for k in sizes:
            start = time.perf_counter()
            errors.append(l2_error(FiniteElement(n=k + 1, order=order).solve(problem)))
            seconds.append(time.perf_counter() - start)
        orders = np.log(np.array(errors[:-1]) / np.array(errors[1:])) / np.log(np.array(sizes[1:]) / sizes[:-1])
        print(
            f"{label:15s} h=1/{sizes[0]}..1/{sizes[-1]}  L2 " + " ".join(f"{e:.3e}" for e in errors),
            " orders",
            np.round(orders, 2),
            " s",
            np.round(seconds, 1),
        )
    meshes.curved_tets = curved


if __name__ == "__main__":
    main()
