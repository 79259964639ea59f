"""``pdesolve compare cavity`` prints and reports the deviation from Ghia et al.'s table per run."""

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
