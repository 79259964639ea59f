"""``pdesolve list``: the catalogue and the solvers; ``list PROBLEM|FILE.py``: which solvers apply, and why not."""

from __future__ import annotations


def test_list_shows_problems_and_solvers(cli, registry, problems, monkeypatch):
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
    solvers = [line.split()[:2] for line in lines[lines.index("Solvers:") + 1 :] if line.startswith("  ")]
    assert ["gridfd", "classical"] in solvers and ["teng", "teng"] in solvers  # loaded, and named by the table
    assert solvers[-1] == ["classical", "alias"]


def test_list_problem_or_file_says_which_solvers_apply_and_why_the_others_do_not(cli, registry, problems):
    for target in (problems["heat1d"], problems["heat1d"].relative_to(problems["heat1d"].parents[1])):
        result = cli("list", target)
        assert result.code == 0, result.err
        lines = result.out.splitlines()
        assert lines[0] == "heat1d (evolution 1D, exact): which solvers apply"
        verdicts = {line.split()[0]: " ".join(line.split()[1:]) for line in lines[1:]}
        assert verdicts["euler"] == "applies" and verdicts["gridfd"] == "no: stationary problems only"
        assert verdicts["classical"].startswith("no: none of spectral, fd, fem, fem_newton, mol, fem_mol applies")
        assert list(verdicts)[-1] == "classical"
    poisson = cli("list", problems["poisson1d"])
    assert poisson.code == 0 and poisson.out.splitlines()[-1].split(maxsplit=1) == [
        "classical",
        "applies (stands for fd)",
    ]


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
    assert result.code == 2 and result.err.strip().startswith("pdesolve: error: unknown solver or problem 'nope'")
    assert "gridfd" in result.err and len(result.err_lines) == 1
    missing = cli("list", "missing.py")
    assert missing.code == 2 and missing.err_lines == ["pdesolve: error: problem file missing.py does not exist"]
