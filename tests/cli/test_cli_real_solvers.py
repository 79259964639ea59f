"""The command with the project's own classical solvers on the catalogue's poisson2d."""

from __future__ import annotations

import json


def test_fd_converges_at_second_order_through_the_command(cli, installed_solvers, tmp_path):
    errors = []
    for n in (17, 33):
        result = cli("solve", "poisson2d", "--solver", "fd", "--set", f"n={n}", "--out", tmp_path / f"fd{n}")
        assert result.code == 0, result.err
        metrics = json.loads((tmp_path / f"fd{n}" / "metrics.json").read_text())
        assert metrics["solver"] == "fd" and metrics["config"]["n"] == n
        errors.append(metrics["rel_l2"])
    assert 3.5 < errors[0] / errors[1] < 4.5
    assert errors[1] < 2e-3


def test_compare_with_the_classical_alias(cli, installed_solvers, tmp_path):
    out = tmp_path / "cmp"
    result = cli("compare", "poisson2d", "--solvers", "classical,fem", "--set", "n=9", "--out", out)
    assert result.code == 0, result.err
    runs = json.loads((out / "metrics.json").read_text())["runs"]
    # fd's two variants collapse into one when --set fixes n; fem keeps its refined variant
    assert [(r["alias"], r["solver"], r["options"]) for r in runs] == [
        ("classical", "fd", {"n": 9}),
        (None, "fem", {"n": 9}),
        (None, "fem", {"refine": 1, "n": 9}),
    ]
    assert all(r["rel_l2"] < 0.05 for r in runs)
    assert runs[2]["rel_l2"] < runs[1]["rel_l2"]
    assert "classical (fd)" in result.out
