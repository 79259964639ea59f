"""``pdesolve compare`` beside fno: no model, no fno run by default; a model (or naming fno) brings it in."""

import pytest

import pdesolve.report.compare as compare
from pdesolve.classical.mol import MethodOfLines
from pdesolve.errors import PdesolveError
from pdesolve.io.config import resolve
from pdesolve.operators.solver import FNOSolver
from pdesolve.problem.loading import load_problem


@pytest.fixture
def problem(monkeypatch):
    monkeypatch.setattr(compare, "SOLVERS", {"mol": MethodOfLines, "fno": FNOSolver})
    return load_problem("diffusion_sorption1d")


def jobs(problem, names, *sets):
    config = resolve(None, "cpu", "float64", 0, list(sets))
    chosen, notes = compare.choose_solvers(problem, names, config)
    return [(job.solver.name, job.options) for job in compare.plan(problem, chosen, config)], notes


def test_default_compare_leaves_fno_out_without_a_model(problem):
    assert FNOSolver.not_applicable(problem) is None  # `pdesolve list` still marks it applicable
    planned, notes = jobs(problem, None)
    assert [name for name, _ in planned] == ["mol", "mol"]
    assert notes == ["fno is left out: it runs once given its options (--set fno.KEY=VALUE)"]
    planned, _ = jobs(problem, None, "n=65")  # a key that mol has too does not bring fno in
    assert [name for name, _ in planned] == ["mol"]


def test_a_model_or_naming_fno_runs_it(problem):
    for sets in (["model=m.pt"], ["fno.model=m.pt"]):
        planned, notes = jobs(problem, None, *sets)
        assert ("fno", {"model": "m.pt"}) in planned and not notes
    planned, _ = jobs(problem, ["fno"])
    assert planned == [("fno", {})]
    with pytest.raises(PdesolveError, match="--set model=PATH"):
        FNOSolver().solve(problem)
