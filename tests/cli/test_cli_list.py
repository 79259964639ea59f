"""``pdesolve list``: the catalogue, the solvers, and the applicability matrix."""

from __future__ import annotations


def test_list_shows_problems_solvers_and_matrix(cli, registry, problems, monkeypatch):
    folder = problems["poisson1d"].parent
    (folder / "broken.py").write_text("raise RuntimeError('half written')\n")
    (folder / "_helper.py").write_text("x = 1\n")
    monkeypatch.setenv("PDESOLVE_PROBLEMS", str(folder))
    result = cli("list")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"Problems ({folder}):"
    assert any(line.split()[:3] == ["heat1d", "evolution", "1D,"] for line in lines)
    assert any("poisson1d" in line and "1D Poisson with exact solution" in line for line in lines)
    assert any("broken" in line and "does not load" in line for line in lines)
    assert not any("_helper" in line for line in lines)
    assert any(line.split()[:2] == ["classical", "alias"] for line in lines)

    header = next(k for k, line in enumerate(lines) if line.startswith("Which solver applies"))
    columns = lines[header + 1].split()
    stands = lines.index("What classical stands for:")
    matrix = lines[header + 2 : stands - 1]
    rows = {line.split()[0]: dict(zip(columns, line.split()[1:])) for line in matrix}
    assert set(rows) == {"heat1d", "noref1d", "poisson1d"}
    assert rows["poisson1d"]["gridfd"] == "x" and rows["poisson1d"]["euler"] == "."
    assert rows["heat1d"]["gridfd"] == "." and rows["heat1d"]["euler"] == "x"
    assert rows["heat1d"]["classical"] == "." and rows["poisson1d"]["classical"] == "x"
    explained = {line.split()[0]: line.split(maxsplit=1)[1] for line in lines[stands + 1 :]}
    assert explained["poisson1d"] == "fd"
    assert (
        explained["heat1d"].startswith("none (spectral: not installed; fd: ")
        and "mol: not installed" in explained["heat1d"]
    )


def test_list_with_an_empty_catalogue(cli, registry, tmp_path, monkeypatch):
    monkeypatch.setenv("PDESOLVE_PROBLEMS", str(tmp_path))
    result = cli("list")
    assert result.code == 0 and "(none)" in result.out and "gridfd" in result.out


def test_list_solver_prints_its_options_and_the_problems_it_applies_to(cli, registry, problems, monkeypatch):
    monkeypatch.setenv("PDESOLVE_PROBLEMS", str(problems["poisson1d"].parent))
    result = cli("list", "gridfd")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("gridfd (classical):")
    assert lines[1] == "applies to: noref1d, poisson1d"
    assert [line.split()[:2] for line in lines[3:]] == [["n", "33"], ["tol", "1e-12"]]
    alias = cli("list", "classical")
    assert alias.code == 0 and "applies to: noref1d, poisson1d" in alias.out and "first of" in alias.out


def test_list_unknown_solver_is_a_one_line_error(cli, registry):
    result = cli("list", "nope")
    assert result.code == 2 and result.err.strip().startswith("pdesolve: error: unknown solver 'nope'")


def test_every_registered_option_has_one_line_of_help():
    from pdesolve.solvers.available import load_all
    from pdesolve.solvers.base import SOLVERS
    from pdesolve.solvers.classical_alias import Alias

    load_all()
    for solver in SOLVERS.values():
        if not issubclass(solver, Alias):
            assert list(solver.option_help) == list(solver.options), solver.name
            assert all(text and "\n" not in text for text in solver.option_help.values()), solver.name
