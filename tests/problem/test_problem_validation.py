"""Problem validation and loading problem files: every mistake is a ProblemError that says what is wrong."""

import numpy as np
import pytest

from pdesolve.errors import ProblemError
from pdesolve.problem import Dirichlet, Disk, Interval, Periodic, Problem, Rectangle, d, laplacian, load_problem


def rhs(u, x, p):
    return d(u, "x", 2)


def residual(u, x, p):
    return -laplacian(u) - 1


def initial(x, p):
    return x.x


CASES = {
    "both": (dict(residual=residual, rhs=rhs, time=(0, 1), initial=initial), "exactly one of residual"),
    "neither": (dict(boundary=Dirichlet()), "exactly one of residual"),
    "rhs without time": (dict(rhs=rhs, initial=initial), r"time=\(t0, t1\)"),
    "time backwards": (dict(rhs=rhs, time=(1.0, 0.0), initial=initial), "t0 < t1"),
    "rhs without initial": (dict(rhs=rhs, time=(0, 1)), "needs initial="),
    "stationary with time": (dict(residual=residual, time=(0, 1), boundary=Dirichlet()), "no time= or initial="),
    "stationary without boundary": (dict(residual=residual), "needs boundary conditions"),
    "periodic on a disk": (dict(residual=residual, boundary=Periodic(), domain=Disk((0, 0), 1)), "box-shaped"),
    "periodic axis z in 2D": (dict(residual=residual, boundary=Periodic(axes=("z",))), r"\['z'\]"),
    "wrong boundary entry": (dict(residual=residual, boundary=[Dirichlet(), "u=0"]), "boundary entries"),
    "initial of wrong shape": (dict(rhs=rhs, time=(0, 1), initial=lambda x, p: np.zeros(3)), r"returns shape \(3,\)"),
    "initial fails": (dict(rhs=rhs, time=(0, 1), initial=lambda x, p: x.z), "initial.*fails.*no coordinate 'z'"),
    "unknown parameter": (dict(rhs=rhs, time=(0, 1), initial=lambda x, p: p.amp * x.x), "no attribute 'amp'"),
    "exact of wrong shape": (dict(residual=residual, boundary=Dirichlet(), exact=lambda x, p: 1.0), r"exact.*shape"),
    "bad name": (dict(name="my problem", residual=residual, boundary=Dirichlet()), "letters, digits"),
}


@pytest.mark.parametrize("case", CASES)
def test_validation_errors_are_specific(case):
    arguments, message = CASES[case]
    arguments = {"name": "demo", "domain": Rectangle((0, 0), (1, 1)), **arguments}
    with pytest.raises(ProblemError, match=message):
        Problem(**arguments)


def test_unknown_parameter_in_with_params():
    problem = Problem("demo", Interval(0, 1), rhs=rhs, time=(0, 1), initial=initial, params={"nu": 1.0})
    assert problem.with_params(nu=2.0).p.nu == 2.0
    with pytest.raises(ProblemError, match=r"no parameter\(s\) \['mu'\]; it has \['nu'\]"):
        problem.with_params(mu=2.0)


BROKEN_FILES = {
    "syntax.py": ("problem = Problem(\n", "syntax.py.*line 1.*SyntaxError"),
    "imports.py": ("import not_a_module_anywhere\n", "imports.py.*ModuleNotFoundError.*not_a_module_anywhere"),
    "raises.py": ("x = 1\ny = 1 / 0\n", r"raises.py \(line 2\).*ZeroDivisionError"),
    "empty.py": ("answer = 42\n", r"empty.py defines no `problem = Problem\(...\)`"),
    "invalid.py": (
        "from pdesolve.problem import Problem, Interval\nproblem = Problem('bad', Interval(0, 1))\n",
        "invalid.py: problem 'bad': give exactly one",
    ),
}


@pytest.mark.parametrize("filename", BROKEN_FILES)
def test_broken_problem_files_name_the_file(tmp_path, filename):
    source, message = BROKEN_FILES[filename]
    path = tmp_path / filename
    path.write_text(source)
    with pytest.raises(ProblemError, match=message):
        load_problem(str(path))


def test_missing_files_and_unknown_names(tmp_path):
    with pytest.raises(ProblemError, match="does not exist"):
        load_problem(str(tmp_path / "nowhere.py"))
    with pytest.raises(ProblemError, match="unknown problem 'no_such_problem'.*poisson2d"):
        load_problem("no_such_problem")


def test_a_problem_file_loads_from_any_folder(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(
        "from pdesolve.problem import Dirichlet, Problem, Rectangle, laplacian\n"
        "problem = Problem('mine', Rectangle((0, 0), (1, 1)), residual=lambda u, x, p: -laplacian(u) - 1,\n"
        "                  boundary=Dirichlet(0.0))\n"
    )
    problem = load_problem(str(path))
    assert problem.name == "mine" and not problem.is_evolution and problem.dim == 2
