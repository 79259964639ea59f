"""Data sets: bit-identical for a seed however many processes, resumable, refused for another problem."""

from __future__ import annotations

import numpy as np
import pytest

from pdesolve.errors import PdesolveError
from pdesolve.operators.dataset import generate_dataset, load_dataset
from pdesolve.operators.pairs import data_grid, direct_solve, input_channels


def test_bit_identical_for_a_seed_with_one_or_two_processes(problem, tmp_path):
    generate_dataset(problem, tmp_path / "one", 6, 24, seed=7, workers=1, shard_size=4)
    generate_dataset(problem, tmp_path / "two", 6, 24, seed=7, workers=2, shard_size=4)
    one, two = load_dataset(tmp_path / "one"), load_dataset(tmp_path / "two")
    assert one.inputs.shape == (6, 1, 24, 24) and one.outputs.shape == (6, 1, 24, 24)
    assert np.array_equal(one.inputs, two.inputs) and np.array_equal(one.outputs, two.outputs)
    # sample i is member seed + i, solved directly
    grid = data_grid(problem, 24)
    member = problem.sample(7 + 4)
    assert np.array_equal(one.outputs[4, 0], direct_solve(member, grid).astype(np.float32))
    assert np.array_equal(one.inputs[4], input_channels(problem, member, grid).astype(np.float32))
    assert one.outputs[:, 0, 0, :].max() == 0.0 and one.outputs.max() > 0.01  # u = 0 on the boundary, u > 0 inside


def test_an_interrupted_run_resumes_and_skips_finished_shards(problem, tmp_path):
    folder = tmp_path / "d"
    generate_dataset(problem, folder, 10, 16, seed=1, workers=1, shard_size=4)
    before = load_dataset(folder)
    kept = (folder / "shard_00000.npz").stat().st_mtime_ns
    (folder / "shard_00001.npz").unlink()  # as if the run had stopped there
    with pytest.raises(PdesolveError, match="incomplete"):
        load_dataset(folder)
    generate_dataset(problem, folder, 10, 16, seed=1, workers=1, shard_size=4)
    after = load_dataset(folder)
    assert (folder / "shard_00000.npz").stat().st_mtime_ns == kept
    assert np.array_equal(before.outputs, after.outputs) and np.array_equal(before.inputs, after.inputs)


def test_a_data_set_of_another_problem_is_refused(problem, make_problem, tmp_path):
    folder = tmp_path / "d"
    generate_dataset(problem, folder, 2, 16, seed=0, workers=1)
    with pytest.raises(PdesolveError, match="made for problem 'smooth_darcy', not 'other'"):
        load_dataset(folder, make_problem("other"))
    with pytest.raises(PdesolveError, match="another family"):
        load_dataset(folder, make_problem(tau=4.0))
    with pytest.raises(PdesolveError, match="differs in seed"):
        generate_dataset(problem, folder, 2, 16, seed=1, workers=1)
    with pytest.raises(PdesolveError, match="not a data set"):
        load_dataset(tmp_path)


def test_a_finer_solve_is_subsampled_to_the_data_grid(problem, tmp_path):
    """The FNO paper's way: solve on a grid whose nodes include the data grid's, keep those nodes."""
    generate_dataset(problem, tmp_path / "d", 2, 16, seed=3, workers=1, solve_resolution=31)
    data = load_dataset(tmp_path / "d")
    assert data.spec.solve_resolution == 31 and data.outputs.shape == (2, 1, 16, 16)
    member = problem.sample(3)
    fine = direct_solve(member, data_grid(problem, 31))
    assert np.array_equal(data.outputs[0, 0], fine[::2, ::2].astype(np.float32))
    coarse = direct_solve(member, data_grid(problem, 16))
    assert 1e-4 < np.abs(data.outputs[0, 0] - coarse).max() < 0.05 * np.abs(coarse).max()  # another, close, solve
    with pytest.raises(PdesolveError, match="not a subset of the solve grid"):
        generate_dataset(problem, tmp_path / "e", 2, 16, seed=3, workers=1, solve_resolution=30)
