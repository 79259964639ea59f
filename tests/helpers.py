"""Definitions shared by the test folders, imported as ``from helpers import ...`` (``tests/`` is on the path
through the root ``conftest.py``; a module name unique across ``tests/``, unlike ``conftest``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import pdesolve.cli
from pdesolve.problem import Dirichlet, Domain, Problem, exp, laplacian
from pdesolve.training.callbacks import Progress

POISSON1D = '''
"""-u'' = pi^2 sin(pi x) on [0, 1], u = 0; exact sin(pi x)."""
from pdesolve.problem import Dirichlet, Interval, Problem, d, pi, sin

problem = Problem(
    name="poisson1d",
    domain=Interval(0.0, 1.0),
    residual=lambda u, x, p: -d(u, "x", 2) - pi**2 * sin(pi * x.x),
    boundary=Dirichlet(0.0),
    exact=lambda x, p: sin(pi * x.x),
    description="1D Poisson with exact solution",
)
'''


def observed_order(sizes, errors) -> float:
    """Least-squares slope of log(error) against log(h)."""
    return float(np.polyfit(np.log(sizes), np.log(errors), 1)[0])


def ctrl_c_at(epoch: int) -> type[Progress]:
    """A progress callback that presses Ctrl-C (raises ``KeyboardInterrupt``) at the end of ``epoch``: patched over
    a training module's ``Progress``, it interrupts a run there."""

    class CtrlC(Progress):
        def on_epoch_end(self, run) -> None:
            if run.epoch == epoch:
                raise KeyboardInterrupt

    return CtrlC


def holed_problem(name: str, domain: Domain, center: tuple[float, ...], radius: float) -> Problem:
    """``-Δu = f`` on ``domain``, a box less the round hole named ``hole`` (``center``, ``radius``), Dirichlet data
    everywhere, exact solution ``u = w eˣ`` with ``w = |x − c|² − R²``: zero on the hole only, so P2 on straight
    chords or flat facets there would lose its third order."""

    def bubble(x):
        return sum((c - m) ** 2 for c, m in zip(x, center)) - radius**2

    def exact(x, p):
        return bubble(x) * exp(x.x)

    # -Δ(w e^x) = -e^x (Δw + 2 ∂x w + w), Δw = 2 dim
    source = lambda x: exp(x.x) * (2 * len(center) + 4 * (x.x - center[0]) + bubble(x))  # noqa: E731
    return Problem(
        name,
        domain,
        residual=lambda u, x, p: -laplacian(u) + source(x),
        boundary=[Dirichlet(0.0, on="hole"), Dirichlet(exact)],
        exact=exact,
    )


PROGRESS_LINE = re.compile(r"^(?!pdesolve: ).*?\s\d+%\|[^|]*\| ")  # tqdm's piped lines (report/progress.py)


@dataclass
class Result:
    """Exit code, stdout and stderr of one ``pdesolve`` command."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        """stderr's lines less the progress lines a run slower than ``PIPED_EVERY_S`` prints on a pipe
        (``NAME:  40%|####  | 2/5 [...]``): what the command says, however busy the machine."""
        return [line for line in self.err.splitlines() if line.strip() and not PROGRESS_LINE.match(line)]

    def one_line(self, *words: str, code: int = 2) -> str:
        """The single ``pdesolve: error:`` line (exit ``code``, no traceback) holding every word."""
        assert self.code == code, (self.code, self.err)
        lines = self.err_lines
        assert len(lines) == 1 and lines[0].startswith("pdesolve: error: ") and "Traceback" not in self.err, self.err
        for word in words:
            assert word in lines[0], (word, lines[0])
        return lines[0]


def run_cli(capsys: pytest.CaptureFixture, *argv: object) -> Result:
    """``pdesolve ARGV`` in this process; its exit code, stdout and stderr (earlier output dropped)."""
    capsys.readouterr()
    code = pdesolve.cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def single_thread() -> Iterator[None]:
    """Torch on one thread for a test folder (small dense LAPACK calls: multithreaded MKL on a loaded 2-core
    runner is 100× slower); a conftest makes it ``pytest.fixture(autouse=True, scope="package")``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
