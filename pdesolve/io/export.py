"""Solution files: ``solution.npz`` (numpy), ``solution.vtu`` and ``solution.xdmf`` (meshio, for ParaView).

The ``.vtu`` holds the final snapshot; evolution problems also get a ``.xdmf`` + ``.h5`` time series
of the solution evaluated on the same nodes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import meshio
import numpy as np
from meshio.xdmf import TimeSeriesWriter

from pdesolve.errors import PdesolveError
from pdesolve.io.run_folder import atomic_write
from pdesolve.solvers.solution import Solution

MAX_FRAMES = 51


def _as_3d(points: np.ndarray) -> np.ndarray:
    """VTU and XDMF readers want 3D points: pad 1D and 2D ones with zeros."""
    points = np.asarray(points, dtype=float)
    return np.column_stack([points, np.zeros((len(points), 3 - points.shape[1]))])


def save_npz(solution: Solution, target: Path) -> Path:
    arrays = {key: np.asarray(value) for key, value in solution.arrays().items()}
    return atomic_write(target, lambda path: np.savez_compressed(path, **arrays))


def save_vtu(solution: Solution, target: Path) -> Path:
    points, values, cells = solution.final_snapshot()
    names = solution.problem.unknowns
    values = np.asarray(values, dtype=float)
    data = {"u": values} if len(names) == 1 else {name: values[:, k] for k, name in enumerate(names)}
    mesh = meshio.Mesh(_as_3d(points), cells, point_data=data)
    return atomic_write(target, lambda path: meshio.write(path, mesh, file_format="vtu"))


class _SiblingTimeSeriesWriter(TimeSeriesWriter):
    """meshio 5.3 opens the ``.h5`` file in the working directory; open it beside the ``.xdmf`` instead."""

    def __enter__(self) -> _SiblingTimeSeriesWriter:
        import h5py

        self.h5_filename = str(Path(self.filename).with_suffix(".h5"))
        self.h5_file = h5py.File(self.h5_filename, "w")
        return self


def snapshot_times(solution: Solution) -> np.ndarray:
    """The solver's own output times when it has them (at most ``MAX_FRAMES``), else 21 even steps."""
    t0, t1 = solution.problem.time
    times = getattr(solution, "times", None)
    if times is None or len(times) < 2:
        return np.linspace(t0, t1, 21)
    pick = np.unique(np.linspace(0, len(times) - 1, min(len(times), MAX_FRAMES)).round().astype(int))
    return np.asarray(times, dtype=float)[pick]


def save_xdmf(solution: Solution, target: Path) -> Path:
    """The time series of an evolution problem's solution on the nodes of its final snapshot."""
    target = Path(target)
    points, _, cells = solution.final_snapshot()
    points = np.asarray(points, dtype=float)
    try:
        with tempfile.TemporaryDirectory(prefix=".xdmf.", dir=target.parent) as folder:
            staged = Path(folder) / target.name
            with _SiblingTimeSeriesWriter(staged) as writer:
                writer.write_points_cells(_as_3d(points), cells)
                for t in snapshot_times(solution):
                    values = solution(np.column_stack([points, np.full(len(points), t)]))
                    writer.write_data(float(t), point_data={"u": np.asarray(values, dtype=float).ravel()})
            os.replace(staged.with_suffix(".h5"), target.with_suffix(".h5"))
            os.replace(staged, target)
    except OSError as error:
        raise PdesolveError(f"cannot write {target}: {error.strerror or error}") from None
    return target


def export_solution(solution: Solution, folder: Path) -> dict[str, str]:
    """Write every file a solution supports; returns {file: "ok" or why it was skipped}."""
    folder = Path(folder)
    writers = {"solution.npz": save_npz, "solution.vtu": save_vtu}
    if solution.problem.is_evolution:
        writers["solution.xdmf"] = save_xdmf
    report = {}
    for name, write in writers.items():
        try:
            write(solution, folder / name)
            report[name] = "ok"
        except NotImplementedError:
            report[name] = f"skipped: {type(solution).__name__} does not provide the data"
    return report
