"""Systems in the problem layer: unknowns by name, equations per row, conditions per unknown, the
vector operators on network fields (autograd) and grid fields, and the one-line validation errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pdesolve.errors import ProblemError
from pdesolve.problem import (
    Coords,
    Dirichlet,
    Gauge,
    NetworkField,
    Outflow,
    Problem,
    Rectangle,
    Unknowns,
    convective,
    curl,
    div,
    grad,
    laplacian,
    load_problem,
    strain,
)
from pdesolve.problem.systems import equation_list


def stokes(**changes):
    """A Stokes system on the unit square; ``changes`` replace its keyword arguments."""
    arguments = {
        "name": "stokes",
        "domain": Rectangle((0.0, 0.0), (1.0, 1.0)),
        "unknowns": ("u", "v", "p"),
        "residual": lambda U, x, p: (-laplacian(U.velocity) + grad(U.p), div(U.velocity)),
        "boundary": [Dirichlet({"u": 0.0, "v": 0.0}), Gauge("p")],
    }
    return Problem(**{**arguments, **changes})


def network_fields(functions, points):
    """Unknowns given by torch functions of the coordinates, differentiable by autograd."""
    space = [torch.tensor(c, dtype=torch.float64, requires_grad=True) for c in points.T]
    coords = dict(zip("xy", space))
    fields = {name: NetworkField(f(*space), coords) for name, f in functions.items()}
    return Unknowns(fields, len(space)), Coords(space)


def test_unknowns_by_attribute_name_and_vector():
    problem = stokes()
    assert problem.is_system and problem.unknowns == ("u", "v", "p")
    points = np.random.default_rng(0).uniform(0, 1, (5, 2))
    U, x = network_fields({"u": lambda x, y: x * y, "v": lambda x, y: x - y, "p": lambda x, y: x**2}, points)
    assert U.u is U["u"] and list(U) == ["u", "v", "p"]
    assert [c.values for c in U.velocity.components] == [U.u.values, U.v.values]
    rows = equation_list({"momentum": U.velocity, "continuity": U.p})
    assert len(rows) == 3
    with pytest.raises(AttributeError, match="no unknown 'q'"):
        getattr(U, "q")  # noqa: B009


def test_vector_operators_by_autograd_against_hand_derivatives():
    points = np.random.default_rng(1).uniform(-1, 1, (7, 2))
    U, _ = network_fields({"u": lambda x, y: x**2 * y, "v": lambda x, y: torch.sin(x) + y**3}, points)
    w = U.velocity
    X, Y = points.T
    u, v = X**2 * Y, np.sin(X) + Y**3
    ux, uy, vx, vy = 2 * X * Y, X**2, np.cos(X), 3 * Y**2
    gradient = grad(w)
    expected = [[ux, uy], [vx, vy]]
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(gradient[i][j].values.detach(), expected[i][j], rtol=1e-13)
    np.testing.assert_allclose(div(w).values.detach(), ux + vy, rtol=1e-13)
    np.testing.assert_allclose(curl(w).values.detach(), vx - uy, rtol=1e-13)
    advection = convective(w)
    np.testing.assert_allclose(advection[0].values.detach(), u * ux + v * uy, rtol=1e-13)
    np.testing.assert_allclose(advection[1].values.detach(), u * vx + v * vy, rtol=1e-13)
    eps = strain(w)
    np.testing.assert_allclose(eps[0][1].values.detach(), 0.5 * (uy + vx), rtol=1e-13)
    divergence_of_strain = div(eps)  # ½(Δw + ∇ div w)
    np.testing.assert_allclose(
        divergence_of_strain[0].values.detach(), 0.5 * (2 * Y + 0) + 0.5 * (2 * Y + 0), rtol=1e-12
    )
    stream = curl(U.u)  # (ψ_y, −ψ_x) is divergence-free
    np.testing.assert_allclose(div(stream).values.detach(), 0.0, atol=1e-13)


def test_kovasznay_exact_solution_has_zero_residual_through_autograd():
    """The PINN backend's operators: the exact Kovasznay flow satisfies the equations to round-off."""
    problem = load_problem("kovasznay")
    points = problem.domain.sample_interior(64, seed=0)
    space = [torch.tensor(c, dtype=torch.float64, requires_grad=True) for c in points.T]
    exact = problem.exact(Coords(space), problem.p)
    coords = dict(zip("xy", space))
    U = Unknowns({name: NetworkField(exact[name], coords) for name in problem.unknowns}, 2)
    rows = equation_list(problem.residual(U, Coords(space), problem.p))
    assert len(rows) == 3
    for row in rows:
        assert row.values.abs().max().item() < 1e-12
    scale = U.u.values.abs().max().item()
    assert scale > 0.5  # the check is not vacuous


def test_scalar_dirichlet_may_name_its_unknown():
    problem = Problem(
        name="scalar",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        residual=lambda u, x, p: -laplacian(u) - 1.0,
        boundary=Dirichlet({"u": 2.0}),
    )
    assert problem.boundary[0].value == 2.0 and not problem.is_system


def test_system_exact_solution_per_unknown():
    problem = stokes(exact=lambda x, p: {"p": x.x, "u": 0 * x.x, "v": x.y})
    points = np.array([[0.25, 0.5], [0.75, 1.0]])
    np.testing.assert_allclose(problem.reference_values(points), [[0.0, 0.5, 0.25], [0.0, 1.0, 0.75]])


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"residual": lambda U, x, p: (-laplacian(U.velocity) + grad(U.p),)}, "2 equation(s) for the 3 unknowns"),
        ({"residual": lambda U, x, p: (-laplacian(U.u), div(U.velocity), U.p, U.v)}, "4 equation(s)"),
        ({"boundary": [Dirichlet({"u": 0.0, "q": 0.0}), Gauge("p")]}, "names ['q'], which is not an unknown"),
        ({"boundary": [Dirichlet({"u": 0.0, "v": 0.0}), Gauge("pressure")]}, "names ['pressure']"),
        ({"boundary": [Dirichlet({"u": 0.0, "v": 0.0})]}, "'p' is left undetermined"),
        ({"boundary": [Dirichlet(0.0), Gauge("p")]}, "names its unknowns"),
        ({"residual": lambda U, x, p: (U.nope, U.v, U.p)}, "residual(U, x, p) fails"),
        ({"exact": lambda x, p: (x.x, x.y)}, "gives 2 value(s) for the 3 unknowns"),
        ({"unknowns": ("u", "u", "p")}, "distinct identifiers"),
    ],
)
def test_bad_systems_are_one_line_problem_errors(changes, words):
    with pytest.raises(ProblemError) as error:
        stokes(**changes)
    message = str(error.value)
    assert words in message and "\n" not in message, message


def test_outflow_makes_the_pressure_determined():
    problem = stokes(boundary=[Dirichlet({"u": 0.0, "v": 0.0}, on=lambda x: x.x < 1 - 1e-9), Outflow()])
    assert problem.is_system


def test_scalar_problems_take_no_system_conditions():
    with pytest.raises(ProblemError, match="Gauge conditions belong to systems"):
        Problem(
            name="scalar",
            domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
            residual=lambda u, x, p: -laplacian(u),
            boundary=[Dirichlet(0.0), Gauge("u")],
        )
