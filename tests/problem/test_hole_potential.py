"""The exterior Green's function of a polygonal hole (lightning fit): exact on the sides, the corners' singular
functions at the vertices, and a Laplacian without the Euclidean distance's sectors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from pdesolve.problem import Mesh
from pdesolve.problem.distance import atoms, convex_holes, distance_to, hole_distance
from pdesolve.problem.hole_potential import hole_potential

FIXTURE = Path(__file__).parents[1] / "data" / "square_minus_disk.msh"


def laplacian(function, points: np.ndarray) -> np.ndarray:
    x = torch.as_tensor(points, dtype=torch.float64).requires_grad_(True)
    (gradient,) = torch.autograd.grad(function(x).sum(), x, create_graph=True)
    return sum(torch.autograd.grad(gradient[:, k].sum(), x, retain_graph=True)[0][:, k] for k in range(2)).detach()


def mesh_hole() -> np.ndarray:
    _, holes = convex_holes(Mesh(FIXTURE).pieces())
    return holes[0]


def test_zero_on_every_side_to_the_tolerance_and_positive_outside():
    vertices = mesh_hole()
    phi = hole_potential(vertices)
    rng = np.random.default_rng(3)
    side = rng.integers(0, len(vertices), 50_000)
    s = rng.random(50_000)[:, None]
    on = np.concatenate([vertices[side] + s * (np.roll(vertices, -1, axis=0)[side] - vertices[side]), vertices])
    outside = Mesh(FIXTURE).sample_interior(4000, seed=0)
    with torch.no_grad():
        assert float(phi(torch.as_tensor(on)).abs().max()) < 1e-10
        assert float(phi(torch.as_tensor(outside)).min()) > 0


def test_green_function_is_harmonic_and_has_the_corner_exponent_at_a_vertex():
    """g = log(1 + φ/R̄) is harmonic; along a vertex's bisector g ∝ r^α, α = π/ω (ω = 202.5° on this mesh)."""
    vertices = mesh_hole()
    phi = hole_potential(vertices)
    radius = float(np.linalg.norm(vertices - vertices.mean(axis=0), axis=1).mean())

    def g(x: torch.Tensor) -> torch.Tensor:
        return torch.log1p(phi(x) / radius)

    centre = vertices.mean(axis=0)
    angles = np.linspace(0.0, 2 * math.pi, 200, endpoint=False)
    ring = centre + 0.3 * np.column_stack([np.cos(angles), np.sin(angles)])
    assert np.max(np.abs(laplacian(g, ring).numpy())) < 1e-8
    outward = (vertices[0] - centre) / np.linalg.norm(vertices[0] - centre)
    r = np.array([1e-5, 1e-4, 1e-3])
    with torch.no_grad():
        values = g(torch.as_tensor(vertices[0] + r[:, None] * outward)).numpy()
    exponents = np.log(values[1:] / values[:-1]) / np.log(10.0)
    alpha = math.pi / (2 * math.pi - math.pi * (1 - 2 / len(vertices)))
    assert np.allclose(exponents, alpha, rtol=0.02)


def test_no_sectors_around_the_hole_where_the_euclidean_distance_alternates():
    """Δφ on a circle just outside the hole: the Euclidean distance to the 16-gon swings between 0 beside a side and
    1/ρ ahead of a vertex; the Green's function's is smooth around it, alone and joined to the square's sides
    (whose share varies around the circle: the exact geometry's circle gives a spread of 3.5 there too)."""
    mesh = Mesh(FIXTURE)
    phi = distance_to(mesh, atoms(mesh, None))
    vertices = mesh_hole()
    angles = np.linspace(0.0, 2 * math.pi, 2000, endpoint=False)
    ring = 0.5 + 0.28 * np.column_stack([np.cos(angles), np.sin(angles)])
    assert np.std(laplacian(hole_potential(vertices), ring).numpy()) < 0.2
    assert np.std(laplacian(hole_distance(vertices), ring).numpy()) > 10.0
    assert np.std(laplacian(phi, ring).numpy()) < 5.0


def test_a_triangle_is_left_to_the_euclidean_distance():
    """Its 45° vertices (wedges of 315°) converge too slowly for the tolerance: no potential, the caller falls back."""
    assert hole_potential(np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]])) is None


def test_closed_form_derivatives_match_finite_differences_to_third_order():
    """φ's derivatives come from F⁽ᵏ⁾ of the fitted rational function (Cauchy–Riemann), not autograd through it:
    checked against finite differences up to third order, and Δg = 0 to round-off where every pole contributes."""
    phi = hole_potential(mesh_hole())
    points = torch.tensor([[0.9, 0.55], [0.5, 0.8], [0.2, 0.3], [0.77, 0.5]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(phi, (points,))
    assert torch.autograd.gradgradcheck(phi, (points,))

    def laplacian_of(x: torch.Tensor) -> torch.Tensor:
        (gradient,) = torch.autograd.grad(phi(x).sum(), x, create_graph=True)
        return sum(torch.autograd.grad(gradient[:, k].sum(), x, create_graph=True)[0][:, k] for k in range(2))

    assert torch.autograd.gradcheck(laplacian_of, (points,))


def test_values_are_remembered_by_the_points_not_by_the_tensor():
    """A trainer's line search evaluates φ again and again at the same points: the memo must not return a
    stale value when a tensor's contents change in place."""
    phi = hole_potential(mesh_hole())
    points = torch.tensor([[0.9, 0.55], [0.5, 0.8]], dtype=torch.float64)
    first = phi(points).clone()
    points[0, 0] = 0.95
    moved = phi(points)
    assert abs(float(moved[0] - first[0])) > 1e-3
    assert float(moved[1]) == float(first[1])
    points[0, 0] = 0.9
    assert torch.equal(phi(points), first)


def test_the_memo_forgets_the_oldest_beyond_its_budget():
    from pdesolve.problem.hole_potential import _memoized

    calls = []

    def evaluate(points: torch.Tensor, k: int) -> torch.Tensor:
        calls.append(k)
        return points[:, :2] * (k + 1)

    cached = _memoized(evaluate, budget=3 * (4 * 2 * 8 + 4 * 2 * 8))  # room for three evaluations at 4 points
    sets = [torch.full((4, 2), float(i), dtype=torch.float64) for i in range(4)]
    for points in sets:
        cached(points, 0)
    cached(sets[3], 0)
    assert len(calls) == 4  # the last one remembered
    cached(sets[0], 0)
    assert len(calls) == 5  # the first one forgotten
    assert torch.equal(cached(sets[2], 0), sets[2])
    assert len(calls) == 5
