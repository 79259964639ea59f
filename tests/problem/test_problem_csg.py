"""Constructive geometry: sampling, normals, exact measure, named boundary parts and domain validation."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from pdesolve.errors import ProblemError
from pdesolve.problem import Coords, Dirichlet, Disk, Polygon, Problem, Rectangle, laplacian

CHANNEL = Rectangle((0.0, 0.0), (2.2, 0.41)) - Disk((0.2, 0.2), 0.05, name="cylinder")
DOMAINS = {
    "channel": CHANNEL,
    "disk minus square": Disk((0.0, 0.0), 1.0) - Rectangle((0.0, 0.0), (2.0, 2.0)),
    "lens": Disk((0.0, 0.0), 1.0) & Disk((1.0, 0.0), 1.0),
    "plate with holes": (Rectangle((0.0, 0.0), (2.0, 1.0)) | Rectangle((1.5, -0.5), (2.5, 0.5)))
    - Disk((0.5, 0.5), 0.2)
    - Polygon([(1.0, 0.2), (1.3, 0.2), (1.1, 0.6)]),
}
EXACT_AREAS = {
    "channel": 2.2 * 0.41 - math.pi * 0.05**2,
    "disk minus square": 0.75 * math.pi,
    "lens": 2 * math.acos(0.5) - 0.5 * math.sqrt(3),
    "plate with holes": 2.0 + 1.0 - 0.25 - math.pi * 0.04 - 0.5 * 0.3 * 0.4,
}


@pytest.mark.parametrize("name", DOMAINS)
def test_sampling_inside_on_boundary_and_outward_normals(name):
    domain = DOMAINS[name]
    interior = domain.sample_interior(2000, seed=1, method="Sobol")
    assert interior.shape == (2000, 2) and np.all(domain.level(interior) > 0)
    points, normals = domain.sample_boundary(3000, seed=2)
    assert np.max(np.abs(domain.level(points))) < 1e-12
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-12)
    step = 1e-6
    assert np.all(domain.level(points + step * normals) < 0) and np.all(domain.level(points - step * normals) > 0)
    # every part gets points: each piece's share of the boundary is its share of the length
    lengths = np.array([piece.length for piece in domain.pieces()])
    counts = np.bincount(
        np.argmin(np.stack([p.distance(points) for p in domain.pieces()], 1), 1), minlength=len(lengths)
    )
    assert np.all(counts > 0) and np.allclose(counts / counts.sum(), lengths / lengths.sum(), atol=0.03)


@pytest.mark.parametrize("name", DOMAINS)
def test_exact_measure(name):
    assert DOMAINS[name].measure == pytest.approx(EXACT_AREAS[name], rel=1e-12)
    fraction = np.mean(DOMAINS[name].inside(Rectangle(*DOMAINS[name].bounds).sample_interior(40000, seed=0)))
    lower, upper = DOMAINS[name].bounds
    assert fraction * np.prod(upper - lower) == pytest.approx(EXACT_AREAS[name], rel=0.03)


def test_named_parts_select_their_points():
    points, normals = CHANNEL.sample_boundary(4000, seed=0)
    radius = np.linalg.norm(points - (0.2, 0.2), axis=1)
    on_cylinder = CHANNEL.part_mask(points, frozenset({"cylinder"}))
    np.testing.assert_array_equal(on_cylinder, np.abs(radius - 0.05) < 1e-12)
    np.testing.assert_array_equal(CHANNEL.part_mask(points, frozenset({"left"})), points[:, 0] == 0.0)
    walls = CHANNEL.part_mask(points, frozenset({"top", "bottom"}))
    np.testing.assert_array_equal(walls, (points[:, 1] == 0.0) | (points[:, 1] == 0.41))
    # the hole's normals point into it, out of the channel
    np.testing.assert_allclose(normals[on_cylinder], -(points[on_cylinder] - (0.2, 0.2)) / 0.05, atol=1e-12)
    problem = Problem(
        "channel",
        CHANNEL,
        residual=lambda u, x, p: -laplacian(u),
        boundary=[Dirichlet(1.0, on="cylinder"), Dirichlet(0.0, on=("top", "bottom", "left", "right"))],
    )
    mask = problem.boundary[0].applies(Coords(list(points.T)))
    np.testing.assert_array_equal(mask, on_cylinder)
    with pytest.raises(ProblemError, match=r"no boundary part \['cylindre'\].*cylinder"):
        Problem("bad", CHANNEL, residual=lambda u, x, p: -laplacian(u), boundary=[Dirichlet(0.0, on="cylindre")])


def test_primitives_are_validated_and_triangles_work():
    with pytest.raises(ProblemError, match="radius > 0"):
        Disk((0.0, 0.0), 0.0)
    with pytest.raises(ProblemError, match="area is zero"):
        Polygon([(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)])
    with pytest.raises(ProblemError, match="sides 0 and 2 cross"):
        Polygon([(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)])
    triangle = Polygon([(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)])
    points = triangle.sample_interior(500, seed=0, method="Sobol")
    assert np.all(points.sum(axis=1) < 1) and np.all(points > 0) and triangle.measure == 0.5
    boundary, normals = triangle.sample_boundary(300, seed=0)
    assert np.all(triangle.level(boundary) > -1e-12) and np.all(np.abs(triangle.level(boundary)) < 1e-12)


@pytest.mark.parametrize(
    "domain, words",
    [("Disk((0, 0), 0.0)", "a disk needs a radius > 0"), ("Polygon([(0, 0), (1, 0), (2, 0)])", "collinear")],
)
def test_bad_domains_through_the_command(tmp_path, domain, words):
    path = tmp_path / "bad.py"
    path.write_text(
        "from pdesolve.problem import Disk, Dirichlet, Polygon, Problem, laplacian\n"
        f"problem = Problem('bad', {domain}, residual=lambda u, x, p: -laplacian(u) - 1, boundary=[Dirichlet(0.0)])\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pdesolve", "solve", str(path), "--solver", "fem", "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("pdesolve: error: ") and "bad.py: " in lines[0] and words in lines[0]
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


def test_sampling_keeps_a_callers_own_default_device():
    """DeepXDE's geometry is imported under a saved default device; a caller's own ``set_default_device("cpu")``
    context must survive it, also under a ``with torch.device(...)`` (it used to be popped from under the caller:
    "nested DeviceContext"; the PINN benchmark set the default device and failed in the PINN's build)."""
    torch.set_default_device("cpu")
    try:
        with torch.device("cpu"):  # as the PINN's applicability probe samples (a second device mode on the stack)
            points, normals = Rectangle((0.0, 0.0), (1.0, 1.0)).sample_boundary(64, seed=0)
        assert points.shape == normals.shape == (64, 2)
        assert torch.get_default_device() == torch.device("cpu")
        assert torch.zeros(1).device == torch.device("cpu")
    finally:
        torch.set_default_device(None)
