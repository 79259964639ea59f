"""The preconditioner registry: one entry serves the torch CG and the host CG of fd/fem; unknown names and
kinds without a host form are refused in one line; the linear-algebra layer imports no family."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pdesolve.linalg
from pdesolve.classical.linear_solvers import solve_linear
from pdesolve.errors import PdesolveError
from pdesolve.linalg import registry
from pdesolve.linalg.cg import cg
from pdesolve.linalg.preconditioners import make_preconditioner
from pdesolve.linalg.system import SparseOperator
from tests.linalg.conftest import laplacian


@pytest.fixture
def scaled_jacobi(monkeypatch):
    """A new entry: Jacobi on twice the diagonal (CG is invariant to the scale of its preconditioner)."""
    entry = registry.Entry(
        "jacobi2",
        "diagonal scaling by 2 diag(A) (test)",
        device=registry.REGISTRY["jacobi"].device,
        host=lambda matrix: lambda r, inverse=0.5 / matrix.diagonal(): inverse * r,
    )
    monkeypatch.setitem(registry.REGISTRY, "jacobi2", entry)
    return entry


def test_a_registered_entry_serves_both_conjugate_gradients(scaled_jacobi):
    import torch

    matrix = laplacian(17)
    rhs = np.ones(matrix.shape[0])
    host = solve_linear(matrix, rhs, "cg", "jacobi2", tol=1e-12)
    reference = solve_linear(matrix, rhs, "cg", "jacobi", tol=1e-12)
    assert host.iterations == reference.iterations and host.residual <= 1e-12
    assert np.abs(host.x - reference.x).max() <= 1e-10 * np.abs(reference.x).max()
    operator = SparseOperator(matrix)
    b = torch.ones(matrix.shape[0], dtype=torch.float64)
    device = cg(operator, b, make_preconditioner("jacobi2", operator, matrix), tol=1e-12)
    assert device.converged and abs(device.iterations - reference.iterations) <= 1
    assert "jacobi2: diagonal scaling by 2 diag(A)" in registry.help_text()
    assert "jacobi2" in registry.names("host")


def test_unknown_names_and_kinds_without_a_host_form_are_refused():
    with pytest.raises(PdesolveError, match=r"precond='mgg': choose one of none, jacobi, mg, amg, ic0 or a file"):
        registry.resolve("mgg")
    with pytest.raises(PdesolveError, match=r"precond='mg': choose one of none, jacobi, amg, ic0$"):
        solve_linear(laplacian(9), np.ones(49), "cg", "mg")


def test_the_linear_algebra_layer_imports_no_family():
    """Every module of pdesolve.linalg imports without classical, learned or the solver table: the layers go
    classical → linalg (and learned → linalg, which finds learned's files through a lazy loader), never back."""
    modules = sorted(path.stem for path in Path(pdesolve.linalg.__path__[0]).glob("*.py") if path.stem != "__init__")
    assert {"cg", "system", "registry", "assembled", "preconditioners"} <= set(modules)
    code = (
        f"import importlib, sys; [importlib.import_module('pdesolve.linalg.' + m) for m in {modules!r}]; "
        "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('pdesolve.')}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert not {"classical", "learned", "solvers", "cli"} & set(ast.literal_eval(loaded)), loaded
