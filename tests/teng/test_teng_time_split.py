"""The command's record of where a TENG run spends its time: initial fit, steps, error evaluation."""

from __future__ import annotations

import json

import pdesolve.cli

HEAT1D = """
from pdesolve.problem import Interval, Periodic, Problem, d, exp, pi, sin

problem = Problem(
    name="heat1d_exact",
    domain=Interval(0.0, 2 * pi),
    time=(0.0, 0.4),
    rhs=lambda u, x, p: 0.1 * d(u, "x", 2),
    initial=lambda x, p: sin(x.x),
    exact=lambda x, p: exp(-0.1 * x.t) * sin(x.x),
    boundary=Periodic(),
)
"""


def test_time_split_accounts_for_the_wall_time(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "heat1d_exact.py").write_text(HEAT1D)
    tiny = ["n_points=64", "width=8", "depth=1", "dt=0.05", "init_adam_steps=100", "init_iterations=20"]
    argv = ["solve", "heat1d_exact.py", "--solver", "teng", "--out", str(tmp_path / "run")]
    code = pdesolve.cli.main([*argv, *(arg for item in tiny for arg in ("--set", item))])
    out = capsys.readouterr().out
    assert code == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    split, wall = metrics["time_split_s"], metrics["wall_time_s"]
    assert set(split) == {"initial_fit", "steps", "evaluation"}
    assert min(split.values()) > 0
    assert metrics["rel_l2"] < 1e-4
    # the fit and the 8 steps are the solve: together within 10 % of its wall time
    assert abs(split["initial_fit"] + split["steps"] - wall) <= 0.1 * wall
    assert split["initial_fit"] == metrics["stats"]["init_seconds"]
    assert "time split of teng: initial fit" in out
