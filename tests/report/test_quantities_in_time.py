"""Derived quantities of evolution solutions: the record at the final time with its time series, evaluated on
the solution at each time (any solution), or the series a solver recorded after every step. Checked on the
Taylor–Green vortex, whose pressure difference, profile and wall force are known in closed form."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from pdesolve.pinn.model import build_model
from pdesolve.pinn.solution import PinnSolution
from pdesolve.problem import Drag, Problem, load_problem
from pdesolve.problem.quantities import PressureDifference, Profile
from pdesolve.report.quantities import format_quantity, measure_quantities
from pdesolve.solvers.solution import Solution


class ExactSolution(Solution):
    """The problem's exact solution at points (x, y, t), with output times like a classical solver's."""

    def __init__(self, problem: Problem, times: np.ndarray | None = None, stats: dict | None = None) -> None:
        super().__init__(problem, stats)
        self.times = times

    def __call__(self, points: np.ndarray) -> np.ndarray:
        return self.problem.reference_values(np.atleast_2d(points))


def decay_squared(problem: Problem, t: np.ndarray) -> np.ndarray:
    return np.exp(-4 * math.pi**2 * np.asarray(t) / problem.params["Re"])


@pytest.fixture(scope="module")
def taylor_green() -> Problem:
    return load_problem("taylor_green")


def test_pressure_difference_and_wall_force_in_time_match_the_closed_form(taylor_green):
    """p(½, ½) − p(0, 0) = F² and the force on x = 0, −∫ (ν ∂w/∂n − p n) dy = (F²/4, 0), at every time."""
    quantities = {"dp": PressureDifference(a=(0.5, 0.5), b=(0.0, 0.0)), "F_x": Drag(on="left", nu=0.01)}
    problem = replace(taylor_green, quantities=quantities)
    measured = measure_quantities(problem, ExactSolution(problem))
    dp, force = measured["dp"], measured["F_x"]
    t = np.asarray(dp["series"]["t"])
    assert len(t) == 51 and t[0] == 0.0 and t[-1] == 1.0 and dp["t"] == 1.0
    assert np.abs(np.asarray(dp["series"]["value"]) - decay_squared(problem, t)).max() < 1e-12
    assert abs(dp["value"] - decay_squared(problem, 1.0)) < 1e-12
    assert dp["max"] == pytest.approx(1.0, abs=1e-12) and dp["t_max"] == 0.0 and dp["t_min"] == 1.0
    assert np.abs(np.asarray(force["series"]["value"]) - decay_squared(problem, t) / 4).max() < 1e-7
    assert force["method"] == "line integral"
    assert "max 1 at t=0" in format_quantity(dp)


def test_profile_in_time_against_a_table_of_the_final_velocity(taylor_green, tmp_path):
    """u(0, y, t) = −sin(πy) F(t): no deviation at t₁, the table's coordinates, values at the output times."""
    y = np.linspace(0.0, 1.0, 9)
    final = -np.sin(np.pi * y) * math.sqrt(decay_squared(taylor_green, 1.0))
    table = tmp_path / "profile.csv"
    table.write_text("profile,coordinate,value\n" + "".join(f"u,{c:.17g},{v:.17g}\n" for c, v in zip(y, final)))
    problem = replace(taylor_green, quantities={"u": Profile(unknown="u", table=str(table), key="u", fixed=(0.0,))})
    times = np.array([0.0, 0.5, 1.0])
    record = measure_quantities(problem, ExactSolution(problem, times=times))["u"]
    assert record["max_abs_deviation"] < 1e-12
    series = record["series"]
    assert series["t"] == [0.0, 0.5, 1.0] and np.allclose(series["coordinate"], y)
    expected_start = -np.sin(np.pi * y)
    assert np.abs(np.asarray(series["values"][0]) - expected_start).max() < 1e-12
    assert series["max_abs_deviation"][0] == pytest.approx(np.abs(expected_start - final).max(), abs=1e-12)


