"""``pdesolve compare cavity`` prints and reports the deviation from Ghia et al.'s table per run,
``pdesolve compare cylinder`` the drag and lift coefficients and the pressure difference with their errors."""

from __future__ import annotations

import json


def test_compare_cavity_reports_the_deviation_from_ghia(cli, installed_solvers, tmp_path):
    result = cli("compare", "cavity", "--solvers", "fem", "--set", "n=9", "--out", tmp_path / "out")
    assert result.code == 0, result.err
    assert "derived quantities:" in result.out and "u_centreline" in result.out and "max dev" in result.out
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    coarse, fine = metrics["runs"]
    for run in (coarse, fine):
        profiles = run["quantities"]
        assert set(profiles) == {"u_centreline", "v_centreline"} and profiles["v_centreline"]["points"] == 17
    assert 5e-3 < fine["quantities"]["v_centreline"]["max_abs_deviation"] < 2e-2
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Derived quantities" in report and "v_centreline: against its table" in report


def test_compare_cylinder_prints_drag_lift_and_pressure_difference(cli, installed_solvers, tmp_path):
    result = cli("compare", "cylinder", "--solvers", "fem", "--set", "n=16", "--out", tmp_path / "out")
    assert result.code == 0, result.err
    assert all(label in result.out for label in ("C_D", "C_L", "dp", "rel. error"))
    fine = json.loads((tmp_path / "out" / "metrics.json").read_text())["runs"][1]
    drag = fine["quantities"]["C_D"]
    assert drag["reference"] == 5.57953523384 and drag["rel_error"] < 1e-2, drag
    assert drag["method"].startswith("volume integral")
    report = (tmp_path / "out" / "report.md").read_text()
    assert "C_D = 5.57953523384" in report and "C_L" in report
