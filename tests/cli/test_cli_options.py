"""Typed solver options: every registered solver's ``Options`` is a frozen dataclass whose fields carry their help,
choices and bounds; a bad choice is one line (exit 2) listing the choices; ``None`` defaults come from the problem."""

from __future__ import annotations

import dataclasses

import pytest

import pdesolve as ps
from pdesolve.classical.fd import FiniteDifference
from pdesolve.classical.spectral import SpectralSolver
from pdesolve.errors import PdesolveError
from pdesolve.problem import load_problem
from pdesolve.solvers.available import load_all
from pdesolve.solvers.base import SOLVERS, coerce_option, option_fields, option_types
from pdesolve.solvers.classical_alias import Alias

KINDS = {bool, int, float, str, int | None, float | None, str | None}


def _registered():
    load_all()
    return [solver for solver in SOLVERS.values() if not issubclass(solver, Alias)]


def test_every_registered_solver_has_a_frozen_options_dataclass_with_help_on_every_field():
    for solver in _registered():
        options = solver.Options
        assert dataclasses.is_dataclass(options) and options.__dataclass_params__.frozen, solver.name
        instance = options()
        with pytest.raises(dataclasses.FrozenInstanceError):
            instance.__setattr__(next(iter(option_fields(options)), "x"), 0)
        types = option_types(options)
        for name, item in option_fields(options).items():
            help_text = item.metadata.get("help")
            assert help_text and "\n" not in help_text, (solver.name, name)
            assert types[name] in KINDS, (solver.name, name, types[name])
            assert item.default is not dataclasses.MISSING, (solver.name, name)
            choices = item.metadata["choices"]
            assert not choices or item.default is None or item.default in choices, (solver.name, name)
        assert not hasattr(solver, "option_help") and not hasattr(solver, "positive"), solver.name


def test_a_bad_choice_is_one_line_listing_the_choices_with_exit_2(capsys, tmp_path):
    import pdesolve.cli

    code = pdesolve.cli.main(["solve", "poisson2d", "--solver", "fd", "--set", "precond=ilu", "--out", str(tmp_path)])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and lines == [
        "pdesolve: error: --set precond=ilu: fd's precond must be one of none, jacobi, amg, ic0, not 'ilu'"
    ]
    with pytest.raises(PdesolveError, match=r"^teng's scheme must be one of euler, heun, not 'rk4'$"):
        SOLVERS["teng"](scheme="rk4")  # the Python constructor checks the same field
    with pytest.raises(PdesolveError, match=r"^--set method=RK45: mol's method must be one of BDF, Radau, not 'RK45'$"):
        ps.solve("heat2d", "mol", method="RK45")  # the Python API reads the same fields


def test_none_defaults_resolve_from_the_problem():
    heat = load_problem("heat2d")  # defaults n = 64, dt = 0.005, spectral: dt = 0.05
    solver = SpectralSolver()
    assert solver.config.n is None and solver.config.dt is None
    assert solver.from_problem("n", heat, 7) == 64 and solver.from_problem("dt", heat, 1.0) == 0.05
    assert SpectralSolver(n=16, dt=0.01).from_problem("dt", heat, 1.0) == 0.01
    poisson = load_problem("poisson2d")
    assert FiniteDifference().from_problem("n", poisson, 0) == poisson.defaults["n"]
    assert FiniteDifference().from_problem("n", dataclasses.replace(poisson, defaults={}), 65) == 65
    assert FiniteDifference.compare_variants(poisson)[0] == {"n": poisson.defaults["n"]}
    # 0 and none on the command line keep meaning "from the problem", as before the fields were typed
    assert coerce_option(FiniteDifference, "n", "0") is None and coerce_option(FiniteDifference, "n", "none") is None
    assert coerce_option(FiniteDifference, "n", "33") == 33


def test_adaptive_weights_without_an_adam_stage_are_refused_in_one_line(capsys, tmp_path):
    import pdesolve.cli

    # the ngd preset has no Adam steps, and the weights balance only those: the option would do nothing
    code = pdesolve.cli.main(
        ["solve", "heat2d", "--solver", "pinn", "--set", "loss_weights=adaptive", "--out", str(tmp_path / "run")]
    )
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "no Adam steps" in lines[0], lines
    assert not (tmp_path / "run" / "metrics.json").exists()
