"""What ``pip install .`` carries: every package folder, the catalogue with its data and the shipped
preconditioners, and a declared distribution for every third-party import (.ci/run installs it for real);
and how the package's modules import each other: without a cycle at module level."""

from __future__ import annotations

import ast
import fnmatch
import graphlib
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

from pdesolve.learned.checkpoint import find_checkpoint
from pdesolve.problem import load_problem
from pdesolve.problem.loading import catalogue_names
from pdesolve.problem.reference import find_data_file
from pdesolve.shipped import PACKAGE, shipped

ROOT = PACKAGE.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
OPTIONAL = {"triton": "cuda"}  # imported inside try/except ImportError, installed by the extra


def test_every_package_folder_is_listed_and_the_shipped_folders_are_mapped():
    folders = {p.parent for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    expected = {".".join(folder.relative_to(ROOT).parts) for folder in folders}
    mapped = SETUPTOOLS["package-dir"]
    assert set(SETUPTOOLS["packages"]) == expected | set(mapped)
    assert mapped == {"pdesolve.problems": "problems", "pdesolve.preconditioners": "preconditioners"}


def test_package_data_covers_every_shipped_file():
    for package, folder in SETUPTOOLS["package-dir"].items():
        patterns = SETUPTOOLS["package-data"][package]
        files = [p.relative_to(ROOT / folder).as_posix() for p in (ROOT / folder).rglob("*") if p.is_file()]
        files = [f for f in files if "__pycache__" not in f]
        assert files and all(any(fnmatch.fnmatch(f, pattern) for pattern in patterns) for f in files), package


def test_catalogue_references_ship_with_the_package(monkeypatch, tmp_path):
    monkeypatch.delenv("PDESOLVE_DATA", raising=False)
    monkeypatch.delenv("PDESOLVE_PROBLEMS", raising=False)
    monkeypatch.chdir(tmp_path)
    with_data = [load_problem(name).reference for name in catalogue_names()]
    files = {reference.file for reference in with_data if reference is not None}
    assert {"burgers_raissi.npz", "poisson_lshape_fem.npz"} <= files
    for name in files:
        assert find_data_file(name).parent == shipped("problems") / "data"


def test_data_and_catalogue_overrides(monkeypatch, tmp_path):
    own = tmp_path / "mine"
    own.mkdir()
    (own / "burgers_raissi.npz").write_bytes(b"")
    monkeypatch.setenv("PDESOLVE_DATA", str(own))
    assert find_data_file("burgers_raissi.npz") == own / "burgers_raissi.npz"
    monkeypatch.setenv("PDESOLVE_PROBLEMS", str(tmp_path))
    (tmp_path / "only.py").write_text("")
    assert catalogue_names() == ["only"]


def test_shipped_preconditioners_are_found_from_any_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert find_checkpoint("preconditioners/darcy2d-gnn.pt") == shipped("preconditioners") / "darcy2d-gnn.pt"
    assert find_checkpoint("darcy2d-gnn.pt").is_file()
    assert find_checkpoint("elsewhere/missing.pt") == Path("elsewhere/missing.pt")


def _third_party_imports() -> dict[str, list[str]]:
    """Top-level module -> the files of pdesolve/ that import it (any depth, lazy imports included)."""
    found: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "pdesolve" and top not in sys.stdlib_module_names:
                    found.setdefault(top, []).append(str(path.relative_to(ROOT)))
    return found


def _distribution(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_runtime_import_is_a_declared_dependency():
    """h5py was missing once: a clean install failed on the first evolution run's .xdmf export."""
    declared = {_distribution(r) for r in PYPROJECT["project"]["dependencies"]}
    extras = {k: {_distribution(r) for r in v} for k, v in PYPROJECT["project"]["optional-dependencies"].items()}
    providers = importlib.metadata.packages_distributions()
    for module, files in _third_party_imports().items():
        if module in OPTIONAL:
            assert module in extras[OPTIONAL[module]], module
            continue
        distributions = {d.lower().replace("_", "-") for d in providers.get(module, [module])}
        assert distributions & declared, f"{module} (imported by {files[0]}) is not in pyproject's dependencies"


@pytest.mark.parametrize("module", sorted(OPTIONAL))
def test_optional_imports_are_guarded(module):
    for file in _third_party_imports()[module]:
        source = (ROOT / file).read_text()
        assert re.search(rf"try:\s+import {module}\b[\s\S]*?except ImportError", source), file


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _load_time_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """The imports that run when a module loads: outside functions and ``if TYPE_CHECKING`` blocks."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            found += _load_time_imports(node.orelse)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for block in ("body", "orelse", "finalbody", "handlers"):
                found += _load_time_imports(getattr(node, block, []))
    return found


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module a ``from ... import`` names, relative ones resolved against ``package``."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    return ".".join(parts[: len(parts) + 1 - node.level] + ([node.module] if node.module else []))


def _module_imports() -> dict[str, set[str]]:
    """Module of pdesolve/ -> the modules of pdesolve/ it imports when it loads. ``from package import
    submodule`` needs the submodule only, not the package's own names."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = set()
        for node in _load_time_imports(ast.parse(path.read_text()).body):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _absolute(node, package)
                submodules = [f"{base}.{alias.name}" for alias in node.names]
                targets = submodules + ([base] if any(m not in paths for m in submodules) else [])
            graph[name] |= {target for target in targets if target in paths and target != name}
    return graph


def test_no_module_level_import_cycle():
    """A cycle works or fails by which module loads first; imports inside functions (lazy) are left out."""
    graph = _module_imports()
    assert {"pdesolve.pinn.constraints", "pdesolve.problem.problem"} <= set(graph)
    assert "pdesolve.linalg.system" in graph["pdesolve.learned.factor_gnn"]
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")
