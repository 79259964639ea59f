"""Hard Dirichlet conditions on constructive domains, named parts and meshes (approximate distance functions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pdesolve.classical.fem import FiniteElement
from pdesolve.pinn.applicability import why_not_applicable
from pdesolve.pinn.model import build_model
from pdesolve.problem import Coords, Dirichlet, Disk, Mesh, Neumann, Polygon, Problem, Rectangle, laplacian, sin
from pdesolve.problem.distance import atoms, distance_to

FIXTURE = Path(__file__).parents[1] / "data" / "square_minus_disk.msh"
CHANNEL = Rectangle((0.0, 0.0), (2.2, 0.41)) - Disk((0.2, 0.2), 0.05, name="cylinder")


def inlet(x, p):
    return 6.0 * x.y * (0.41 - x.y) / 0.41**2


def channel_problem() -> Problem:
    return Problem(
        "channel",
        CHANNEL,
        residual=lambda u, x, p: -laplacian(u),
        boundary=[Dirichlet(inlet, on="left"), Neumann(0.0, on="right"), Dirichlet(0.0)],
    )


def laplacian_of(function, points: torch.Tensor) -> torch.Tensor:
    points = points.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(function(points).sum(), points, create_graph=True)
    return sum(torch.autograd.grad(gradient[:, k].sum(), points, retain_graph=True)[0][:, k] for k in range(2))


def test_channel_inlet_walls_and_cylinder_exact_outlet_free():
    problem = channel_problem()
    assert why_not_applicable(problem) is None and FiniteElement.not_applicable(problem) is None
    model = build_model(problem, width=16, depth=2, seed=3).double()
    assert model.exact_conditions == ["dirichlet"] and len(model.transform.dirichlet) == 2
    points, _ = CHANNEL.sample_boundary(4000, seed=5)
    left = CHANNEL.part_mask(points, frozenset({"left"}))
    right = CHANNEL.part_mask(points, frozenset({"right"})) & ~left
    wanted = np.where(left, inlet(Coords(list(points.T)), None), 0.0)
    with torch.no_grad():
        u = model(torch.as_tensor(points)).numpy()
    assert np.max(np.abs(u - wanted)[~right]) < 1e-12
    assert np.max(np.abs(u[right])) > 1e-3  # the outlet is free (a Neumann condition, trained)
    interior = torch.as_tensor(CHANNEL.sample_interior(500, seed=0, method="Sobol"))
    assert torch.isfinite(laplacian_of(model, interior)).all()
    assert torch.isfinite(laplacian_of(model.transform.distance, interior)).all()


def test_whole_boundary_of_a_plate_with_holes():
    plate = (
        (Rectangle((0.0, 0.0), (2.0, 1.0)) | Rectangle((1.5, -0.5), (2.5, 0.5)))
        - Disk((0.5, 0.5), 0.2)
        - Polygon([(1.0, 0.2), (1.3, 0.2), (1.1, 0.6)])
    )
    data = lambda x, p: sin(3 * x.x) + x.y**2  # noqa: E731
    problem = Problem("plate", plate, residual=lambda u, x, p: -laplacian(u), boundary=Dirichlet(data))
    model = build_model(problem, width=16, depth=2).double()
    points, _ = plate.sample_boundary(3000, seed=1)
    with torch.no_grad():
        u = model(torch.as_tensor(points)).numpy()
    assert np.max(np.abs(u - data(Coords(list(points.T)), None))) < 1e-12
    interior = torch.as_tensor(plate.sample_interior(400, seed=2), dtype=torch.float64)
    phi = model.transform.distance(interior)
    assert torch.all(phi > 0) and float(phi.max()) <= 1.0 + 1e-12
    assert torch.isfinite(laplacian_of(model.transform.distance, interior)).all()
    probe = interior[:5].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(model.transform.distance, (probe,))


def test_holed_square_mesh_keeps_its_boundary_condition_on_every_facet():
    """The bug: a Mesh had no distance function, so hard_constraints silently left u = 0 to the penalty.

    The ansatz ``u = g + u₀ − g(t₀) + φτN`` is exact on the boundary when the initial data vanish on the
    mesh's own (chordal) boundary, as here: ``u₀`` is a multiple of the mesh's distance function.
    """
    mesh = Mesh(FIXTURE)
    assert {"hole", "left", "right", "bottom", "top"} <= mesh.part_names
    phi = distance_to(mesh, atoms(mesh, None))

    def initial(x, p):
        points = torch.stack([torch.as_tensor(c, dtype=torch.float64) for c in x], dim=1)
        values = phi(points) * sin(np.pi * points[:, 0])
        return values if torch.is_tensor(x[0]) else values.numpy()

    problem = Problem(
        "heat_hole", mesh, rhs=lambda u, x, p: laplacian(u), time=(0.0, 0.5), initial=initial, boundary=Dirichlet(0.0)
    )
    model = build_model(problem, width=16, depth=2, seed=1).double()
    assert model.exact_conditions == ["dirichlet", "initial"]
    points, facets, _ = mesh._boundary_facets()
    s = np.linspace(0.0, 1.0, 9)[:, None, None]
    along = ((1 - s) * points[facets[:, 0]] + s * points[facets[:, 1]]).reshape(-1, 2)
    times = np.random.default_rng(0).uniform(0.0, 0.5, len(along))
    with torch.no_grad():
        u = model(torch.as_tensor(np.column_stack([along, times]))).numpy()
    assert len(facets) > 40 and np.max(np.abs(u)) < 1e-10


@pytest.mark.parametrize("parts", [("hole",), ("left", "right")])
def test_named_parts_of_a_mesh(parts):
    mesh = Mesh(FIXTURE)
    problem = Problem(
        "parts",
        mesh,
        residual=lambda u, x, p: -laplacian(u),
        boundary=[Dirichlet(1.0, on=parts), Neumann(0.0)],
    )
    model = build_model(problem, width=8, depth=1).double()
    points, _ = mesh.sample_boundary(2000, seed=0)
    chosen = mesh.part_mask(points, frozenset(parts))
    with torch.no_grad():
        u = model(torch.as_tensor(points)).numpy()
    assert chosen.any() and np.max(np.abs(u[chosen] - 1.0)) < 1e-12 and np.max(np.abs(u[~chosen] - 1.0)) > 1e-3


def test_box_with_a_lid_and_walls_blends_both_values_exactly():
    """A cavity's data: 1 on the lid, 0 on the other walls, joined by transfinite weights of face products."""
    square = Rectangle((0.0, 0.0), (1.0, 1.0))
    problem = Problem(
        "lid",
        square,
        residual=lambda u, x, p: -laplacian(u),
        boundary=[Dirichlet(1.0, on="top"), Dirichlet(0.0)],
    )
    model = build_model(problem, width=8, depth=1).double()
    points, _ = square.sample_boundary(2000, seed=4)
    keep = np.linalg.norm(points - np.round(points), axis=1) > 1e-9  # off the corners, where the data jump
    with torch.no_grad():
        u = model(torch.as_tensor(points[keep])).numpy()
    wanted = np.where(points[keep, 1] == 1.0, 1.0, 0.0)
    assert np.max(np.abs(u - wanted)) < 1e-12
    interior = torch.as_tensor(square.sample_interior(300, seed=0, method="Sobol"))
    assert torch.isfinite(laplacian_of(model, interior)).all()


