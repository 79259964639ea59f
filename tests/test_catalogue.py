"""The problem catalogue: every file loads, its equation evaluates on grids, exact solutions and
reference data are consistent with the equations they belong to."""

import importlib.util

import numpy as np
import pytest

from pdesolve.classical.assembly import box_grid
from pdesolve.problem import Coords, GridField, Unknowns, load_problem
from pdesolve.problem.loading import catalogue_directory, catalogue_names
from pdesolve.problem.systems import equation_list, per_unknown

NAMES = catalogue_names()
COARSE = {"kovasznay": 33}  # two periods of cos 2πy across the domain: 17 nodes are not yet asymptotic


def test_catalogue_is_complete():
    expected = {
        "advection1d",
        "allen_cahn1d",
        "allen_cahn2d",
        "burgers1d",
        "burgers2d",
        "cavity",
        "cylinder",
        "darcy2d",
        "diffusion_sorption1d",
        "heat2d",
        "helmholtz2d",
        "kovasznay",
        "navier_stokes2d",
        "poisson2d",
        "poisson3d",
        "poisson_lshape",
    }
    assert expected <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_problem_loads_and_documents_itself(name):
    problem = load_problem(name)
    assert problem.name == name
    assert problem.description
    assert "n" in problem.defaults and ("dt" in problem.defaults) == problem.is_evolution
    spec = importlib.util.spec_from_file_location(name, catalogue_directory() / f"{name}.py")
    source = spec.loader.get_source(name)
    assert source.lstrip().startswith('"""'), "a problem file starts with a docstring naming its source"


def grid_of(problem, n):
    return box_grid(problem, n, "spectral" if problem.is_fully_periodic else "fd")


def system_fields(problem, values, grid):
    """Grid fields of a system's unknowns holding ``values`` (one array per unknown)."""
    arrays = per_unknown(values, problem.unknowns, "values")
    fields = {
        name: GridField(np.broadcast_to(a, grid.shape).astype(float), grid) for name, a in zip(problem.unknowns, arrays)
    }
    return Unknowns(fields, problem.dim)


def stationary_rows(problem, values, grid, x):
    """The residual's rows on grid fields holding ``values`` (one array, or one per unknown of a system)."""
    if not problem.is_system:
        return [problem.residual(GridField(values, grid), x, problem.p)]
    return equation_list(problem.residual(system_fields(problem, values, grid), x, problem.p))


@pytest.mark.parametrize("name", NAMES)
def test_equation_evaluates_on_a_grid_field(name):
    problem = load_problem(name)
    grid = grid_of(problem, 16 if problem.dim == 3 else 32)
    t = problem.time[0] if problem.is_evolution else None
    x = Coords(grid.coordinates(), t=t)
    if problem.is_evolution and problem.is_system:  # an evolution system: its rhs rows at the initial data
        values = {name: np.zeros(grid.shape) for name in problem.unknowns} | problem.initial_values(x)
        (result, *_) = equation_list(problem.rhs(system_fields(problem, values, grid), x, problem.p))
    elif problem.is_evolution:
        u = np.broadcast_to(problem.initial(x, problem.p), grid.shape)
        result = problem.rhs(GridField(u, grid), x, problem.p)
    else:
        zeros = np.zeros(grid.shape) if not problem.is_system else [np.zeros(grid.shape)] * len(problem.unknowns)
        (result, *_) = stationary_rows(problem, zeros, grid, x)
    values = np.asarray(result.at_nodes().values)
    assert values.shape == grid.shape and np.isfinite(values).all()


def stationary_defect(problem, n):
    """max |residual(exact)| over interior nodes of an n-grid: O(h²) for a consistent pair."""
    grid = grid_of(problem, n)
    x = Coords(grid.coordinates())
    rows = stationary_rows(problem, problem.exact(x, problem.p), grid, x)
    return max(np.abs(np.asarray(row.values)[(slice(1, -1),) * problem.dim]).max() for row in rows)


