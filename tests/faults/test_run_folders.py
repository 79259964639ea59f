"""Run folders: claimed by one run, never a user's files overwritten, none left empty by a refused run."""

from __future__ import annotations

import signal

from fault_helpers import PINN, spawn, wait_for


def test_a_second_run_into_a_folder_in_use_is_refused(cli, problems, tmp_path):
    out = tmp_path / "run"
    endless = ["--set", "adam_steps=100000", "--set", "checkpoint_every=10"]
    first = spawn("solve", problems["poisson1d"], *PINN, *endless, "--out", out, cwd=tmp_path)
    try:
        wait_for(out / "checkpoint.pt", first)
        cli("solve", problems["poisson1d"], *PINN, "--out", out).one_line(str(out), "in use by another pdesolve run")
        cli("solve", "poisson2d", "--solver", "fd", "--set", "n=9", "--out", out).one_line("in use")
    finally:
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=120)
    assert first.returncode == 143, err
    assert (
        err.strip().splitlines()[-1]
        == f"pdesolve: error: terminated (SIGTERM); last checkpoint: {out / 'checkpoint.pt'}"
    )
    cli("solve", problems["poisson1d"], *PINN, "--out", out).one_line("already holds an unfinished pdesolve solve run")


def test_a_users_folder_is_never_overwritten(cli, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "solution.npz").write_bytes(b"the user's own results")
    for command in (
        ["solve", "poisson2d", "--solver", "fd", "--set", "n=9"],
        ["compare", "poisson2d", "--solvers", "fd"],
    ):
        cli(*command, "--out", out).one_line("already holds files pdesolve did not write (solution.npz)")
    cli("dataset", "darcy2d", "--samples", "2", "--resolution", "9", "--out", out).one_line("did not write")
    assert [p.name for p in out.iterdir()] == ["solution.npz"]
    assert (out / "solution.npz").read_bytes() == b"the user's own results"


def test_a_refused_or_impossible_run_leaves_no_folder(cli, problems, tmp_path):
    out = tmp_path / "bad"
    cli("solve", problems["poisson1d"], *PINN, "--set", "depth=-1", "--out", out).one_line("depth")
    assert not out.exists()
    cli("solve", "poisson2d", "--solver", "fd", "--set", "n=9", "--out", "/proc/pdesolve-x").one_line(
        "--out /proc/pdesolve-x cannot be created"
    )


def test_a_preconditioner_file_is_replaced_only_with_force(cli, tmp_path):
    model = tmp_path / "darcy2d-mg.pt"
    model.write_bytes(b"a model trained for hours")
    cli("train", "precond", "darcy2d", "--model", "mg", "--steps", "1", "--out", model).one_line(str(model), "--force")
    assert model.read_bytes() == b"a model trained for hours"
