"""Finite elements on constructive domains: mesh quality, P1/P2 orders (curved P2 on the hole), gmsh files, triangles."""

from __future__ import annotations

import numpy as np
import pytest
import skfem
from helpers import holed_problem, observed_order

from pdesolve.classical.fem import FiniteElement
from pdesolve.classical.fem_meshes import mesh_domain, write_msh
from pdesolve.problem import Dirichlet, Disk, Mesh, Polygon, Problem, Rectangle, laplacian

CENTER, RADIUS = (0.5, 0.5), 0.2
HOLED = Rectangle((0.0, 0.0), (1.0, 1.0)) - Disk(CENTER, RADIUS, name="hole")


def holed() -> Problem:
    return holed_problem("holed", HOLED, CENTER, RADIUS)


def quality(mesh: skfem.MeshTri) -> np.ndarray:
    """``4√3 area / Σ edge²``: 1 for equilateral triangles."""
    corners = mesh.p[:, mesh.t]
    edges = [corners[:, (k + 1) % 3] - corners[:, k] for k in range(3)]
    area = 0.5 * np.abs(edges[0][0] * edges[1][1] - edges[0][1] * edges[1][0])
    return 4 * np.sqrt(3) * area / sum((e**2).sum(axis=0) for e in edges)


def test_mesh_quality_and_boundary_nodes_on_the_circle():
    for h in (0.1, 0.05, 0.025):
        mesh = mesh_domain(HOLED, h)
        assert quality(mesh).min() > 0.5
        nodes = mesh.p[:, mesh.boundary_nodes()].T
        radius = np.linalg.norm(nodes - CENTER, axis=1)
        on_hole = radius < 0.3
        np.testing.assert_allclose(radius[on_hole], RADIUS, atol=1e-14)
        assert on_hole.sum() >= 2 * np.pi * RADIUS / h


@pytest.mark.parametrize("order, expected", [(1, 2.0), (2, 3.0)])
def test_poisson_on_a_rectangle_minus_a_disk_converges(order, expected):
    problem = holed()
    assert FiniteElement.not_applicable(problem) is None
    sizes = np.array([1 / 8, 1 / 16, 1 / 32])
    errors = [FiniteElement(n=round(1 / h) + 1, order=order).solve(problem).l2_error(problem.exact) for h in sizes]
    rate = observed_order(sizes, errors)
    assert expected - 0.15 < rate < expected + 0.3, (errors, rate)


def test_written_msh_reads_back_with_named_parts(tmp_path):
    path = write_msh(HOLED, 0.1, tmp_path / "holed.msh")
    mesh = Mesh(path)
    assert {"hole", "left", "right", "bottom", "top"} <= mesh.part_names
    chords = mesh_domain(HOLED, 0.1)
    corners = chords.p[:, chords.t]
    area = 0.5 * np.abs(np.cross((corners[:, 1] - corners[:, 0]).T, (corners[:, 2] - corners[:, 0]).T)).sum()
    assert mesh.measure == pytest.approx(area, rel=1e-12) and mesh.measure == pytest.approx(HOLED.measure, rel=1e-2)
    points, _ = mesh.sample_boundary(500, seed=0)
    hole = mesh.part_mask(points, frozenset({"hole"}))
    assert np.all(np.linalg.norm(points[hole] - CENTER, axis=1) <= RADIUS + 1e-12)
    assert np.all(np.linalg.norm(points[~hole] - CENTER, axis=1) > 0.45)


def test_triangle_fem():
    triangle = Polygon([(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)])
    problem = Problem(
        "triangle",
        triangle,
        residual=lambda u, x, p: -laplacian(u) - 2 * (x.x + x.y),
        boundary=Dirichlet(0.0),
        exact=lambda x, p: x.x * x.y * (1 - x.x - x.y),
    )
    points = triangle.sample_interior(200, seed=0)
    exact_values = points[:, 0] * points[:, 1] * (1 - points.sum(axis=1))
    errors = [np.max(np.abs(FiniteElement(n=n, order=2).solve(problem)(points) - exact_values)) for n in (9, 17)]
    assert errors[1] < 1e-4 and 6 < errors[0] / errors[1] < 12


def test_grid_solvers_refuse_constructive_domains_and_name_fem():
    from pdesolve.classical.cg_solver import CGSolver
    from pdesolve.classical.fd import FiniteDifference

    for solver in (CGSolver, FiniteDifference):
        reason = solver.not_applicable(holed())
        assert reason is not None and "use fem" in reason, (solver, reason)