@pytest.mark.parametrize("name", [n for n in NAMES if load_problem(n).exact and not load_problem(n).is_evolution])
def test_exact_solution_solves_the_stationary_equation(name):
    problem = load_problem(name)
    n = COARSE.get(name, 17)
    coarse, fine = stationary_defect(problem, n), stationary_defect(problem, 2 * n - 1)
    assert 3.5 < coarse / fine < 4.5, (coarse, fine)


@pytest.mark.parametrize("name", [n for n in NAMES if load_problem(n).exact and load_problem(n).is_evolution])
def test_exact_solution_solves_the_evolution_equation(name):
    problem = load_problem(name)
    grid = grid_of(problem, 64)
    t, dt = 0.3 * problem.time[1], 1e-5

    def exact(at):
        return problem.exact(Coords(grid.coordinates(), t=at), problem.p)

    if problem.is_system:  # rows of the evolving unknowns, second-order differences inside: 1e-2 on 64 nodes
        x = Coords(grid.coordinates(), t=t)
        rows = equation_list(problem.rhs(system_fields(problem, exact(t), grid), x, problem.p))
        inner = (slice(1, -1),) * problem.dim
        for name, row in zip(problem.evolving, rows):
            derivative = (exact(t + dt)[name] - exact(t - dt)[name]) / (2 * dt)
            rate = np.asarray(row.values)
            assert np.abs(rate - derivative)[inner].max() < 1e-2 * np.abs(rate).max(), name
        start = Coords(grid.coordinates(), t=problem.time[0])
        given = problem.initial_values(start)
        for name in problem.evolving:
            np.testing.assert_allclose(given[name], problem.exact(start, problem.p)[name], atol=1e-14)
        return
    rate = problem.rhs(GridField(exact(t), grid), Coords(grid.coordinates(), t=t), problem.p).values
    time_derivative = (exact(t + dt) - exact(t - dt)) / (2 * dt)
    assert np.abs(rate - time_derivative).max() < 1e-5 * np.abs(rate).max()
    start = Coords(grid.coordinates(), t=problem.time[0])
    np.testing.assert_allclose(problem.initial(start, problem.p), problem.exact(start, problem.p), atol=1e-14)


def test_burgers_reference_data_starts_at_the_initial_condition():
    problem = load_problem("burgers1d")
    points, values = problem.reference.load()
    assert points.shape == (25600, 2) and values.shape == (25600,)
    assert points[:, 1].min() == problem.time[0] and np.isclose(points[:, 1].max(), problem.time[1])
    first = points[:, 1] == 0
    initial = problem.initial(Coords([points[first, 0]], t=0.0), problem.p)
    np.testing.assert_allclose(values[first], initial, atol=1e-12)


def test_lshape_reference_data_lies_in_the_domain():
    problem = load_problem("poisson_lshape")
    points, values = problem.reference.load()
    assert points.shape == (19521, 2) and np.isfinite(values).all()
    assert problem.domain.inside(points).all()
    assert 0 <= values.min() and values.max() < 0.2


def test_families_draw_distinct_members_in_their_ranges():
    darcy = load_problem("darcy2d")
    a0, a1 = darcy.p.a, darcy.sample(1).p.a
    assert set(np.unique(a1.values)) == {3.0, 12.0} and not np.array_equal(a0.values, a1.values)
    np.testing.assert_array_equal(darcy.sample(0).p.a.values, a0.values)  # the plain problem is seed 0
    sorption = load_problem("diffusion_sorption1d")
    assert all(0 <= sorption.sample(s).p.u0 < 0.2 for s in range(5))
    navier_stokes = load_problem("navier_stokes2d")
    assert not np.array_equal(navier_stokes.sample(1).p.w0.values, navier_stokes.p.w0.values)


def test_example_problem_file_is_consistent():
    """examples/my_pde.py: its manufactured source matches its exact solution (defect O(h²))."""
    problem = load_problem(str(catalogue_directory().parent / "examples" / "my_pde.py"))
    coarse, fine = stationary_defect(problem, 17), stationary_defect(problem, 33)
    assert 3.5 < coarse / fine < 4.5, (coarse, fine)
