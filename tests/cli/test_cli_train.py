"""``pdesolve train fno|precond|constrained``: each family's own options and no other's, the old one-command
form refused with the new command line, and a tiny preconditioner training end to end (the fno and constrained
runs: tests/operators, tests/faults and tests/constraints)."""

from __future__ import annotations

import re

import pytest

import pdesolve.cli
from pdesolve.learned.checkpoint import load_checkpoint

SHARED = {"--device", "--dtype", "--seed", "--out", "--checkpoint-every", "--resume", "--force"}
DATA = {"--data", "--test-data", "--test-samples", "--epochs", "--batch-size", "--lr", "--weight-decay", "--modes"}
OWN = {
    "fno": {"--schedule", "--physics-weight", "--history", "--no-amp", "--patience"},
    "precond": {"--model", "--nodes", "--samples", "--steps", "--max-seconds"},
    "constrained": {"--constraint", "--experts", "--interfaces", "--overlap", "--blend", "--basis", "--time-levels"},
}
TAKES = {family: SHARED | own | (set() if family == "precond" else DATA) for family, own in OWN.items()}


def help_text(capsys: pytest.CaptureFixture, *argv: str) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        pdesolve.cli.main([*argv, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def test_train_help_lists_the_three_families(capsys):
    text = help_text(capsys, "train")
    assert "usage: pdesolve train [-h] FAMILY ..." in text
    assert all(re.search(rf"^\s+{family}\s", text, re.MULTILINE) for family in OWN), text


@pytest.mark.parametrize("family", list(OWN))
def test_each_family_shows_its_own_options_and_no_others(capsys, family):
    shown = set(re.findall(r"--[a-z][a-z-]*", help_text(capsys, "train", family)))
    others = set().union(DATA, *OWN.values()) - TAKES[family]
    assert TAKES[family] <= shown and not shown & others, (TAKES[family] - shown, shown & others)


@pytest.mark.parametrize(
    ("family", "wrong"),
    [
        ("precond", ["--epochs", "3"]),
        ("precond", ["--data", "d"]),
        ("fno", ["--constraint", "hard"]),
        ("fno", ["--model", "mg"]),
        ("constrained", ["--patience", "2"]),
        ("constrained", ["--nodes", "9"]),
    ],
)
def test_another_familys_option_is_refused(cli, family, wrong):
    need = {
        "precond": ["--model", "mg"],
        "fno": ["--data", "d"],
        "constrained": ["--data", "d", "--constraint", "hard"],
    }
    cli("train", family, "darcy2d", *need[family], *wrong).one_line("unrecognized arguments", wrong[0])


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("darcy2d --model fno --data d --epochs 2", "pdesolve train fno darcy2d --data d --epochs 2"),
        ("darcy2d --data d", "pdesolve train fno darcy2d --data d"),
        ("darcy2d --model precond-mg --steps 1", "pdesolve train precond darcy2d --model mg --steps 1"),
        ("darcy2d --model=precond-gnn", "pdesolve train precond darcy2d --model gnn"),
        (
            "heat --model fno --data d --constraint moe --experts 2",
            "pdesolve train constrained heat --data d --constraint moe --experts 2",
        ),
    ],
)
def test_the_old_form_names_the_new_command_line(cli, old, new):
    cli("train", *old.split()).one_line(f"`{new}`", "takes the family first")


def test_a_tiny_preconditioner_training_and_its_resume(cli, tmp_path):
    train = ["train", "precond", "darcy2d", "--model", "mg", "--nodes", "9", "--samples", "1", "--out", tmp_path]
    result = cli(*train, "--steps", "2")
    assert result.code == 0, result.err
    model = tmp_path / "darcy2d-mg.pt"
    assert "trained precond-mg for darcy2d at n=9" in result.out and str(model) in result.out
    card = load_checkpoint(model).card
    assert card["steps"] == 2 and card["command"].startswith("pdesolve train precond darcy2d --model mg --nodes 9")
    assert (tmp_path / "darcy2d-mg.checkpoint.pt").is_file()
    cli(*train, "--steps", "3").one_line(str(model), "--force", "--resume")
    assert cli(*train, "--steps", "3", "--resume").code == 0
    assert load_checkpoint(model).card["steps"] == 3
