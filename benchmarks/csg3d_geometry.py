"""3D constructive geometry on the unit cube minus a ball (and a ball cut out of its top face, or of an edge): volume
exact or Monte Carlo, boundary samples (normals outward), the distance function on the boundary and inside.

    OMP_NUM_THREADS=1 python benchmarks/csg3d_geometry.py
"""

from __future__ import annotations

import math
import time

import torch

from pdesolve.problem import Ball, Box
from pdesolve.problem.distance import atoms, distance_to

HOLED = Box((0, 0, 0), (1, 1, 1)) - Ball((0.5, 0.5, 0.5), 0.25, name="hole")
DENTED = Box((0, 0, 0), (1, 1, 1)) - Ball((0.5, 0.5, 1.0), 0.3, name="dent")
EDGE = Box((0, 0, 0), (1, 1, 1)) - Ball((1.0, 1.0, 0.5), 0.3)


def main() -> None:
    print(f"holed volume {HOLED.measure!r} (exact {1 - 4 / 3 * math.pi * 0.25**3!r}, error {HOLED.measure_error})")
    half, quarter = 1 - 2 / 3 * math.pi * 0.3**3, 1 - math.pi * 0.3**3 / 3
    print(f"dented volume {DENTED.measure!r} (exact {half!r}, error {DENTED.measure_error})")
    print(f"edge volume {EDGE.measure:.6f} ± {EDGE.measure_error:.6f} (exact {quarter:.6f})")
    for name, domain in (("holed", HOLED), ("dented", DENTED)):
        start = time.perf_counter()
        points, normals = domain.sample_boundary(100000, seed=0)
        seconds = time.perf_counter() - start
        phi = distance_to(domain, atoms(domain, None))
        boundary = float(phi(torch.as_tensor(points)).abs().max())
        inside = phi(torch.as_tensor(domain.sample_interior(20000, seed=1)))
        outward = (
            int(domain.inside(points + 1e-6 * normals).sum()) == 0 and domain.inside(points - 1e-6 * normals).all()
        )
        print(
            f"{name}: 100000 boundary points in {seconds:.2f} s, normals outward {outward}, |phi| on them "
            f"{boundary:.1e}, phi inside in [{float(inside.min()):.2e}, {float(inside.max()):.3f}]"
        )


if __name__ == "__main__":
    main()
