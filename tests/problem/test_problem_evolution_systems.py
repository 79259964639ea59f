"""Evolution systems in the problem layer: rhs rows for the evolving unknowns, constraints for the algebraic
ones, initial data per unknown, and the one-line errors of inconsistent definitions."""

from __future__ import annotations

import numpy as np
import pytest

from pdesolve.errors import ProblemError
from pdesolve.problem import Coords, Dirichlet, Gauge, Problem, Rectangle, convective, div, grad, laplacian


def navier_stokes(**changes) -> Problem:
    arguments = {
        "name": "flow",
        "domain": Rectangle((0.0, 0.0), (1.0, 1.0)),
        "unknowns": ("u", "v", "p"),
        "rhs": lambda U, x, p: -convective(U.velocity) - grad(U.p) + laplacian(U.velocity) / 100,
        "constraints": lambda U, x, p: div(U.velocity),
        "time": (0.0, 1.0),
        "initial": lambda x, p: (x.y, -x.x),
        "boundary": [Dirichlet({"u": 0.0, "v": 0.0}), Gauge("p")],
    }
    return Problem(**{**arguments, **changes})


def test_rows_split_the_unknowns_into_evolving_and_algebraic():
    problem = navier_stokes()
    assert problem.is_system and problem.is_evolution and problem.evolving == ("u", "v")
    x = Coords([np.array([0.25, 0.5]), np.array([0.5, 0.75])], t=np.zeros(2))
    values = problem.initial_values(x)
    assert list(values) == ["u", "v"] and np.allclose(values["u"], [0.5, 0.75])
    guess = navier_stokes(initial=lambda x, p: {"u": x.y, "v": -x.x, "p": 0 * x.x}).initial_values(x)
    assert set(guess) == {"u", "v", "p"}  # an algebraic unknown may be given as a starting guess
    diffusion = navier_stokes(
        unknowns=("a", "b"),
        rhs=lambda U, x, p: (laplacian(U.a) - U.a * U.b, laplacian(U.b)),
        constraints=None,
        boundary=[Dirichlet({"a": 0.0, "b": 0.0})],
    )
    assert diffusion.evolving == ("a", "b")  # a reaction-diffusion pair: no algebraic unknown


BAD = [
    ({"constraints": None}, "rhs returns 2 row(s) and constraints 0 for the 3 unknowns"),
    ({"rhs": lambda U, x, p: (U.u, U.v, U.p)}, "rhs returns 3 row(s) and constraints 1"),
    ({"initial": lambda x, p: (x.x,)}, "gives 1 value(s) for the 2 evolving unknowns ['u', 'v']"),
    ({"initial": lambda x, p: {"u": x.x}}, "it must give the evolving unknowns ['u', 'v']"),
    ({"boundary": [Dirichlet({"u": 0.0, "w": 0.0}), Gauge("p")]}, "names ['w'], which is not an unknown"),
    ({"boundary": [Dirichlet({"u": 0.0, "v": 0.0})]}, "'p' is left undetermined"),
    ({"constraints": lambda U, x, p: div(U.speed)}, "constraints(U, x, p) fails"),
]


@pytest.mark.parametrize(("changes", "words"), BAD)
def test_inconsistent_evolution_systems_are_one_line_errors(changes, words):
    with pytest.raises(ProblemError) as error:
        navier_stokes(**changes)
    message = str(error.value)
    assert words in message and "\n" not in message, message
