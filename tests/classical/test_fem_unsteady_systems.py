"""fem_mol on evolution systems: the Taylor–Green vortex by Taylor–Hood P2/P1 and BDF2 (order 3 in space,
2 in time, its kinetic energy), unsteady Stokes with one factorisation per step kind, the linearly
implicit option, refusals, and the catalogue problem through the command."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from helpers import observed_order

import pdesolve.cli
from pdesolve.classical.fem_mol import FiniteElementLines
from pdesolve.problem import Dirichlet, Gauge, Problem, Rectangle, div, grad, laplacian, load_problem
from pdesolve.solvers.available import load_all
from pdesolve.solvers.base import SOLVERS

load_all()


@pytest.fixture(scope="module")
def taylor_green() -> Problem:
    return load_problem("taylor_green")


def velocity_error(solution, problem) -> float:
    errors = solution.level_errors(problem.exact)
    return float(np.hypot(errors["u"], errors["v"]))


def test_taylor_green_velocity_converges_at_order_3_in_space(taylor_green):
    """Re = 10, two BDF2 steps of 0.01: the time error is far below the spatial one."""
    problem = replace(taylor_green.with_params(Re=10.0), time=(0.0, 0.02))
    sizes, errors = [1 / 4, 1 / 8, 1 / 16], []
    for n in (5, 9, 17):
        errors.append(velocity_error(FiniteElementLines(n=n, dt=0.01, outputs=2).solve(problem), problem))
    print(f"Taylor–Green space: velocity L2 {errors}, order {observed_order(sizes, errors):.2f}")
    assert observed_order(sizes, errors) > 2.8 and errors[-1] < 2e-4, errors


def test_taylor_green_bdf2_converges_at_order_2_in_time(taylor_green):
    """Re = 1 (decay rate 2π²), P2 on h = 1/8: the time error dominates."""
    problem = replace(taylor_green.with_params(Re=1.0), time=(0.0, 0.1))
    steps, errors = [0.05, 0.025, 0.0125], []
    for dt in steps:
        errors.append(velocity_error(FiniteElementLines(n=9, dt=dt, outputs=2).solve(problem), problem))
    print(f"Taylor–Green time: velocity L2 {errors}, order {observed_order(steps, errors):.2f}")
    assert abs(observed_order(steps, errors) - 2.0) < 0.35, errors


def test_taylor_green_kinetic_energy_series_and_pressure(taylor_green):
    solution = FiniteElementLines(n=9, dt=0.1, outputs=5).solve(taylor_green)
    series = solution.stats["kinetic_energy"]
    t = np.asarray(series["t"])
    exact = 0.25 * np.exp(-4 * np.pi**2 * t / taylor_green.p.Re)  # ½∫|w|² = F²/4 on the unit square
    assert len(series["value"]) == 6 and np.max(np.abs(np.asarray(series["value"]) / exact - 1)) < 2e-3
    errors = solution.level_errors(taylor_green.exact)
    assert errors["p"] < 1e-2 and solution.stats["linear"] is False, errors
    first = solution.level_errors(taylor_green.exact, level=1)  # the consistent start: no pressure spike
    assert first["p"] < 3e-2, first


def stokes_taylor_green() -> Problem:
    """Unsteady Stokes: the Taylor–Green velocity is exact with p = 0 (ν Δw = −2π²ν w = ∂w/∂t)."""
    flow = load_problem("taylor_green")

    def exact(x, p):
        values = flow.exact(x, p)
        return {"u": values["u"], "v": values["v"], "p": 0.0 * x.x}

    return replace(
        flow,
        name="stokes_taylor_green",
        rhs=lambda U, x, p: -grad(U.p) + laplacian(U.velocity) / p.Re,
        exact=exact,
        params={"Re": 10.0},
        time=(0.0, 0.1),
    )


def test_unsteady_stokes_is_factored_once_per_kind_of_step():
    problem = stokes_taylor_green()
    solution = FiniteElementLines(n=9, dt=0.01, outputs=2).solve(problem)
    stats = solution.stats
    # the consistent start (one matrix), the Crank–Nicolson start and every BDF2 step: three factorisations
    assert stats["linear"] is True and stats["factorisations"] == 3, stats
    assert stats["newton_iterations"] == stats["steps"] + 2  # one solve per step (and per start step)
    errors = solution.level_errors(problem.exact)
    assert np.hypot(errors["u"], errors["v"]) < 1e-3 and errors["p"] < 1e-3, errors


def test_linearly_implicit_steps_match_newton(taylor_green):
    problem = replace(taylor_green, time=(0.0, 0.2))
    full = FiniteElementLines(n=5, dt=0.05, outputs=2).solve(problem)
    once = FiniteElementLines(n=5, dt=0.05, outputs=2, newton="once").solve(problem)
    assert once.stats["newton_iterations"] < full.stats["newton_iterations"]
    difference = np.abs(once.fields[0][1][-1] - full.fields[0][1][-1]).max()
    assert difference < 1e-4 * np.abs(full.fields[0][1][-1]).max(), difference


def test_adaptive_steps_on_a_system(taylor_green):
    problem = replace(taylor_green.with_params(Re=1.0), time=(0.0, 0.1))
    options = {"n": 5, "dt": 0.0, "outputs": 2, "newton": "once"}  # dt given as 0: adaptive, not the default
    coarse = FiniteElementLines(tol=1e-2, **options).solve(problem)
    fine = FiniteElementLines(tol=1e-4, **options).solve(problem)
    assert fine.stats["steps"] > 2 * coarse.stats["steps"], (coarse.stats["steps"], fine.stats["steps"])


def test_classical_resolves_to_fem_mol_and_refusals(taylor_green):
    assert SOLVERS["classical"].explain(taylor_green) == "fem_mol"
    assert "one unknown" in SOLVERS["mol"].not_applicable(taylor_green)
    assert "stationary" in SOLVERS["fem"].not_applicable(taylor_green)
    assert SOLVERS["pinn"].not_applicable(taylor_green) is None  # the PINN takes evolution systems


def test_taylor_green_through_the_command(tmp_path, capsys):
    code = pdesolve.cli.main(
        [
            "solve", "taylor_green", "--solver", "classical", "--set", "n=5", "--set", "dt=0.25",
            "--set", "outputs=4", "--out", str(tmp_path / "run"),
        ]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["solver"] == "fem_mol" and metrics["alias"] == "classical"
    assert set(metrics["errors_per_unknown"]) == {"u", "v", "p"}
    assert metrics["errors_per_unknown"]["u"]["rel_l2"] < 0.15
    assert len(metrics["stats"]["kinetic_energy"]["value"]) == 5


BAD = {
    "rows": ("rhs=lambda U, x, p: (U.u, U.v, U.p), constraints=lambda U, x, p: div(U.velocity)", "rhs returns 3 row"),
    "initial": ("rhs=rhs, constraints=con, initial=lambda x, p: (x.x,)", "1 value(s) for the 2 evolving"),
    "name": ("rhs=rhs, constraints=con, initial=lambda x, p: {'u': x.x, 'q': x.y}", "names ['q', 'u']"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_evolution_systems_end_with_one_line(tmp_path, capsys, case):
    arguments, words = BAD[case]
    path = tmp_path / "elsewhere" / f"bad_{case}.py"
    path.parent.mkdir()
    path.write_text(
        "from pdesolve.problem import *\n"
        "rhs = lambda U, x, p: -grad(U.p) + laplacian(U.velocity)\n"
        "con = lambda U, x, p: div(U.velocity)\n"
        "kwargs = dict(initial=lambda x, p: (x.x, x.y))\n"
        f"kwargs.update(dict({arguments}))\n"
        "problem = Problem(name='bad', domain=Rectangle((0, 0), (1, 1)), unknowns=('u', 'v', 'p'),\n"
        "    time=(0.0, 1.0), boundary=[Dirichlet({'u': 0.0, 'v': 0.0}), Gauge('p')], **kwargs)\n"
    )
    code = pdesolve.cli.main(["solve", str(path), "--solver", "classical"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "Traceback" not in err[0], err
    assert err[0].startswith("pdesolve: error: ") and words in err[0], err


def test_constraints_belong_to_evolution_systems():
    with pytest.raises(Exception, match="constraints= gives the algebraic rows"):
        Problem(
            name="stokes",
            domain=Rectangle((0, 0), (1, 1)),
            unknowns=("u", "v", "p"),
            residual=lambda U, x, p: (-laplacian(U.velocity) + grad(U.p), div(U.velocity)),
            constraints=lambda U, x, p: div(U.velocity),
            boundary=[Dirichlet({"u": 0.0, "v": 0.0}), Gauge("p")],
        )


def test_unsteady_reaction_force_on_a_wall_follows_the_exact_one(taylor_green):
    """On the wall y = 0 the Taylor–Green flow pushes with ∮ p n ds − ν ∮ ∂w/∂n ds = (0, F²/4), F = e^{−2π²t/Re};
    the reaction form must include M ∂w/∂t to get it (the wall's test functions see the time derivative)."""
    from pdesolve.problem import Drag, Lift

    problem = replace(
        taylor_green,
        time=(0.0, 0.5),
        quantities={"D": Drag(on="bottom"), "L": Lift(on="bottom")},
    )
    solution = FiniteElementLines(n=9, dt=0.05, outputs=2, newton="once").solve(problem)
    forces = solution.stats["forces"]
    t = np.asarray(forces["L"]["t"])
    exact = 0.25 * np.exp(-4 * np.pi**2 * t / problem.p.Re)
    assert len(t) == solution.stats["steps"] == 10
    # from the second step on: the Crank–Nicolson start's pressure mirrors the initial one's error (≈ 10 % here)
    assert np.max(np.abs(np.asarray(forces["L"]["value"]) - exact)[1:]) < 1e-2 * exact[0], forces["L"]["value"]
    assert np.max(np.abs(forces["D"]["value"])) < 1e-3
    assert abs(solution.boundary_force(problem.quantities["L"].on)[0][1] - exact[-1]) < 1e-2 * exact[0]
