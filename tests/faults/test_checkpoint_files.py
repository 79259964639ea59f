"""Checkpoints and model files are data, never code, and resume only the run they were made for."""

from __future__ import annotations

import pytest
import torch
from fault_helpers import FNO, PINN, TENG


class Plant:
    """Unpickling this would call ``open(marker, "w")``: a file appearing means the checkpoint ran code."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize(
    "argv",
    [
        ["{poisson1d}", *PINN, "--set", "resume={evil}"],
        ["{heat}", *TENG, "--set", "resume={evil}"],
        ["darcy2d", "--solver", "fno", "--set", "model={evil}"],
        ["darcy2d", "--solver", "cg", "--set", "precond={evil}"],
    ],
    ids=["pinn", "teng", "fno-model", "learned-preconditioner"],
)
def test_a_crafted_pickle_is_refused_and_never_run(cli, problems, tmp_path, argv):
    evil, marker = tmp_path / "evil.pt", tmp_path / "ran-code"
    torch.save({"header": {"format": 2}, "model": Plant(marker)}, evil)
    torch.load(evil, weights_only=False)  # the file is live: unpickled the unsafe way, it runs
    assert marker.exists()
    marker.unlink()
    argv = [a.format(evil=evil, **problems) for a in argv]
    cli("solve", *argv, "--out", tmp_path / "run").one_line(str(evil), "is refused", "never code")
    assert not marker.exists()
    assert not (tmp_path / "run").exists()  # a refused run leaves no folder


def test_a_burgers1d_pinn_checkpoint_is_refused_for_poisson2d(cli, tmp_path):
    small = ["--set", "n_boundary=8", "--set", "n_initial=8", "--set", "checkpoint_every=1"]
    assert cli("solve", "burgers1d", *PINN, "--set", "adam_steps=2", *small, "--out", tmp_path / "b").code == 0
    checkpoint = tmp_path / "b" / "checkpoint.pt"
    line = cli("solve", "poisson2d", *PINN, "--set", f"resume={checkpoint}", "--out", tmp_path / "p").one_line()
    assert "was made for problem 'burgers1d', not 'poisson2d'" in line


def test_a_checkpoint_of_another_parameter_or_width_is_refused(cli, problems, tmp_path):
    run = ["--set", "checkpoint_every=1", "--out", tmp_path / "nu01"]
    assert cli("solve", problems["heat"], *TENG, *run).code == 0
    resume = ["--set", f"resume={tmp_path / 'nu01' / 'checkpoint.pt'}"]
    cli("solve", problems["heat_nu05"], *TENG, *resume, "--out", tmp_path / "nu05").one_line(
        "another definition or parameters of 'heat1d'"
    )
    cli("solve", problems["heat"], *TENG, "--set", "width=8", *resume, "--out", tmp_path / "w8").one_line(
        "width 6, not 8"
    )
    w4 = ["--set", "adam_steps=2", "--set", "checkpoint_every=1", "--out", tmp_path / "w4"]
    assert cli("solve", problems["poisson1d"], *PINN, *w4).code == 0
    resume = ["--set", f"resume={tmp_path / 'w4' / 'checkpoint.pt'}"]
    line = cli("solve", problems["poisson1d"], *PINN, "--set", "width=6", *resume, "--out", tmp_path / "w6")
    line.one_line("width 4, not 6")


def test_fno_training_folder_truncated_checkpoint_and_other_width(cli, tmp_path):
    data, out = tmp_path / "data", tmp_path / "model"
    assert cli("dataset", "darcy2d", "--samples", "6", "--resolution", "9", "--workers", "1", "--out", data).code == 0
    train = ["train", "fno", "darcy2d", "--data", data, *FNO, "--checkpoint-every", "1", "--out", out]
    assert cli(*train, "--epochs", "2").code == 0
    trained = (out / "model.pt").read_bytes()
    cli(*train, "--epochs", "3").one_line("a trained model.pt", "--resume", "--force")
    assert (out / "model.pt").read_bytes() == trained  # nothing trained is overwritten by accident
    cli(*train, "--epochs", "3", "--resume", "--width", "6").one_line("width 4, not 6")
    checkpoint = out / "checkpoint.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[: checkpoint.stat().st_size // 2])
    cli(*train, "--epochs", "3", "--resume").one_line(str(checkpoint), "cannot be read")
    assert cli(*train, "--epochs", "1", "--force").code == 0
    assert (out / "model.pt").read_bytes() != trained