def test_a_series_the_solver_recorded_is_kept(taylor_green):
    problem = replace(taylor_green, quantities={"F_x": Drag(on="left", nu=0.01)})
    recorded = {"F_x": {"t": [0.5, 1.0], "value": [3.0, 2.0], "max": 3.0, "min": 2.0}}
    record = measure_quantities(problem, ExactSolution(problem, stats={"forces": recorded}))["F_x"]
    assert record["series"]["value"] == [3.0, 2.0] and record["max"] == 3.0 and record["t_max"] == 0.5
    assert record["value"] == pytest.approx(decay_squared(problem, 1.0) / 4, abs=1e-7)  # measured at t₁ itself


def test_unsteady_cylinder_forces_of_a_network_over_time():
    """The PINN's (untrained) drag and lift on the cylinder at its 51 snapshot times, by the line integral."""
    problem = load_problem("cylinder_unsteady")
    torch.manual_seed(0)
    solution = PinnSolution(problem, build_model(problem, width=6, depth=1, seed=1).double())
    measured = measure_quantities(problem, solution)
    for label in ("C_D", "C_L"):
        record = measured[label]
        assert record["method"] == "line integral" and record["t"] == 8.0
        values = np.asarray(record["series"]["value"])
        assert values.shape == (51,) and np.isfinite(values).all() and record["value"] == pytest.approx(values[-1])


def test_finite_element_series_recorded_forces_and_pressure_difference_at_output_times(taylor_green):
    """fem_mol: the lift on y = 0 keeps the per-step reaction series (F²/4 within 1 % at t₁), the pressure
    difference is measured on the mesh solution at its output times (within 0.1 of F² on h = 1/9, dt = 0.1)."""
    from pdesolve.classical.fem_mol import FiniteElementLines
    from pdesolve.problem import Lift

    quantities = {"L": Lift(on="bottom", nu=0.01), "dp": PressureDifference(a=(0.5, 0.5), b=(0.0, 0.0))}
    problem = replace(taylor_green, time=(0.0, 0.5), quantities=quantities)
    solution = FiniteElementLines(n=9, dt=0.1, outputs=5, newton="once").solve(problem)
    measured = measure_quantities(problem, solution)
    lift, dp = measured["L"], measured["dp"]
    assert lift["series"]["method"] == "recorded by the solver after every step" and len(lift["series"]["t"]) == 5
    assert lift["method"].startswith("reaction") and abs(lift["value"] - decay_squared(problem, 0.5) / 4) < 2e-3
    t = np.asarray(dp["series"]["t"])
    assert np.allclose(t, solution.times) and len(t) == 6
    assert np.abs(np.asarray(dp["series"]["value"]) - decay_squared(problem, t)).max() < 0.1


def test_the_largest_value_over_time_is_scored_against_reference_max(taylor_green):
    """DFG 2D-3 scores C_D and C_L by their maxima over time: ``reference_max`` against the series' maximum
    (F² is largest at t = 0, where it is 1), in the record, the table's cell and the references' line."""
    from pdesolve.report.quantities import reference_note

    quantity = PressureDifference(a=(0.5, 0.5), b=(0.0, 0.0), reference_max=1.25)
    problem = replace(taylor_green, quantities={"dp": quantity})
    record = measure_quantities(problem, ExactSolution(problem))["dp"]
    assert record["max_reference"] == 1.25 and record["max_rel_error"] == pytest.approx(0.2, abs=1e-12)
    assert record["reference"] is None and "rel_error" not in record  # no reference at t₁: none scored there
    assert format_quantity(record).endswith("max 1 at t=0 (rel. error 2.0e-01)")
    assert reference_note(problem) == "Derived quantities (references): max dp = 1.25."
    cylinder = load_problem("cylinder_unsteady")
    assert cylinder.quantities["C_D"].reference_max == 2.950921575
    assert cylinder.quantities["dp"].reference == -0.1116
