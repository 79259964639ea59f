"""npz, vtu and xdmf files read back with numpy and meshio."""

from __future__ import annotations

import meshio
import numpy as np
from meshio.xdmf import TimeSeriesReader

from pdesolve.io.export import MAX_FRAMES, export_solution, save_npz, save_vtu, save_xdmf
from pdesolve.solvers.solution import Solution


def test_npz_and_vtu_of_a_2d_grid(tmp_path, grid_solution_2d):
    save_npz(grid_solution_2d, tmp_path / "solution.npz")
    with np.load(tmp_path / "solution.npz") as saved:
        assert saved["u"].shape == (5, 9) and np.allclose(saved["axis_y"], np.linspace(0, 2, 9))
    save_vtu(grid_solution_2d, tmp_path / "solution.vtu")
    mesh = meshio.read(tmp_path / "solution.vtu")
    assert mesh.points.shape == (45, 3) and np.all(mesh.points[:, 2] == 0)
    assert np.allclose(mesh.point_data["u"], mesh.points[:, 0] + 10 * mesh.points[:, 1])
    assert mesh.cells[0].type == "quad" and len(mesh.cells[0].data) == 4 * 8


def test_xdmf_time_series(tmp_path, heat_solution, monkeypatch):
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # meshio 5.3 would put the .h5 here
    target = save_xdmf(heat_solution, tmp_path / "solution.xdmf")
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "solution.h5", "solution.xdmf"]
    with TimeSeriesReader(target) as reader:
        points, cells = reader.read_points_cells()
        frames = [reader.read_data(k) for k in range(reader.num_steps)]
    assert len(frames) == MAX_FRAMES
    assert np.isclose(frames[0][0], 0.0) and np.isclose(frames[-1][0], 0.1)
    for t, data, _ in frames:
        exact = np.exp(-(np.pi**2) * t) * np.sin(np.pi * points[:, 0])
        assert np.allclose(data["u"], exact, atol=1e-12)


class OnlyCallable(Solution):
    def __call__(self, points):
        return np.zeros(len(points))


def test_export_reports_what_a_solution_cannot_provide(tmp_path, grid_solution_2d):
    report = export_solution(OnlyCallable(grid_solution_2d.problem), tmp_path)
    assert report["solution.npz"].startswith("skipped") and report["solution.vtu"].startswith("skipped")
    assert list(tmp_path.iterdir()) == []
