"""fem_mol: evolution problems on meshes, disks and polygons (orders in space and time, adaptive steps,
time-dependent Robin conditions, Allen–Cahn on a disk, convection)."""

import meshio
import numpy as np
import pytest
import skfem
import torch
from helpers import observed_order

from pdesolve.classical.fem_mol import FiniteElementLines
from pdesolve.errors import PdesolveError
from pdesolve.problem import (
    Coords,
    Dirichlet,
    Disk,
    Mesh,
    Neumann,
    Polygon,
    Problem,
    Robin,
    cos,
    d,
    exp,
    laplacian,
    pi,
    sin,
    where,
)
from pdesolve.solvers.available import load_all
from pdesolve.solvers.base import SOLVERS

load_all()
HOLE = 0.125  # half-width of the square hole centred at (1/2, 1/2)


@pytest.fixture(scope="module")
def holed_square(tmp_path_factory) -> Mesh:
    """A gmsh file of the unit square minus the square [3/8, 5/8]², triangles of size 1/8, read by ``Mesh``."""
    grid = skfem.MeshTri.init_tensor(np.linspace(0, 1, 9), np.linspace(0, 1, 9))
    centres = grid.p[:, grid.t].mean(axis=1)
    keep = (np.abs(centres[0] - 0.5) > HOLE) | (np.abs(centres[1] - 0.5) > HOLE)
    mesh = skfem.MeshTri(grid.p, grid.t[:, keep]).remove_unused_nodes()
    path = tmp_path_factory.mktemp("mesh") / "holed_square.msh"
    tags = np.ones(mesh.t.shape[1], dtype=int)
    meshio.write(
        path,
        meshio.Mesh(
            np.column_stack([mesh.p.T, np.zeros(mesh.p.shape[1])]),
            [("triangle", mesh.t.T)],
            cell_data={"gmsh:physical": [tags], "gmsh:geometrical": [tags]},
        ),
        file_format="gmsh22",
    )
    return Mesh(path)


def on_hole(x):
    return (abs(x.x - 0.5) < HOLE + 1e-9) & (abs(x.y - 0.5) < HOLE + 1e-9)


def heat_on_the_holed_square(domain: Mesh) -> Problem:
    """u_t = Δu + f with u = sin(πx) cos(πy) (1 + t): linear in time, so the error is the spatial one.
    Dirichlet outside, the exact normal derivative (Neumann) on the hole."""

    def exact(x, p):
        return sin(pi * x.x) * cos(pi * x.y) * (1 + x.t)

    def hole_flux(x, p):
        on_vertical = abs(abs(x.x - 0.5) - HOLE) < 1e-9
        toward_centre_x = where(x.x > 0.5, -1.0, 1.0) * (1 + x.t)
        toward_centre_y = where(x.y > 0.5, -1.0, 1.0) * (1 + x.t)
        ux = pi * cos(pi * x.x) * cos(pi * x.y) * toward_centre_x
        uy = -pi * sin(pi * x.x) * sin(pi * x.y) * toward_centre_y
        return where(on_vertical, ux, uy)

    return Problem(
        "heat_holed",
        domain,
        rhs=lambda u, x, p: laplacian(u) + sin(pi * x.x) * cos(pi * x.y) * (1 + 2 * pi**2 * (1 + x.t)),
        time=(0.0, 0.5),
        initial=lambda x, p: sin(pi * x.x) * cos(pi * x.y),
        boundary=[Neumann(hole_flux, on=on_hole), Dirichlet(exact)],
        exact=exact,
    )


def test_heat_on_a_gmsh_mesh_with_a_hole_p2_converges_at_order_3_in_space(holed_square):
    problem = heat_on_the_holed_square(holed_square)
    assert SOLVERS["classical"].target(problem) is FiniteElementLines
    errors = [
        FiniteElementLines(refine=r, dt=0.05, outputs=10).solve(problem).level_error(problem.exact) for r in (0, 1, 2)
    ]
    print(f"heat, holed gmsh square, P2 + BDF2: L2 {errors}, order {observed_order([1, 0.5, 0.25], errors):.2f}")
    assert observed_order([1, 0.5, 0.25], errors) > 2.9, errors
    assert errors[-1] < 2e-5, errors


