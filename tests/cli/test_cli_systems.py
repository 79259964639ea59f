"""A PDE system written in a file outside the repository, compared through the command; bad systems end
with one line and exit code 2."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli_errors import one_line

STOKES = '''
"""Stokes flow of a manufactured solution: velocity from the stream function x²(1−x)²y²(1−y)², p = x − 1/2."""
from pdesolve.problem import Dirichlet, Gauge, Problem, Rectangle, div, grad, laplacian

NU = 0.5


def stream(x, y):
    return x**2 * (1 - x) ** 2, y**2 * (1 - y) ** 2


def exact(x, p):
    a, b = stream(x.x, x.y)
    da, db = 2 * x.x * (1 - x.x) * (1 - 2 * x.x), 2 * x.y * (1 - x.y) * (1 - 2 * x.y)
    return {"u": a * db, "v": -da * b, "p": x.x - 0.5}


def forcing(x):
    X, Y = x.x, x.y
    a, b = X**2 * (1 - X) ** 2, Y**2 * (1 - Y) ** 2
    a1, b1 = 2 * X * (1 - X) * (1 - 2 * X), 2 * Y * (1 - Y) * (1 - 2 * Y)
    a2, b2 = 2 - 12 * X + 12 * X**2, 2 - 12 * Y + 12 * Y**2
    a3, b3 = -12 + 24 * X, -12 + 24 * Y
    return -NU * (a2 * b1 + a * b3) + 1.0, NU * (a3 * b + a1 * b2)


def residual(U, x, p):
    fx, fy = forcing(x)
    momentum = -NU * laplacian(U.velocity) + grad(U.p)
    return (momentum[0] - fx, momentum[1] - fy, div(U.velocity))


problem = Problem(
    name="stokes_file",
    domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
    unknowns=("u", "v", "p"),
    residual=residual,
    boundary=[Dirichlet({"u": 0.0, "v": 0.0}), Gauge("p")],
    exact=exact,
    description="Stokes, manufactured",
    defaults={"n": 9},
)
'''


def test_a_system_in_a_user_file_is_compared_through_the_command(cli, installed_solvers, tmp_path):
    path = tmp_path / "elsewhere" / "stokes_file.py"
    path.parent.mkdir()
    path.write_text(STOKES)
    result = cli("compare", path, "--solvers", "fem", "--out", tmp_path / "out")
    assert result.code == 0, result.err
    assert "rel L2 per unknown" in result.out and "p " in result.out
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    coarse, fine = metrics["runs"]
    assert coarse["options"] == {} and fine["options"] == {"refine": 1}
    for run in (coarse, fine):
        assert set(run["errors_per_unknown"]) == {"u", "v", "p"} and run["headline"] == "vector (u, v)"
    ratio = coarse["rel_l2"] / fine["rel_l2"]
    assert ratio > 7.0, ratio  # P2 velocity: order 3
    pressure = coarse["errors_per_unknown"]["p"]["rel_l2"] / fine["errors_per_unknown"]["p"]["rel_l2"]
    assert pressure > 3.0, pressure
    assert fine["rel_l2"] < 5e-3


BAD = {
    "count": ("(momentum, div(U.velocity), U.p)", "[Dirichlet({'u': 0.0, 'v': 0.0}), Gauge('p')]", "4 equation(s)"),
    "name": (
        "(momentum, div(U.velocity))",
        "[Dirichlet({'u': 0.0, 'vv': 0.0}), Gauge('p')]",
        "names ['vv'], which is not an unknown",
    ),
    "gauge": ("(momentum, div(U.velocity))", "[Dirichlet({'u': 0.0, 'v': 0.0})]", "'p' is left undetermined"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_systems_end_with_one_line(cli, installed_solvers, tmp_path, case):
    equations, boundary, words = BAD[case]
    text = (
        "from pdesolve.problem import *\n"
        "def residual(U, x, p):\n"
        "    momentum = -laplacian(U.velocity) + grad(U.p)\n"
        f"    return {equations}\n"
        "problem = Problem(name='bad', domain=Rectangle((0, 0), (1, 1)), unknowns=('u', 'v', 'p'),\n"
        f"                  residual=residual, boundary={boundary})\n"
    )
    path = tmp_path / f"bad_{case}.py"
    path.write_text(text)
    one_line(cli("solve", path, "--solver", "fem"), path.name, words)
    one_line(cli("compare", path, "--solvers", "fem"), words)
