"""Finite elements on a box minus a ball: tetrahedral mesh quality, P1/P2 orders, the command, the PINN's hard constraint."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import skfem
import torch
from helpers import holed_problem, observed_order

from pdesolve.classical.fem import FiniteElement
from pdesolve.classical.fem_assembly import facet_owners
from pdesolve.classical.tet_mesher import quality, tetrahedralize
from pdesolve.cli import main
from pdesolve.problem import Ball, Box, Coords, Dirichlet, Problem, laplacian

CENTER, RADIUS = (0.5, 0.5, 0.5), 0.25
HOLED = Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)) - Ball(CENTER, RADIUS, name="hole")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "box_minus_ball.py"


def holed() -> Problem:
    return holed_problem("holed3d", HOLED, CENTER, RADIUS)


def test_mesh_nodes_on_the_sphere_no_inverted_tetrahedra():
    for h in (1 / 8, 1 / 12):
        mesh = tetrahedralize(HOLED, h)
        q = quality(mesh)
        assert q.min() > 0.08 and np.percentile(q, 1) > 0.4  # positive: none inverted; slivers removed
        nodes = mesh.p[:, mesh.boundary_nodes()].T
        radius = np.linalg.norm(nodes - CENTER, axis=1)
        on_hole = radius < 0.4
        np.testing.assert_allclose(radius[on_hole], RADIUS, atol=1e-9)
        box = np.min(np.concatenate([nodes[~on_hole], 1 - nodes[~on_hole]], axis=1), axis=1)
        assert np.max(np.abs(box)) < 1e-9
        volume = np.abs(np.linalg.det((mesh.p[:, mesh.t[1:]] - mesh.p[:, mesh.t[:1]]).transpose(2, 1, 0))).sum() / 6
        assert 0 < volume - HOLED.measure < 0.6 * h**2  # the chords' polyhedron lies inside the sphere


def test_boundary_facets_go_to_the_condition_of_their_part():
    mesh = tetrahedralize(HOLED, 1 / 8)
    facets, owner = facet_owners(holed(), mesh)
    radius = np.linalg.norm(mesh.p[:, mesh.facets[:, facets]] - np.reshape(CENTER, (3, 1, 1)), axis=0)
    on_sphere = np.all(np.abs(radius - RADIUS) < 1e-9, axis=0)
    assert on_sphere.sum() > 100 and np.array_equal(owner, np.where(on_sphere, 0, 1))


def test_concave_crease_meshes_with_every_boundary_facet_on_a_surface():
    """A ball bulging out of a box: Delaunay misses the crease at h = 1/12 until its nodes are placed closer."""
    domain = Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)) | Ball((1.0, 0.5, 0.5), 0.3, name="bulge")
    mesh = tetrahedralize(domain, 1 / 12)
    assert quality(mesh).min() > 0
    corners = mesh.p[:, mesh.facets[:, mesh.boundary_facets()]]  # (3, 3 nodes, facets)
    areas = 0.5 * np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0], axis=0), axis=0)
    bulge = domain.part_mask(corners.mean(axis=1).T, frozenset({"bulge"}))
    # the box's surface less the disk inside the ball, plus the half sphere outside
    assert abs(areas.sum() - (6 - np.pi * 0.3**2 + 2 * np.pi * 0.3**2)) < 0.02
    assert abs(areas[bulge].sum() - 2 * np.pi * 0.3**2) < 0.02


@pytest.mark.parametrize("order, nodes, expected", [(1, (5, 9, 13), 2.0), (2, (5, 7, 9), 3.0)])
def test_poisson_on_a_box_minus_a_ball_converges(order, nodes, expected):
    problem = holed()
    assert FiniteElement.not_applicable(problem) is None
    errors = [FiniteElement(n=n, order=order).solve(problem).l2_error(problem.exact) for n in nodes]
    sizes = 1 / (np.array(nodes) - 1)
    rate = observed_order(sizes, errors)
    assert expected - 0.2 < rate < expected + 0.5, (errors, rate)


def test_ball_alone_p2_isoparametric_order():
    """-Δu = 6 on the unit ball, u = 0 on its sphere: u = 1 - |x|², which P2 on flat facets would miss at O(h²)."""
    ball = Ball((0.0, 0.0, 0.0), 1.0, name="shell")
    problem = Problem("ball", ball, residual=lambda u, x, p: -laplacian(u) - 6, boundary=[Dirichlet(0.0, on="shell")])
    assert FiniteElement.not_applicable(problem) is None
    errors = []
    for n in (5, 9):
        solution = FiniteElement(n=n, order=2).solve(problem)
        basis = skfem.Basis(solution.mesh, solution.basis.elem, intorder=6)

        @skfem.Functional
        def squared(w):
            return (w.uh - (1 - w.x[0] ** 2 - w.x[1] ** 2 - w.x[2] ** 2)) ** 2

        errors.append(float(np.sqrt(squared.assemble(basis, uh=basis.interpolate(solution.coefficients)))))
    assert errors[1] < 1e-3 and np.log2(errors[0] / errors[1]) > 2.7, errors


def test_pinn_hard_constraint_exact_on_every_part():
    from pdesolve.pinn.model import build_model

    problem = holed()
    model = build_model(problem, width=16, depth=2, seed=1).double()
    assert model.exact_conditions == ["dirichlet"] and len(model.transform.dirichlet) == 2
    points, _ = HOLED.sample_boundary(3000, seed=2)
    with torch.no_grad():
        u = model(torch.as_tensor(points)).numpy()
    assert np.max(np.abs(u - problem.exact(Coords(list(points.T)), None))) < 1e-12


def test_command_solves_the_example_file_with_fem(tmp_path):
    out = tmp_path / "run"
    assert main(["solve", str(EXAMPLE), "--solver", "fem", "--set", "n=9", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["rel_l2"] < 0.03, metrics["rel_l2"]


def test_default_mesh_in_3d_is_17_nodes_per_axis_not_the_2d_65():
    problem = holed()
    solution = FiniteElement().solve(problem)
    assert solution.stats["n"] == 17
    assert solution.l2_error(problem.exact) < 4e-3  # n = 9 gives about 4x this (order 2)
