"""The command run in-process for the fault tests, tiny problem files, and a tiny operator data set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import pdesolve.cli

PREFIX = "pdesolve: error: "

TINY_DARCY = """
from pdesolve.problem import *
field = GaussianRandomField((0.0, 0.0), (1.0, 1.0), 16, alpha=2.5, tau=3.0, sigma=10.0, boundary='neumann')
problem = Problem(name='tiny_darcy', domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
    residual=lambda u, x, p: -div(exp(p.a(x)) * grad(u)) - 1.0, boundary=Dirichlet(0.0),
    family=Family(a=field))
"""


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def run(capsys: pytest.CaptureFixture, *argv: object) -> Outcome:
    """``pdesolve ARGV`` in this process; its exit code, stdout and stderr."""
    capsys.readouterr()
    code = pdesolve.cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def one_line(outcome: Outcome, *words: str) -> str:
    """Assert exit 2 with exactly one ``pdesolve: error:`` line holding ``words``; returns the line."""
    assert outcome.code == 2, (outcome.code, outcome.err)
    assert len(outcome.err_lines) == 1 and "Traceback" not in outcome.err, outcome.err
    line = outcome.err_lines[0]
    assert line.startswith(PREFIX), line
    for word in words:
        assert word in line, (word, line)
    return line


def problem_file(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(text)
    return path
