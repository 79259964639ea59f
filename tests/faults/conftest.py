"""Fixtures of the fault tests: the command run in this process, tiny problem files."""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_helpers import HEAT1D, run
from helpers import POISSON1D


@pytest.fixture
def cli(capsys):
    """``cli(*argv)`` runs the command in this process."""
    return lambda *argv: run(capsys, *argv)


@pytest.fixture
def problems(tmp_path) -> dict[str, Path]:
    files = {
        "poisson1d": POISSON1D,
        "heat": HEAT1D.format(t1=0.05, nu=0.1),
        "heat_nu05": HEAT1D.format(t1=0.05, nu=0.5),
    }
    for name, text in files.items():
        (tmp_path / f"{name}.py").write_text(text)
    return {name: tmp_path / f"{name}.py" for name in files}