def test_initial_data_off_the_mesh_chords_leave_the_boundary_condition_exact():
    """``u₀`` vanishing on the true circle misses the mesh's chords by ``O(h²)``: measured, the initial condition
    becomes a loss term and ``u = 0`` holds on every facet at every time."""
    mesh = Mesh(FIXTURE)

    def initial(x, p):
        return sin(np.pi * x.x) * sin(np.pi * x.y) * ((x.x - 0.5) ** 2 + (x.y - 0.5) ** 2 - 0.0625)

    problem = Problem(
        "heat_hole", mesh, rhs=lambda u, x, p: laplacian(u), time=(0.0, 0.5), initial=initial, boundary=Dirichlet(0.0)
    )
    model = build_model(problem, width=16, depth=2, seed=1).double()
    points, facets, _ = mesh._boundary_facets()
    s = np.linspace(0.0, 1.0, 9)[:, None, None]
    along = ((1 - s) * points[facets[:, 0]] + s * points[facets[:, 1]]).reshape(-1, 2)
    largest = np.max(np.abs(initial(Coords(list(along.T)), None)))  # at the hole's chord midpoints
    assert model.exact_conditions == ["dirichlet"]
    assert 1e-3 < largest and 0.9 * largest < model.transform.initial_mismatch <= largest * (1 + 1e-12)
    times = np.random.default_rng(0).uniform(0.0, 0.5, len(along))
    with torch.no_grad():
        u = model(torch.as_tensor(np.column_stack([along, times]))).numpy()
        start = model(torch.as_tensor(np.column_stack([along, np.zeros(len(along))]))).numpy()
    assert np.max(np.abs(u)) < 1e-10 and np.max(np.abs(start)) < 1e-10
