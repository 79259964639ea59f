"""``ReferenceData`` reads .npz, .mat, .csv, .h5 and .vtu files into the same (points, values), and a file it
cannot read gives one ``ProblemError`` naming it."""

from __future__ import annotations

import h5py
import meshio
import numpy as np
import pytest
import scipy.io

from pdesolve.errors import ProblemError
from pdesolve.problem import ReferenceData

X = np.linspace(0.0, 1.0, 7)
U = np.sin(np.pi * X)


def columns(data):
    return data["x"].reshape(-1, 1), data["u"]


def write(path):
    suffix = path.suffix
    if suffix == ".npz":
        np.savez(path, x=X, u=U)
    elif suffix == ".mat":
        scipy.io.savemat(path, {"x": X, "u": U})  # MATLAB stores them as 1 × 7 rows
    elif suffix == ".csv":
        np.savetxt(path, np.column_stack([X, U]), delimiter=",", header="x,u", comments="")
    elif suffix == ".h5":
        with h5py.File(path, "w") as file:
            file["x"] = X
            file.create_group("fields")["u"] = U
    elif suffix == ".vtu":
        points = np.column_stack([X, np.zeros_like(X), np.zeros_like(X)])
        cells = [("line", np.column_stack([np.arange(6), np.arange(1, 7)]))]
        meshio.write(path, meshio.Mesh(points, cells, point_data={"u": U}))


LOADERS = {
    ".npz": columns,
    ".mat": columns,
    ".csv": columns,
    ".h5": lambda data: (data["x"].reshape(-1, 1), data["fields/u"]),
    ".vtu": lambda data: (data["points"][:, :1], data["u"]),
}


@pytest.mark.parametrize("suffix", sorted(LOADERS))
def test_every_format_gives_the_same_points_and_values(tmp_path, suffix):
    path = tmp_path / f"reference{suffix}"
    write(path)
    points, values = ReferenceData(str(path), LOADERS[suffix]).load()
    np.testing.assert_allclose(points[:, 0], X, rtol=0, atol=1e-15)
    np.testing.assert_allclose(values, U, rtol=0, atol=1e-15)


@pytest.mark.parametrize("suffix", sorted(LOADERS))
def test_a_corrupt_file_is_one_problem_error_naming_it(tmp_path, suffix):
    path = tmp_path / f"broken{suffix}"
    write(path)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 3] or b"\x00garbage")
    if suffix == ".csv":
        path.write_text("x,u\nnot,numbers\n")
    with pytest.raises(ProblemError) as caught:
        ReferenceData(str(path), LOADERS[suffix]).load()
    message = str(caught.value)
    assert str(path) in message and "\n" not in message


def test_unknown_format_and_a_loader_asking_for_a_missing_array(tmp_path):
    (tmp_path / "values.txt").write_text("1 2 3\n")
    with pytest.raises(ProblemError, match=r"unknown format '\.txt' \(read: \.npz, \.mat, \.csv"):
        ReferenceData(str(tmp_path / "values.txt"), columns).load()
    np.savez(tmp_path / "other.npz", points=X, values=U)
    with pytest.raises(ProblemError, match=r"its loader failed \(KeyError\('x'\); arrays: points, values\)"):
        ReferenceData(str(tmp_path / "other.npz"), columns).load()


def test_names_are_found_in_pdesolve_data(tmp_path, monkeypatch):
    write(tmp_path / "mine.mat")
    monkeypatch.setenv("PDESOLVE_DATA", str(tmp_path))
    reference = ReferenceData("mine.mat", columns)
    assert reference.available() and reference.load()[1].shape == (7,)
    assert not ReferenceData("absent.mat", columns).available()
