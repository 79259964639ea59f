"""``pdesolve compare``: solver selection, reference choice, report, metrics and failures."""

from __future__ import annotations

import json

import matplotlib.image
import numpy as np


def test_compare_default_runs_every_applicable_solver_once(cli, registry, problems, tmp_path):
    out = tmp_path / "cmp"
    result = cli("compare", problems["poisson1d"], "--out", out)
    assert result.code == 0  # "diverging" and "raising" fail as runs do (reported in the table), not as bugs
    metrics = json.loads((out / "metrics.json").read_text())
    runs = {(r["solver"], json.dumps(r["options"])): r for r in metrics["runs"]}
    # gridfd and its copy named fd run both their variants; euler does not apply; the alias would repeat fd
    assert set(runs) == {
        ("gridfd", '{"n": 17}'),
        ("gridfd", '{"n": 33}'),
        ("fd", '{"n": 17}'),
        ("fd", '{"n": 33}'),
        ("diverging", "{}"),
        ("raising", "{}"),
    }
    assert all(r["alias"] is None for r in metrics["runs"])
    assert result.err.strip().splitlines() == [
        "note: classical stands for fd here, which runs already"
    ]  # no progress bar
    # second order: halving h divides the error by four
    ratio = runs[("gridfd", '{"n": 17}')]["rel_l2"] / runs[("gridfd", '{"n": 33}')]["rel_l2"]
    assert 3.6 < ratio < 4.4
    assert "diverged" in runs[("diverging", "{}")]["failed"]
    assert runs[("raising", "{}")]["failed"] == "went to NaN"
    assert "failed: diverging (defaults): solver 'diverging' diverged" in result.out
    assert metrics["reference"] == "exact solution"


def test_compare_report_files_and_table(cli, registry, problems, tmp_path):
    out = tmp_path / "cmp"
    result = cli(
        "compare", problems["poisson1d"], "--solvers", "classical,gridfd", "--set", "gridfd.tol=1e-9", "--out", out
    )
    assert result.code == 0, result.err
    metrics = json.loads((out / "metrics.json").read_text())
    labels = [(r["alias"], r["solver"], r["options"]) for r in metrics["runs"]]
    assert labels == [
        ("classical", "fd", {"n": 17}),
        ("classical", "fd", {"n": 33}),
        (None, "gridfd", {"n": 17, "tol": 1e-9}),
        (None, "gridfd", {"n": 33, "tol": 1e-9}),
    ]
    for name, height, width in (("best_solution.png", 400, 500), ("error_vs_time.png", 400, 700)):
        image = matplotlib.image.imread(out / name)  # a valid PNG of a figure's size, with something drawn
        assert image.shape[0] >= height and image.shape[1] >= width, (name, image.shape)
        assert (image[..., :3] < 0.5).mean() > 0.005 and image[..., :3].std() > 0.05, name
    for run in metrics["runs"]:
        folder = out / run["folder"]
        assert {"metrics.json", "solution.npz", "solution.vtu", "solution.png", "error.png"} <= {
            p.name for p in folder.iterdir()
        }
        assert json.loads((folder / "metrics.json").read_text())["rel_l2"] == run["rel_l2"]
    report = (out / "report.md").read_text()
    assert "exact solution" in report and "| classical (fd) | n=17 |" in report
    above_table = report.split("| solver |")[0].split("\n\n")[-2]
    assert above_table == "Errors are measured against the exact solution at 201 points."
    for run in metrics["runs"]:  # every run named with its options and its error
        label = "classical (fd)" if run["alias"] else run["solver"]
        options = ", ".join(f"{k}={v}" for k, v in run["options"].items())
        assert f"| {label} | {options} | {run['rel_l2']:.3e} | {run['max_abs']:.3e} |" in report
    assert "![error map](01-fd-n=17/error.png)" in report
    assert result.out.splitlines()[0] == "poisson1d: Errors are measured against the exact solution at 201 points."
    header = result.out.splitlines()[1].split()
    assert header[:4] == ["solver", "options", "rel", "L2"] and "iterations" in header
    assert f"{metrics['runs'][3]['rel_l2']:.3e}" in result.out

    shown = cli("show", out)
    assert shown.code == 0
    assert all(f"{r['rel_l2']:.3e}" in shown.out for r in metrics["runs"])
    assert "reference: exact solution" in shown.out and "classical (fd)" in shown.out


def test_compare_without_reference_uses_the_finest_classical_run(cli, registry, problems, tmp_path):
    out = tmp_path / "noref"
    result = cli("compare", problems["noref1d"], "--solvers", "gridfd", "--out", out)
    assert result.code == 0, result.err
    metrics = json.loads((out / "metrics.json").read_text())
    coarse, fine = metrics["runs"]
    assert fine["is_reference"] and fine["rel_l2"] is None and not coarse["is_reference"]
    assert metrics["reference"] == "finest classical run: gridfd [n=33] (33 dofs)"
    # the n=17 solution measured against the (linearly interpolated) n=33 one
    x = np.linspace(0, 1, 201)
    u17, u33 = (np.load(out / r["folder"] / "solution.npz") for r in (coarse, fine))
    reference = np.interp(x, u33["axis_x"], u33["u"])
    expected = np.linalg.norm(np.interp(x, u17["axis_x"], u17["u"]) - reference) / np.linalg.norm(reference)
    assert np.isclose(coarse["rel_l2"], expected, rtol=1e-9)
    assert "finest classical run" in (out / "report.md").read_text()
    lines = result.out.splitlines()
    assert (
        lines[0] == "noref1d: No exact solution or data file: errors are measured against the finest classical run: "
        "gridfd [n=33] (33 dofs) at 201 points."
    )
    assert lines[4].split()[:4] == ["gridfd", "n=33", "reference", "reference"]


def test_compare_with_no_classical_run_has_no_reference(cli, registry, problems, tmp_path):
    out = tmp_path / "none"
    registry["net"] = type("Net", (registry["gridfd"],), {"name": "net", "family": "pinn"})
    result = cli("compare", problems["noref1d"], "--solvers", "net", "--out", out)
    assert result.code == 0, result.err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["reference"] is None and all(r["rel_l2"] is None for r in metrics["runs"])
    assert "No reference" in (out / "report.md").read_text()


def test_progress_bar_only_on_a_terminal(cli, registry, problems, tmp_path, monkeypatch):
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    result = cli("compare", problems["poisson1d"], "--solvers", "gridfd", "--out", tmp_path / "tty")
    assert result.code == 0 and "compare poisson1d" in result.err and "2/2" in result.err
