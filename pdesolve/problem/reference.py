"""Reference data files and the points errors are measured on.

A file is read into a dict of named arrays, which the problem's ``loader`` turns into (points, values):

- ``.npz``: its arrays (``numpy.load``);
- ``.mat``: its variables (``scipy.io.loadmat``; MATLAB 7.3 files are HDF5 and are read as ``.h5``);
- ``.csv``: its columns, named by the header row;
- ``.h5`` / ``.hdf5``: every dataset, by its path (``group/name``), through h5py;
- ``.vtu``, ``.vtk``, ``.xdmf``, ``.msh`` (through meshio): ``points`` and the point data by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pdesolve.errors import ProblemError
from pdesolve.shipped import data_directories

MESH_FORMATS = {".vtu": "vtu", ".vtk": "vtk", ".xdmf": "xdmf", ".msh": "gmsh"}  # suffix -> meshio's module


def find_data_file(name: str) -> Path:
    """``name`` as a path when it is a file, else the first data directory that holds it."""
    if Path(name).is_file():
        return Path(name)
    for folder in data_directories():
        if (folder / name).is_file():
            return folder / name
    searched = ", ".join(str(f) for f in data_directories())
    raise ProblemError(f"reference file {name} not found (searched {searched}; set PDESOLVE_DATA)")


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _read_mat(path: Path) -> dict[str, np.ndarray]:
    import scipy.io

    try:
        data = scipy.io.loadmat(path)
    except NotImplementedError:  # MATLAB 7.3: an HDF5 file
        return _read_h5(path)
    return {key: value for key, value in data.items() if not key.startswith("__")}


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    table = np.genfromtxt(path, delimiter=",", names=True, dtype=float, encoding="utf-8")
    if table.dtype.names is None or table.size == 0:
        raise ValueError("expected a header row of column names and at least one row of numbers")
    if any(np.isnan(table[name]).all() for name in table.dtype.names):
        raise ValueError("a column holds no numbers")
    return {name: np.atleast_1d(table[name]) for name in table.dtype.names}


def _read_h5(path: Path) -> dict[str, np.ndarray]:
    import h5py

    arrays: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as file:
        file.visititems(lambda key, item: arrays.update({key: item[()]}) if isinstance(item, h5py.Dataset) else None)
    return arrays


def _read_mesh(path: Path) -> dict[str, np.ndarray]:
    import importlib

    # the format's own reader: meshio.read prints and calls sys.exit on a file it cannot read
    mesh = importlib.import_module(f"meshio.{MESH_FORMATS[path.suffix.lower()]}").read(str(path))
    return {"points": mesh.points, **mesh.point_data}


READERS: dict[str, Callable[[Path], dict[str, np.ndarray]]] = {
    ".npz": _read_npz,
    ".mat": _read_mat,
    ".csv": _read_csv,
    ".h5": _read_h5,
    ".hdf5": _read_h5,
    **dict.fromkeys(MESH_FORMATS, _read_mesh),
}


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The named arrays of a reference file; a :class:`ProblemError` naming the file when it cannot be read."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ProblemError(f"reference file {path}: unknown format {path.suffix!r} (read: {', '.join(READERS)})")
    try:
        return reader(path)
    except Exception as error:  # a corrupt or truncated file: numpy, scipy, h5py and meshio raise their own kinds
        detail = " ".join(str(error).split()) or type(error).__name__
        raise ProblemError(f"reference file {path} is not a readable {path.suffix} file: {detail}") from None


@dataclass(frozen=True)
class ReferenceData:
    """A data file of reference values; ``loader(arrays)`` returns (points, values), time as last column.

    ``file`` is a path, or a name looked up in ``$PDESOLVE_DATA`` and the catalogue's ``data/`` folder.
    """

    file: str
    loader: Callable[[dict], tuple[np.ndarray, np.ndarray]]
    description: str = ""

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        path = find_data_file(self.file)
        arrays = read_arrays(path)
        try:
            points, values = self.loader(arrays)
        except (KeyError, IndexError, ValueError, TypeError) as error:
            names = ", ".join(arrays) or "none"
            raise ProblemError(f"reference file {path}: its loader failed ({error!r}; arrays: {names})") from None
        return np.asarray(points, dtype=float), np.asarray(values, dtype=float).ravel()

    def available(self) -> bool:
        try:
            find_data_file(self.file)
        except ProblemError:
            return False
        return True
