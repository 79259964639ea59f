"""3D constructive geometry: boxes and balls combined — sampling, normals, volume, named parts, distance functions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pdesolve.errors import ProblemError
from pdesolve.problem import Ball, Box, Disk, Rectangle
from pdesolve.problem.distance import atoms, distance_to, has_distance

R = 0.25
HOLED = Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)) - Ball((0.5, 0.5, 0.5), R, name="hole")
CUT = Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)) - Ball((0.5, 0.5, 1.0), 0.3, name="dent")  # the sphere crosses the top
DOMAINS = {
    "holed": HOLED,
    "dented": CUT,
    "union": Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)) | Ball((1.0, 0.5, 0.5), 0.3),
    "intersection": Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)) & Ball((0.5, 0.5, 0.5), 0.6),
    "ball": Ball((0.0, 0.0, 0.0), 1.0),
}


@pytest.mark.parametrize("name", DOMAINS)
def test_boundary_points_unit_outward_normals(name):
    domain = DOMAINS[name]
    points, normals = domain.sample_boundary(3000, seed=1)
    assert points.shape == normals.shape == (3000, 3)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-14)
    assert np.max(np.abs(domain.level(points))) < 1e-12
    eps = 1e-6
    assert not domain.inside(points + eps * normals).any()
    assert domain.inside(points - eps * normals).all()
    interior = domain.sample_interior(2000, seed=2)
    assert interior.shape == (2000, 3) and np.all(domain.level(interior) > 0)


def test_boundary_points_are_uniform_in_area():
    points, normals = HOLED.sample_boundary(40000, seed=3)
    on_hole = HOLED.part_mask(points, frozenset({"hole"}))
    np.testing.assert_allclose(np.linalg.norm(points[on_hole] - 0.5, axis=1), R, atol=1e-14)
    np.testing.assert_allclose(normals[on_hole], -(points[on_hole] - 0.5) / R, atol=1e-12)  # into the hole
    total = 6 + 4 * math.pi * R**2
    for part, area in [("hole", 4 * math.pi * R**2), ("top", 1.0), ("left", 1.0), ("front", 1.0)]:
        share = HOLED.part_mask(points, frozenset({part})).mean()
        assert abs(share - area / total) < 4 * math.sqrt(area / total / 40000), (part, share)
    assert np.linalg.norm(points[on_hole].mean(axis=0) - 0.5) < 0.01  # no pole or band favoured on the sphere


def test_volume_exact_or_monte_carlo_with_its_error():
    assert HOLED.measure == pytest.approx(1 - 4 / 3 * math.pi * R**3, rel=1e-14) and HOLED.measure_error == 0
    inside_ball = Ball((0.5, 0.5, 0.5), 0.2) - Ball((0.5, 0.5, 0.55), 0.1)  # nested spheres: exact
    assert inside_ball.measure == pytest.approx(4 / 3 * math.pi * (0.2**3 - 0.1**3), rel=1e-14)
    assert CUT.measure == pytest.approx(1 - 2 / 3 * math.pi * 0.3**3, rel=1e-14) and CUT.measure_error == 0  # caps
    slab = Box((0.0, 0.0, 0.2), (1.0, 1.0, 0.4)) & Ball((0.5, 0.5, 0.3), 0.25)  # cut by two parallel faces
    assert slab.measure == pytest.approx(math.pi * (0.25**2 * 0.2 - 2 * 0.1**3 / 3), rel=1e-14)
    edge = Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)) - Ball((1.0, 1.0, 0.5), 0.3)  # crosses two axes' faces: Monte Carlo
    quarter = 1 - math.pi * 0.3**3 / 3
    assert 0 < edge.measure_error < 1e-3 and abs(edge.measure - quarter) < 4 * edge.measure_error


def test_named_parts_and_their_points():
    assert HOLED.part_names == {"left", "right", "bottom", "top", "back", "front", "sphere", "hole", "hole.sphere"}
    assert {"dent", "top"} <= CUT.part_names
    points = np.array([[0.5, 0.5, 0.25], [0.0, 0.3, 0.6], [0.4, 1.0, 0.2], [0.2, 0.7, 1.0]])
    assert HOLED.part_mask(points, frozenset({"hole"})).tolist() == [True, False, False, False]
    assert HOLED.part_mask(points, frozenset({"left", "top"})).tolist() == [False, True, True, False]
    assert HOLED.part_mask(points, frozenset({"front"})).tolist() == [False, False, False, True]


def laplacian_of(function, points: torch.Tensor) -> torch.Tensor:
    points = points.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(function(points).sum(), points, create_graph=True)
    return sum(torch.autograd.grad(gradient[:, k].sum(), points, retain_graph=True)[0][:, k] for k in range(3))


@pytest.mark.parametrize("name", ["holed", "dented", "union", "intersection"])
def test_distance_function_zero_on_the_boundary_positive_inside(name):
    domain = DOMAINS[name]
    assert has_distance(domain)
    phi = distance_to(domain, atoms(domain, None))
    boundary, _ = domain.sample_boundary(3000, seed=4)
    interior = torch.as_tensor(domain.sample_interior(1000, seed=5), dtype=torch.float64)
    assert float(phi(torch.as_tensor(boundary)).abs().max()) < 1e-12
    values = phi(interior)
    assert float(values.min()) > 0 and float(values.max()) < 1.05
    assert torch.isfinite(laplacian_of(phi, interior[:200])).all()
    assert torch.autograd.gradcheck(phi, (interior[:4].clone().requires_grad_(True),))


def test_distance_to_one_part_vanishes_there_only():
    phi = distance_to(CUT, atoms(CUT, frozenset({"dent"})))
    points, _ = CUT.sample_boundary(3000, seed=6)
    dent = CUT.part_mask(points, frozenset({"dent"}))
    assert 0.02 < dent.mean() < 0.2
    values = phi(torch.as_tensor(points)).numpy()
    assert np.max(np.abs(values[dent])) < 1e-12 and np.all(values[~dent] > 0)


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: Rectangle((0, 0), (1, 1)) - Ball((0, 0, 0), 0.5), "a 2D"),
        (lambda: Box((0, 0, 0), (1, 1, 1)) | Disk((0, 0), 0.5), "one dimension"),
        (lambda: Ball((0, 0, 0), 0.0), "radius > 0"),
        (lambda: Ball((0, 0), 1.0), "3D center"),
    ],
)
def test_bad_combinations_are_one_line_errors(make, words):
    with pytest.raises(ProblemError, match=words) as error:
        make()
    assert "\n" not in str(error.value)


def test_mixed_dimensions_through_the_command(tmp_path, capsys):
    from pdesolve.cli import main

    path = tmp_path / "mixed.py"
    path.write_text(
        "from pdesolve.problem import Ball, Dirichlet, Problem, Rectangle, laplacian\n"
        "problem = Problem('mixed', Rectangle((0, 0), (1, 1)) - Ball((0.5, 0.5, 0.5), 0.2),\n"
        "                  residual=lambda u, x, p: -laplacian(u) - 1, boundary=[Dirichlet(0.0)])\n"
    )
    assert main(["solve", str(path), "--solver", "fem", "--out", str(tmp_path / "run")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pdesolve: error: ") and "one dimension" in lines[0], lines
