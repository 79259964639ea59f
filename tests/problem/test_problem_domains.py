"""Point sampling inside domains and on their boundaries, with outward unit normals."""

import meshio
import numpy as np
import pytest
import skfem

from pdesolve.problem import Box, Disk, Mesh, Polygon, Rectangle

L_SHAPE = [(0, 0), (1, 0), (1, -1), (-1, -1), (-1, 1), (0, 1)]


def in_l_shape(p: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    in_square = np.all(np.abs(p) <= 1 + tol, axis=1)
    return in_square & ~((p[:, 0] > tol) & (p[:, 1] > tol))


def in_unit_box(p: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    return np.all((p >= -tol) & (p <= 1 + tol), axis=1)


def distance_to_unit_box_boundary(p: np.ndarray) -> np.ndarray:
    return np.minimum(p, 1 - p).min(axis=1)


@pytest.fixture(scope="module")
def square_msh(tmp_path_factory) -> Mesh:
    mesh = skfem.MeshTri.init_tensor(np.linspace(0, 1, 6), np.linspace(0, 1, 6))
    path = tmp_path_factory.mktemp("mesh") / "square.msh"
    meshio.write_points_cells(path, mesh.p.T, [("triangle", mesh.t.T)], file_format="gmsh22", binary=False)
    return Mesh(path)


@pytest.fixture(scope="module")
def cube_vtu(tmp_path_factory) -> Mesh:
    mesh = skfem.MeshTet.init_tensor(*[np.linspace(0, 1, 4)] * 3)
    path = tmp_path_factory.mktemp("mesh") / "cube.vtu"
    meshio.write_points_cells(path, mesh.p.T, [("tetra", mesh.t.T)])
    return Mesh(path)


def domains(square_msh, cube_vtu):
    return {
        "rectangle": (Rectangle((0, 0), (1, 1)), in_unit_box),
        "box": (Box((0, 0, 0), (1, 1, 1)), in_unit_box),
        "disk": (Disk((0.5, -0.5), 2.0), lambda p: np.linalg.norm(p - [0.5, -0.5], axis=1) <= 2 + 1e-9),
        "polygon": (Polygon(L_SHAPE), in_l_shape),
        "mesh2d": (square_msh, in_unit_box),
        "mesh3d": (cube_vtu, in_unit_box),
    }


@pytest.mark.parametrize("name", ["rectangle", "box", "disk", "polygon", "mesh2d", "mesh3d"])
def test_interior_points_inside(name, square_msh, cube_vtu):
    domain, truly_inside = domains(square_msh, cube_vtu)[name]
    points = domain.sample_interior(500, seed=0)
    assert points.shape == (500, domain.dim)
    assert truly_inside(points).all()
    assert domain.inside(points).all()
    np.testing.assert_array_equal(points, domain.sample_interior(500, seed=0))  # seeded
    lower, upper = domain.bounds
    spread = (points.max(axis=0) - points.min(axis=0)) / (upper - lower)
    assert (spread > 0.8).all()  # fills the domain, not a corner of it


@pytest.mark.parametrize("name", ["rectangle", "box", "disk", "polygon", "mesh2d", "mesh3d"])
def test_boundary_normals_are_unit_and_outward(name, square_msh, cube_vtu):
    domain, truly_inside = domains(square_msh, cube_vtu)[name]
    points, normals = domain.sample_boundary(200, seed=1)
    assert points.shape == normals.shape == (200, domain.dim)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-12)
    step = 1e-4
    assert truly_inside(points).all()
    assert domain.inside(points).all()  # the domain is closed: its boundary is inside
    assert truly_inside(points - step * normals).all()
    outward = ~truly_inside(points + step * normals)
    assert outward.mean() > 0.97, outward.mean()  # a point exactly at a corner may have an averaged normal


def test_disk_normals_are_radial():
    points, normals = Disk((1.0, 2.0), 0.5).sample_boundary(50, seed=0)
    np.testing.assert_allclose(np.linalg.norm(points - [1.0, 2.0], axis=1), 0.5, atol=1e-12)
    np.testing.assert_allclose(normals, (points - [1.0, 2.0]) / 0.5, atol=1e-12)


def test_mesh_boundary_points_lie_on_the_boundary(square_msh, cube_vtu):
    for mesh in (square_msh, cube_vtu):
        points, _ = mesh.sample_boundary(100, seed=2)
        np.testing.assert_allclose(distance_to_unit_box_boundary(points), 0.0, atol=1e-12)


def test_inside_is_pointwise_and_closed(square_msh):
    """Regressions: a mesh answered False for every point once one was outside; DeepXDE's polygon left
    out its top and right edges."""
    points = np.array([[0.5, 0.5], [0.3, 0.0], [2.0, 2.0], [1.0, 1.0], [1 + 1e-6, 0.5]])
    np.testing.assert_array_equal(square_msh.inside(points), [True, True, False, True, False])
    edges = np.array([[-0.5, 1.0], [1.0, -0.5], [0.0, 0.5], [0.5, 0.0], [0.0, 0.0], [0.5, 0.5]])
    np.testing.assert_array_equal(Polygon(L_SHAPE).inside(edges), [True, True, True, True, True, False])