def quadratic_in_space(domain: Mesh) -> Problem:
    """u = (1 + x² + xy) sin(2t + 1/2): P2 holds it exactly, so the error is the time integrator's."""

    def exact(x, p):
        return (1 + x.x**2 + x.x * x.y) * sin(2 * x.t + 0.5)

    def rhs(u, x, p):
        return laplacian(u) + 2 * (1 + x.x**2 + x.x * x.y) * cos(2 * x.t + 0.5) - 2 * sin(2 * x.t + 0.5)

    return Problem(
        "heat_time",
        domain,
        rhs=rhs,
        time=(0.0, 1.0),
        initial=lambda x, p: exact(Coords(list(x), t=0 * x.x), p),
        boundary=Dirichlet(exact),
        exact=exact,
    )


@pytest.mark.parametrize(("scheme", "theta", "expected"), [("bdf2", 0.5, 2), ("theta", 0.5, 2), ("theta", 1.0, 1)])
def test_time_orders_bdf2_crank_nicolson_backward_euler(holed_square, scheme, theta, expected):
    problem = quadratic_in_space(holed_square)
    steps = [0.1, 0.05, 0.025]
    errors = [
        FiniteElementLines(dt=dt, scheme=scheme, theta=theta, outputs=10).solve(problem).level_error(problem.exact)
        for dt in steps
    ]
    print(f"{scheme} theta={theta}: L2 {errors}, order {observed_order(steps, errors):.2f}")
    assert abs(observed_order(steps, errors) - expected) < 0.15, errors


def test_adaptive_steps_follow_the_tolerance(holed_square):
    problem = quadratic_in_space(holed_square)
    coarse, fine = (FiniteElementLines(tol=tol, outputs=10).solve(problem) for tol in (1e-4, 1e-6))
    for tol, run in ((1e-4, coarse), (1e-6, fine)):
        print(f"adaptive tol={tol}: {run.stats['steps']} steps, L2 {run.level_error(problem.exact):.3e}")
    assert fine.stats["steps"] > 3 * coarse.stats["steps"]
    assert fine.level_error(problem.exact) < coarse.level_error(problem.exact) / 10
    assert coarse.level_error(problem.exact) < 2e-4


def test_time_dependent_robin_condition_on_a_polygon():
    """u_t = Δu + f on the L-shape, u = e^{-t} sin(x + y/2) + x t, with u + ∂u/∂n = g(x, t) on x = 1."""

    def exact(x, p):
        return exp(-x.t) * sin(x.x + x.y / 2) + x.x * x.t

    def robin_value(x, p):  # the outward normal on x = 1 is +x
        return exact(x, p) + exp(-x.t) * cos(x.x + x.y / 2) + x.t

    problem = Problem(
        "robin_lshape",
        Polygon([(0, 0), (1, 0), (1, -1), (-1, -1), (-1, 1), (0, 1)]),
        rhs=lambda u, x, p: laplacian(u) + exp(-x.t) * sin(x.x + x.y / 2) * 0.25 + x.x,
        time=(0.0, 1.0),
        initial=lambda x, p: sin(x.x + x.y / 2),
        boundary=[Robin(1.0, 1.0, robin_value, on=lambda x: x.x > 1 - 1e-9), Dirichlet(exact)],
        exact=exact,
    )
    errors = [FiniteElementLines(n=n, dt=0.04, outputs=5).solve(problem).level_error(problem.exact) for n in (5, 9)]
    assert errors[1] < 1.5e-4 and errors[0] / errors[1] > 6, errors


def allen_cahn_on_a_disk() -> Problem:
    return Problem(
        "allen_cahn_disk",
        Disk((0.0, 0.0), 1.0),
        rhs=lambda u, x, p: p.eps * laplacian(u) + u - u**3,
        time=(0.0, 1.5),
        initial=lambda x, p: 0.6 * cos(3 * x.x) * sin(2 * x.y + 0.3),
        boundary=Neumann(0.0),
        params={"eps": 0.01},
    )


def energy(solution) -> np.ndarray:
    """E(u) = ∫ ε/2 |∇u|² + (u² − 1)²/4 at every stored level."""

    @skfem.Functional
    def density(w):
        return 0.005 * (w.uh.grad[0] ** 2 + w.uh.grad[1] ** 2) + (w.uh**2 - 1) ** 2 / 4

    basis = solution.basis
    return np.array([density.assemble(basis, uh=basis.interpolate(c)) for c in solution.coefficients])


