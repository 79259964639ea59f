"""The scripts and the notebook under examples/ run and do what they say (tiny budgets)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_solve_my_pde_through_the_python_api():
    assert load("solve_my_pde").main("fd") < 1e-3


@pytest.mark.parametrize("experts, mixture", [((1, 1), {}), ((2, 1), {"overlap": 0.25, "blend": True})])
def test_hard_constraint_layer_trains_its_backbone(experts, mixture):
    before, after = load("hard_constraint_layer").main(30, experts, **mixture)
    assert after < 0.6 * before and after < 0.3  # measured: 0.78 -> 0.10 (one expert), 0.36 -> 0.12 (two)


def test_the_quickstart_notebook_runs_and_shows_its_results():
    """Executed by a Jupyter kernel as a user would run it: every cell runs, the table renders as HTML."""
    import nbclient
    import nbformat

    notebook = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    outputs = {index: cell.outputs for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"}
    assert not [o for cell in outputs.values() for o in cell if o.output_type == "error"]
    results = [o for cell in outputs.values() for o in cell if o.output_type == "execute_result"]
    error, _seconds = eval(results[1].data["text/plain"])  # (rel_l2, wall time) of fd at n = 65
    assert 1e-4 < error < 5e-4  # second order: 2.4e-4
    assert any("image/png" in o.get("data", {}) for o in results)  # result.plot() drew a figure
    table = next(o.data["text/html"] for o in results if "text/html" in o.get("data", {}))
    assert "<caption>poisson2d: Errors are measured against the exact solution" in table
    assert table.count("<tr>") == 5  # header and fd, fd, fem, fem
    assert float(results[-1].data["text/plain"]) < 5e-4  # my_pde.py with P1 on a refined mesh: 1.5e-4
