"""``pdesolve solve``: the run folder, its metrics.json and files, config precedence; ``show``."""

from __future__ import annotations

import json

import meshio
import numpy as np
from meshio.xdmf import TimeSeriesReader


def test_solve_writes_a_complete_run_folder(cli, registry, problems, tmp_path):
    out = tmp_path / "run"
    result = cli("solve", problems["poisson1d"], "--solver", "gridfd", "--set", "n=65", "--seed", "7", "--out", out)
    assert result.code == 0, result.err
    assert {p.name for p in out.iterdir()} == {
        ".pdesolve-run",  # the claim: this folder is a pdesolve run's
        "metrics.json",
        "solution.npz",
        "solution.vtu",
        "solution.png",
        "error.png",
    }

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["problem"]["name"] == "poisson1d"
    assert metrics["solver"] == "gridfd" and metrics["alias"] is None
    assert metrics["options"] == {"n": 65}  # coerced to int
    assert metrics["config"] == {"n": 65, "tol": 1e-12}
    # second-order FD at h = 1/64: error ≈ π²h²/12 ≈ 2e-4 relative, certainly between 1e-5 and 1e-3
    assert 1e-5 < metrics["rel_l2"] < 1e-3
    assert metrics["max_abs"] >= metrics["rel_l2"] * 0.5
    assert metrics["reference"] == "exact solution" and metrics["error_points"] == 201
    assert metrics["wall_time_s"] > 0 and metrics["iterations"] == 1
    assert metrics["peak_memory_bytes"] == metrics["peak_rss_increase_bytes"]  # on the CPU: the RSS increase
    assert metrics["peak_cuda_allocated_bytes"] is None and metrics["memory_measure"] == "cpu peak rss increase"
    assert metrics["device"] == "cpu" and metrics["dtype"] == "float64" and metrics["seed"] == 7
    assert set(metrics["versions"]) == {"python", "pdesolve", "torch", "numpy", "scipy"}
    assert metrics["resolved_config"]["solver"] == {"n": "65"}
    assert metrics["command"].startswith("pdesolve solve ")

    # the error in metrics.json is the one of the saved solution against sin(pi x)
    saved = np.load(out / "solution.npz")
    u, x = saved["u"], saved["axis_x"]
    points = np.linspace(0, 1, 201)
    exact = np.sin(np.pi * points)
    rel_l2 = np.linalg.norm(np.interp(points, x, u) - exact) / np.linalg.norm(exact)
    assert np.isclose(rel_l2, metrics["rel_l2"], rtol=1e-9)
    mesh = meshio.read(out / "solution.vtu")
    assert np.allclose(mesh.points[:, 0], x) and np.allclose(mesh.point_data["u"], u)

    assert "gridfd" in result.out and f"{metrics['rel_l2']:.3e}" in result.out
    assert "exact solution" in result.out and str(out) in result.out


def test_peak_memory_in_metrics_sees_what_the_solver_holds(cli, registry, problems, tmp_path):
    """A stand-in that holds 64 MiB while it solves: metrics.json reports at least that, and not far more."""
    held = 64 * 2**20

    def solve(self, problem):
        block = np.ones(held // 8)  # written, so resident
        solution = registry["gridfd"].solve(self, problem)
        solution.stats["held"] = float(block.sum())
        return solution

    registry["hungry"] = type("Hungry", (registry["gridfd"],), {"name": "hungry", "solve": solve})
    result = cli("solve", problems["poisson1d"], "--solver", "hungry", "--out", tmp_path / "run")
    assert result.code == 0, result.err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert held <= metrics["peak_memory_bytes"] < held + 64 * 2**20


def test_evolution_run_writes_an_xdmf_time_series(cli, registry, problems, tmp_path):
    out = tmp_path / "heat"
    result = cli("solve", problems["heat1d"], "--solver", "euler", "--out", out)
    assert result.code == 0, result.err
    assert (out / "solution.xdmf").is_file() and (out / "solution.h5").is_file()
    metrics = json.loads((out / "metrics.json").read_text())
    assert 1e-5 < metrics["rel_l2"] < 1e-2  # explicit Euler, h = 0.05
    assert metrics["files"]["solution.xdmf"] == "ok"
    with TimeSeriesReader(out / "solution.xdmf") as reader:
        points, _ = reader.read_points_cells()
        times = [reader.read_data(k)[0] for k in range(reader.num_steps)]
        _, final, _ = reader.read_data(reader.num_steps - 1)
    assert np.isclose(times[0], 0.0) and np.isclose(times[-1], 0.05)
    exact = np.exp(-(np.pi**2) * 0.05) * np.sin(np.pi * points[:, 0])
    assert np.max(np.abs(final["u"] - exact)) < 1e-2


def test_no_reference_means_no_errors(cli, registry, problems, tmp_path):
    result = cli("solve", problems["noref1d"], "--solver", "gridfd", "--out", tmp_path / "r")
    assert result.code == 0, result.err
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["rel_l2"] is None and metrics["reference"] is None
    assert not (tmp_path / "r" / "error.png").exists()
    assert "No reference" in result.out


def test_config_file_and_command_line_precedence(cli, registry, problems, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('seed = 3\ndtype = "float32"\n[solver]\nn = 9\n[solvers.gridfd]\ntol = 1e-6\n')
    out = tmp_path / "c"
    result = cli(
        "solve", problems["poisson1d"], "--solver", "gridfd", "--config", config, "--dtype", "float64", "--out", out
    )
    assert result.code == 0, result.err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["seed"] == 3 and metrics["dtype"] == "float64"
    assert metrics["config"] == {"n": 9, "tol": 1e-6}
    assert metrics["resolved_config"]["config_file"] == str(config)


def test_alias_resolves_to_the_first_applicable_classical_solver(cli, registry, problems, tmp_path):
    out = tmp_path / "a"
    result = cli("solve", problems["poisson1d"], "--solver", "classical", "--set", "n=17", "--out", out)
    assert result.code == 0, result.err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["solver"] == "fd" and metrics["alias"] == "classical" and metrics["options"] == {"n": 17}
    assert "classical (fd)" in result.out


def test_default_folder_and_show(cli, registry, problems, tmp_path):
    assert cli("solve", problems["poisson1d"], "--solver", "gridfd").code == 0
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("poisson1d-gridfd-")
    shown = cli("show", folder)
    assert shown.code == 0
    rel_l2 = json.loads((folder / "metrics.json").read_text())["rel_l2"]
    assert f"{rel_l2:.3e}" in shown.out and "reference: exact solution" in shown.out