def test_allen_cahn_on_a_disk_decays_its_energy_and_matches_a_fine_run():
    problem = allen_cahn_on_a_disk()
    assert SOLVERS["classical"].target(problem) is FiniteElementLines
    coarse = FiniteElementLines(n=9, tol=1e-4, outputs=15).solve(problem)
    accurate = FiniteElementLines(n=9, tol=1e-6, outputs=15).solve(problem)
    fine = FiniteElementLines(n=17, tol=1e-6, outputs=15).solve(problem)
    levels = energy(coarse)
    assert np.all(np.diff(levels) < 0) and levels[-1] < 0.85 * levels[0], levels
    assert coarse.stats["newton_iterations"] > coarse.stats["steps"]  # the reaction is nonlinear: Newton iterates
    points = problem.domain.sample_interior(2000, seed=1)
    points = np.column_stack([points, np.full(len(points), 1.5)])
    norm = np.linalg.norm(fine(points))
    in_time = np.linalg.norm(coarse(points) - accurate(points)) / norm
    in_space = np.linalg.norm(accurate(points) - fine(points)) / norm
    print(f"allen-cahn disk: time {in_time:.3e}, space {in_space:.3e}")
    assert in_time < 2e-3 and in_space < 4e-2, (in_time, in_space)


def test_viscous_burgers_convection_on_a_polygon_converges_in_space():
    """u_t = ν Δu − u ∂_x u + f with u = (1 + t) sin(πx) sin(πy) on a pentagon."""

    def exact(x, p):
        return (1 + x.t) * sin(pi * x.x) * sin(pi * x.y)

    def rhs(u, x, p):
        s = sin(pi * x.x) * sin(pi * x.y)
        e = (1 + x.t) * s
        forcing = s + p.nu * 2 * pi**2 * e + e * (1 + x.t) * pi * cos(pi * x.x) * sin(pi * x.y)
        return p.nu * laplacian(u) - u * d(u, "x") + forcing

    problem = Problem(
        "burgers_pentagon",
        Polygon([(0, 0), (1, 0), (1, 0.5), (0.5, 1), (0, 1)]),
        rhs=rhs,
        time=(0.0, 0.5),
        initial=lambda x, p: sin(pi * x.x) * sin(pi * x.y),
        boundary=Dirichlet(exact),
        params={"nu": 0.1},
        exact=exact,
    )
    errors = [FiniteElementLines(n=n, dt=0.05, outputs=5).solve(problem).level_error(problem.exact) for n in (5, 9)]
    assert errors[0] / errors[1] > 6 and errors[1] < 1e-3, errors


def test_bad_options_are_one_line_errors(holed_square):
    problem = quadratic_in_space(holed_square)
    with pytest.raises(PdesolveError, match="scheme must be one of"):
        FiniteElementLines(scheme="rk4").solve(problem)
    with pytest.raises(PdesolveError, match=r"theta must lie in \[0.5, 1\]"):
        FiniteElementLines(scheme="theta", theta=0.2).solve(problem)


def test_fem_mol_stays_out_of_default_comparisons_on_boxes_where_mol_applies():
    from pdesolve.problem.loading import load_problem

    burgers = load_problem("burgers1d")
    assert FiniteElementLines.not_applicable(burgers) is None
    assert FiniteElementLines.compare_variants(burgers) == []
    assert SOLVERS["classical"].target(burgers).name == "mol"
    assert torch.get_default_dtype() == torch.float32  # the torch evaluation left the global state alone


def test_heat_on_a_constructive_domain_keeps_order_3_on_its_curved_mesh():
    """u_t = Δu + f on the unit square minus a disk (curved P2 mesh), u = sin(πx) cos(πy) (1 + t)."""
    from pdesolve.problem import Rectangle

    def exact(x, p):
        return sin(pi * x.x) * cos(pi * x.y) * (1 + x.t)

    problem = Problem(
        "heat_csg",
        Rectangle((0.0, 0.0), (1.0, 1.0)) - Disk((0.5, 0.5), 0.2, name="hole"),
        rhs=lambda u, x, p: laplacian(u) + sin(pi * x.x) * cos(pi * x.y) * (1 + 2 * pi**2 * (1 + x.t)),
        time=(0.0, 0.5),
        initial=lambda x, p: sin(pi * x.x) * cos(pi * x.y),
        boundary=Dirichlet(exact),
        exact=exact,
    )
    assert SOLVERS["classical"].target(problem) is FiniteElementLines
    errors = [FiniteElementLines(n=n, dt=0.05, outputs=10).solve(problem).level_error(exact) for n in (5, 9, 17)]
    assert observed_order([4, 2, 1], errors) > 2.9 and errors[-1] < 2e-4, errors
