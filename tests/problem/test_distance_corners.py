"""The distance function of a polygonal hole near its vertices (reflex corners of the domain): zero on the sides,
positive inside, and a bounded Laplacian where the Euclidean distance has its 1/r."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from pdesolve.problem import Mesh
from pdesolve.problem.distance import atoms, convex_holes, corner_adapted, distance_to, hole_distance

FIXTURE = Path(__file__).parents[1] / "data" / "square_minus_disk.msh"
TRIANGLE = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]])  # clockwise: the domain lies outside


def laplacian(function, points: np.ndarray) -> np.ndarray:
    x = torch.as_tensor(points, dtype=torch.float64).requires_grad_(True)
    (gradient,) = torch.autograd.grad(function(x).sum(), x, create_graph=True)
    return sum(torch.autograd.grad(gradient[:, k].sum(), x, retain_graph=True)[0][:, k] for k in range(2)).detach()


def wedge_points(vertices: np.ndarray, k: int, radii: list[float], angles: int = 7) -> np.ndarray:
    """Points at the given distances from vertex k, spread over the domain's wedge there (sides excluded)."""
    v, ahead, behind = vertices[k], vertices[(k + 1) % len(vertices)], vertices[k - 1]
    start = math.atan2(*(ahead - v)[::-1])
    span = 2 * math.pi - math.acos(
        np.dot(ahead - v, behind - v) / np.linalg.norm(ahead - v) / np.linalg.norm(behind - v)
    )
    theta = start + span * (np.arange(angles) + 0.5) / angles  # counter-clockwise from the side ahead
    return np.array([v + r * np.array([math.cos(a), math.sin(a)]) for r in radii for a in theta])


def test_corner_adapted_hole_distance_vanishes_on_the_sides_and_follows_the_singular_function():
    """A triangular hole: wedges of 270° and 315°, ψ = c r^α cos(αθ) near each vertex, α = π/ω (θ from the bisector)."""
    phi = corner_adapted(hole_distance(TRIANGLE), TRIANGLE)
    s = np.linspace(0.0, 1.0, 101)[:, None]
    sides = np.concatenate([(1 - s) * a + s * b for a, b in zip(TRIANGLE, np.roll(TRIANGLE, -1, axis=0))])
    with torch.no_grad():
        assert float(phi(torch.as_tensor(sides)).abs().max()) < 1e-12
        inside = phi(
            torch.as_tensor(np.concatenate([wedge_points(TRIANGLE, k, [1e-6, 1e-3, 0.1, 0.4]) for k in range(3)]))
        )
        assert float(inside.min()) > 0
        bisector = TRIANGLE[0] - np.array([1.0, 1.0]) / math.sqrt(2) * np.array([[1e-6], [1e-4]])
        ratio = phi(torch.as_tensor(bisector)).numpy() / np.array([1e-6, 1e-4]) ** (2 / 3)
    assert abs(ratio[0] / ratio[1] - 1) < 1e-9  # ψ ∝ r^α, α = π/ω = 2/3 at the right angle (0, 0)
    # harmonic where the cut-off is flat: |Δφ| < 1e-3 at r ≤ 1e-4, where the distance itself has 1/r ≥ 1e4
    assert np.max(np.abs(laplacian(phi, wedge_points(TRIANGLE, 0, [1e-6, 1e-4])).numpy())) < 1e-3
    assert np.max(np.abs(laplacian(phi, wedge_points(TRIANGLE, 0, [1e-2, 0.1, 0.3])).numpy())) < 10


def test_mesh_distance_has_a_bounded_laplacian_at_the_reflex_vertices_of_the_hole():
    """The Euclidean distance gives Δφ ≈ 1/r ahead of each of the 16 vertices (≈ 1.3e4 at r = 1e-3 once divided by
    its peak); the corner-adapted one stays bounded all the way to the vertex, and is zero on every facet."""
    mesh = Mesh(FIXTURE)
    phi = distance_to(mesh, atoms(mesh, None))
    _, holes = convex_holes(mesh.pieces())
    vertices = holes[0]
    near = np.concatenate([wedge_points(vertices, k, [1e-5, 1e-3, 1e-2, 3e-2]) for k in range(len(vertices))])
    assert np.max(np.abs(laplacian(phi, near).numpy())) < 500
    with torch.no_grad():
        assert float(phi(torch.as_tensor(near)).min()) > 0
        points, facets, _ = mesh._boundary_facets()
        s = np.linspace(0.0, 1.0, 9)[:, None, None]
        along = ((1 - s) * points[facets[:, 0]] + s * points[facets[:, 1]]).reshape(-1, 2)
        assert float(phi(torch.as_tensor(along)).abs().max()) < 1e-10
    plain = hole_distance(vertices)
    radial = vertices + 1e-3 * (vertices - 0.5) / np.linalg.norm(vertices - 0.5, axis=1, keepdims=True)
    assert np.min(np.abs(laplacian(plain, radial).numpy())) > 900  # what the corner blend removes: 1/r
