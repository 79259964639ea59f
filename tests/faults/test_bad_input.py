"""Bad options, data sets and problem files: one line ``pdesolve: error: ...`` (exit 2) naming the real cause."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from fault_helpers import TINY_DARCY, one_line, problem_file, run

import pdesolve.classical.fd
from pdesolve.errors import NotApplicableError, PdesolveError
from pdesolve.learned.cli import validation_summary
from pdesolve.linalg.system import spd_form
from pdesolve.operators.model_file import load_model
from pdesolve.problem import load_problem

POISSON = """
from pdesolve.problem import Dirichlet, Periodic, Rectangle, Interval, Problem, div, grad, laplacian, sin
problem = Problem(name="{name}", domain={domain}, residual=lambda u, x, p: {residual},
    boundary={boundary}, params={params})
"""


def _problem(folder, name, residual="-laplacian(u) - 1.0", boundary="Dirichlet(0.0)", params="{}", domain=None):
    domain = domain or "Rectangle((0.0, 0.0), (1.0, 1.0))"
    text = POISSON.format(name=name, domain=domain, residual=residual, boundary=boundary, params=params)
    return problem_file(folder, name, text)


@pytest.mark.parametrize(
    ("solver", "setting", "words"),
    [
        ("fd", "n=-5", "--set n=-5: fd's n must be 0 or more"),
        ("fd", "n=1", "fd needs n >= 3"),
        ("fd", "tol=nan", "--set tol=nan: expected a finite number"),
        ("fd", "tol=0", "fd's tol must be above 0"),
        ("fem", "order=3", "order 1 or 2"),
        ("cg", "tol=-1e-8", "cg's tol must be above 0"),
        ("teng", "memory_gb=-1", "teng's memory_gb must be above 0"),
        ("pinn", "lr=0", "pinn's lr must be above 0"),
        ("pinn", "width=inf", "expected an integer"),
    ],
)
def test_option_ranges_are_checked_before_anything_runs(capsys, tmp_path, solver, setting, words):
    problem = "heat2d" if solver == "teng" else "poisson2d"
    one_line(run(capsys, "solve", problem, "--solver", solver, "--set", setting, "--out", tmp_path / "run"), words)


def test_a_bad_value_in_the_config_file_is_reported_against_the_file(capsys, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text("[solvers.fd]\ntol = 'tight'\n")
    one_line(
        run(capsys, "solve", "poisson2d", "--solver", "fd", "--config", config, "--out", tmp_path / "r"),
        "run.toml: [solvers.fd] tol = tight: expected a number",
    )


def test_options_for_a_solver_that_does_not_run_are_refused(capsys, tmp_path):
    argv = ["compare", "poisson2d", "--solvers", "fd", "--set", "pinn.width=3", "--out", tmp_path / "c"]
    one_line(run(capsys, *argv), "--set pinn.width: solver 'pinn' is not run here (running: fd)")


def test_problem_files_that_contradict_themselves_are_refused_at_construction(capsys, tmp_path):
    files = {
        "uses_z": (_problem(tmp_path, "uses_z", residual="-laplacian(u) - sin(x.z)"), "residual(...) uses x.z"),
        "value_z": (_problem(tmp_path, "value_z", boundary="Dirichlet(lambda x, p: x.z)"), "Dirichlet's value"),
        "periodic_dirichlet": (
            _problem(tmp_path, "periodic_dirichlet", boundary="[Periodic(), Dirichlet(0.0)]", domain="Interval(0, 1)"),
            "contradictory boundary conditions: Periodic covers every axis",
        ),
        "overlap": (
            _problem(tmp_path, "overlap", boundary="[Dirichlet(0.0), Dirichlet(1.0)]"),
            "overlapping boundary conditions",
        ),
    }
    for name, (path, words) in files.items():
        one_line(run(capsys, "solve", path, "--solver", "fd", "--out", tmp_path / name), str(path), words)


def test_a_nan_coefficient_is_named_not_taken_for_a_singular_matrix(capsys, tmp_path):
    path = _problem(tmp_path, "nan_a", residual="-div(p.a * grad(u)) - 1.0", params="{'a': float('nan')}")
    for solver in ("fd", "cg", "fem"):
        line = one_line(run(capsys, "solve", path, "--solver", solver, "--set", "n=9", "--out", tmp_path / solver))
        assert "NaN or infinite" in line and "singular" not in line, line


def test_cg_names_only_remedies_that_exist():
    matrix = np.array([[2.0, -1.0], [0.0, 2.0]])
    with pytest.raises(NotApplicableError, match="symmetric matrix.*solve it with fd or fem"):
        spd_form(matrix, np.ones(2))


def test_warnings_and_errors_stay_on_one_line_without_colour_codes(capsys, tmp_path, monkeypatch):
    def noisy(*args, **kwargs):
        warnings.warn("\x1b[33mfirst line\n  second line\x1b[0m", UserWarning, stacklevel=1)
        raise PdesolveError("\x1b[31mbroken\x1b[0m\nthing")

    monkeypatch.setattr(pdesolve.classical.fd, "assemble", noisy)
    result = run(capsys, "solve", "poisson2d", "--solver", "fd", "--out", tmp_path / "r")
    assert result.code == 2 and result.err_lines == [
        "pdesolve: warning: first line second line",
        "pdesolve: error: broken thing",
    ], result.err


@pytest.fixture
def tiny_data(capsys, tmp_path):
    """A tiny operator data set (8 pairs at 16², 4 per shard) of a Darcy-like family."""
    path = problem_file(tmp_path, "tiny_darcy", TINY_DARCY)
    data = tmp_path / "data"
    argv = ["dataset", path, "--samples", "8", "--resolution", "16", "--shard-size", "4", "--out", data]
    assert run(capsys, *argv).code == 0
    return path, data


def test_damaged_data_sets_are_one_line_errors(capsys, tmp_path, tiny_data):
    path, data = tiny_data
    train = ["train", "fno", path, "--data", data, "--test-samples", "2", "--epochs", "1", "--out", tmp_path / "model"]
    train += ["--modes", "2", "--width", "4", "--layers", "1"]
    shard, metadata = data / "shard_00001.npz", data / "dataset.json"
    good_shard, good_metadata = shard.read_bytes(), metadata.read_text()
    shard.write_bytes(good_shard[: len(good_shard) // 2])  # truncated
    one_line(run(capsys, *train), "shard_00001.npz is damaged or truncated", "rerun `pdesolve dataset`")
    shard.write_bytes(b"garbage")
    one_line(run(capsys, *train), "shard_00001.npz is damaged or truncated")
    with np.load(data / "shard_00000.npz") as arrays:
        poisoned = {name: arrays[name] for name in arrays.files}
    poisoned["outputs"][0, 0, 3, 3] = np.nan
    shard.write_bytes(b"")
    with open(shard, "wb") as handle:
        np.savez(handle, **poisoned)
    one_line(run(capsys, *train), "the training data (outputs) hold NaN", "shard_00001.npz")
    shard.write_bytes(good_shard)
    metadata.write_text(good_metadata[:40])
    one_line(run(capsys, *train), "dataset.json is damaged", "JSONDecodeError")
    metadata.write_text(json.dumps({**json.loads(good_metadata), "samples": "many", "colour": 1}))
    one_line(run(capsys, *train), "dataset.json is damaged")
    metadata.write_text(good_metadata)
    assert run(capsys, *train).code == 0


def test_show_reads_a_finished_train_folder(capsys, tmp_path, tiny_data):
    path, data = tiny_data
    out = tmp_path / "model"
    train = ["train", "fno", path, "--data", data, "--test-samples", "2", "--epochs", "2", "--out", out]
    assert run(capsys, *train, "--modes", "2", "--width", "4", "--layers", "1").code == 0
    shown = run(capsys, "show", out)
    assert shown.code == 0, shown.err
    card = load_model(out / "model.pt")[1]
    assert f"test relative L2: {card['test_error']}" in shown.out and "problem tiny_darcy" in shown.out


def test_training_a_preconditioner_without_a_family_says_so():
    validation = {"dcdm (trained)": {"train": 7.0, "unseen": 7.0}, "jacobi": {"train": 30.0, "unseen": 30.0}}
    single = validation_summary(load_problem("poisson2d"), "dcdm", validation)
    assert single.startswith("7.0 CG iterations on the problem itself (Jacobi 30.0)")
    assert "'poisson2d' has no parametric family" in single
    family = validation_summary(load_problem("darcy2d"), "dcdm", validation)
    assert family == "7.0 CG iterations on unseen members (Jacobi 30.0)"


def test_solve_measures_a_network_against_compares_classical_reference(capsys, tmp_path):
    argv = [
        "solve",
        "heat2d",
        "--solver",
        "pinn",
        "--set",
        "preset=manual",
        "--set",
        "adam_steps=2",
        "--set",
        "lbfgs_steps=0",
    ]
    argv += ["--set", "n_interior=32", "--set", "width=4", "--set", "depth=1", "--out", tmp_path / "r"]
    result = run(capsys, *argv)
    assert result.code == 0, result.err
    assert "errors are measured against the finest classical run: classical (spectral) [n=64]" in result.out
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["rel_l2"] > 0.1  # two Adam steps: far from the solution, and measured


def test_a_mesh_file_meshio_cannot_parse_is_one_line(capsys, tmp_path):
    """meshio calls sys.exit on a file it cannot parse: the command still ends with its one-line error."""
    (tmp_path / "bad.msh").write_text("not a mesh\n")
    text = (
        "from pdesolve.problem import Dirichlet, Mesh, Problem, laplacian\n"
        f"problem = Problem(name='bad_mesh', domain=Mesh({str(tmp_path / 'bad.msh')!r}),\n"
        "    residual=lambda u, x, p: -laplacian(u) - 1.0, boundary=Dirichlet(0.0))\n"
    )
    path = problem_file(tmp_path, "bad_mesh", text)
    one_line(run(capsys, "solve", path, "--solver", "fem", "--out", tmp_path / "r"), "cannot read mesh", "bad.msh")
    assert not (tmp_path / "r").exists()
