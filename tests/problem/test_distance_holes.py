"""The distance function of a polygonal hole: exact on every facet, and no saturation beside its sides."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from pdesolve.problem import Mesh
from pdesolve.problem.distance import atoms, convex_holes, distance_to, hole_distance

FIXTURE = Path(__file__).parents[1] / "data" / "square_minus_disk.msh"


def gradient_and_laplacian(function, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = torch.as_tensor(points, dtype=torch.float64).requires_grad_(True)
    (gradient,) = torch.autograd.grad(function(x).sum(), x, create_graph=True)
    laplacian = sum(torch.autograd.grad(gradient[:, k].sum(), x, retain_graph=True)[0][:, k] for k in range(2))
    return gradient.norm(dim=1).detach().numpy(), laplacian.detach().numpy()


def test_mesh_distance_vanishes_on_every_facet_and_is_positive_inside():
    mesh = Mesh(FIXTURE)
    phi = distance_to(mesh, atoms(mesh, None))
    points, facets, _ = mesh._boundary_facets()
    s = np.linspace(0.0, 1.0, 9)[:, None, None]
    along = ((1 - s) * points[facets[:, 0]] + s * points[facets[:, 1]]).reshape(-1, 2)
    with torch.no_grad():
        on = phi(torch.as_tensor(along)).numpy()
        inside = phi(torch.as_tensor(mesh.sample_interior(4000, seed=0))).numpy()
    assert len(facets) == 48 and np.max(np.abs(on)) < 1e-10  # the hole's Green's function: a fit to 1e-10
    assert inside.min() > 0 and inside.max() <= 1.0 + 1e-2


def test_the_hole_is_one_convex_polygon_and_its_distance_is_euclidean():
    mesh = Mesh(FIXTURE)
    rest, holes = convex_holes(mesh.pieces())
    assert len(holes) == 1 and len(holes[0]) == 16 and len(rest) == 4
    centre = np.array([0.5, 0.5])
    apothem = 0.25 * np.cos(np.pi / 16)
    directions = np.array([[np.cos(a), np.sin(a)] for a in (np.arange(16) + 0.5) * np.pi / 8 + 0.3])
    # beside a side the distance is the line distance; its Laplacian vanishes there
    outward = np.arctan2(*(np.mean(holes[0][[0, 1]], axis=0) - centre)[::-1])
    normal = np.array([np.cos(outward), np.sin(outward)])
    probe = centre + np.outer([apothem + 1e-3, apothem + 0.05], normal)
    with torch.no_grad():
        d = hole_distance(holes[0])(torch.as_tensor(probe)).numpy()
        far = hole_distance(holes[0])(torch.as_tensor(centre + 0.6 * directions)).numpy()
    assert np.allclose(d, [1e-3, 0.05], atol=1e-12)
    assert np.all((far > 0.6 - 0.25) & (far < 0.6 - apothem + 1e-12))


def test_laplacian_beside_the_chords_stays_bounded():
    """The R-equivalence of the 16 chords gave Δφ/|∇φ| ≈ −95 at 1e-3 from a chord's middle (φ ≈ d − d² Σ 1/φ_j);
    the hole's Green's function joined to the square's sides by the R-equivalence of order 2 gives about 1/R, 4,
    as the circle's own distance ``|x − c| − R`` would."""
    mesh = Mesh(FIXTURE)
    phi = distance_to(mesh, atoms(mesh, None))
    _, holes = convex_holes(mesh.pieces())
    vertices = holes[0]
    middles = (vertices + np.roll(vertices, -1, axis=0)) / 2
    normals = (middles - 0.5) / np.linalg.norm(middles - 0.5, axis=1, keepdims=True)
    for distance, bound in ((1e-3, 5.0), (1e-2, 5.0)):
        size, laplacian = gradient_and_laplacian(phi, middles + distance * normals)
        assert np.max(np.abs(laplacian) / size) < bound
