"""Training data for neural operators: input/solution pairs of a problem family, in shards.

Sample ``i`` is ``problem.sample(seed + i)`` solved by a classical solver (:mod:`pdesolve.operators.pairs`),
at the data resolution or at ``solve_resolution`` and subsampled to it, so a data set is a pure function of
(problem, family, seed, resolution, solve resolution, solver, times, shard size): bit-identical however many
processes made it. With ``times`` the outputs are trajectories, the solution at each of those times
(:mod:`pdesolve.operators.trajectories`; a shard's members are marched together as one batch).
Shards of ``shard_size`` samples are written atomically (temporary file, then rename)
next to ``dataset.json``; a rerun skips the shards already on disk, so an interrupted run resumes.
CPU solves run in parallel processes; a solver on the GPU runs in this process.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from pdesolve.errors import PdesolveError
from pdesolve.io.run_folder import atomic_path, atomic_write_text
from pdesolve.memory_guard import require
from pdesolve.operators.pairs import (
    ClassicalSolve,
    classical_solver,
    data_grid,
    family_description,
    input_channels,
    input_names,
    solve_stride,
)
from pdesolve.operators.trajectories import batch_solver, check_times, solve_trajectories
from pdesolve.problem import Problem
from pdesolve.report.progress import progress_bar
from pdesolve.solvers.base import Settings

METADATA = "dataset.json"


@dataclass(frozen=True)
class DatasetSpec:
    """What a data set is: two specs that are equal describe bit-identical data."""

    problem: str
    family: str
    seed: int
    samples: int
    resolution: int
    solver: str
    inputs: tuple[str, ...]
    shard_size: int
    grid_shape: tuple[int, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    periodic: tuple[bool, ...]
    solve_resolution: int | None = None  # None: solved at ``resolution``
    times: tuple[float, ...] | None = None  # None: one output (u at t1, or the stationary solution)

    @classmethod
    def read(cls, folder: Path) -> DatasetSpec:
        path = Path(folder) / METADATA
        if not path.is_file():
            raise PdesolveError(f"{folder} is not a data set (no {METADATA}; make one with `pdesolve dataset`)")
        try:
            fields = json.loads(path.read_text(encoding="utf-8"))
            fields.pop("format", None)
            spec = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})
        except (ValueError, TypeError, AttributeError) as error:  # JSON syntax, missing/unknown fields, not an object
            raise PdesolveError(
                f"{path} is damaged ({type(error).__name__}: {error}); remake the data set with `pdesolve dataset`"
            ) from None
        if spec.samples < 1 or spec.shard_size < 1 or len(spec.grid_shape) != len(spec.lower):
            raise PdesolveError(f"{path} is damaged (samples, shard_size or grid_shape out of range); remake it")
        return spec

    def write(self, folder: Path) -> None:
        atomic_write_text(Path(folder) / METADATA, json.dumps({"format": 1, **asdict(self)}, indent=2))

    def shards(self) -> list[tuple[int, int]]:
        """(first sample, number of samples) of each shard."""
        return [(s, min(self.shard_size, self.samples - s)) for s in range(0, self.samples, self.shard_size)]

    def check_problem(self, problem: Problem, what: str = "data set") -> None:
        """Refuse data made for another problem or another family (a one-line :class:`PdesolveError`)."""
        if self.problem != problem.name:
            raise PdesolveError(f"this {what} was made for problem {self.problem!r}, not {problem.name!r}")
        if self.family != family_description(problem):
            raise PdesolveError(
                f"this {what} was made for another family of problem {problem.name!r}: "
                f"{self.family!r} != {family_description(problem)!r}"
            )


@dataclass
class Dataset:
    """Pairs in memory: ``inputs`` (N, channels, *grid) and ``outputs`` (N, 1 or len(times), *grid), float32."""

    spec: DatasetSpec
    inputs: np.ndarray
    outputs: np.ndarray
    solve_seconds: np.ndarray

    def split(self, test: int) -> tuple[Dataset, Dataset]:
        """The first N - test samples and the last ``test`` samples."""
        if not 0 < test < len(self.inputs):
            raise PdesolveError(f"cannot hold out {test} test samples of {len(self.inputs)}")
        cut = len(self.inputs) - test
        head = Dataset(self.spec, self.inputs[:cut], self.outputs[:cut], self.solve_seconds[:cut])
        tail = Dataset(self.spec, self.inputs[cut:], self.outputs[cut:], self.solve_seconds[cut:])
        return head, tail


def make_spec(
    problem: Problem,
    samples: int,
    resolution: int,
    seed: int,
    solver: str,
    shard_size: int,
    solve_resolution: int | None = None,
    times: tuple[float, ...] | None = None,
) -> DatasetSpec:
    if samples < 1 or shard_size < 1:
        raise PdesolveError("--samples and the shard size must be positive")
    if times is not None:
        check_times(problem, times)
        batch_solver(solver, Settings())
    grid = data_grid(problem, resolution)
    if solve_resolution == resolution:
        solve_resolution = None
    if solve_resolution is not None:
        solve_stride(problem, resolution, solve_resolution)  # refuses grids that do not nest
    return DatasetSpec(
        problem=problem.name,
        family=family_description(problem),
        seed=seed,
        samples=samples,
        resolution=resolution,
        solver=solver,
        inputs=tuple(input_names(problem)),
        shard_size=shard_size,
        grid_shape=grid.shape,
        lower=tuple(float(v) for v in grid.lower),
        upper=tuple(float(v) for v in grid.upper),
        periodic=grid.periodic,
        solve_resolution=solve_resolution,
        times=None if times is None else tuple(float(t) for t in times),
    )


# --- generation ------------------------------------------------------------------------------
_JOB: tuple[Problem, DatasetSpec, ClassicalSolve, Settings] | None = None  # inherited by forked workers


def _solve_sample(index: int) -> tuple[np.ndarray, np.ndarray, float]:
    problem, spec, solve, _ = _JOB
    grid = data_grid(problem, spec.resolution)
    member = problem.sample(spec.seed + index)
    fine = spec.solve_resolution or spec.resolution
    start = time.perf_counter()
    output = solve(member, data_grid(problem, fine))
    seconds = time.perf_counter() - start
    if spec.solve_resolution is not None:
        output = output[tuple(slice(None, None, s) for s in solve_stride(problem, spec.resolution, fine))]
    if not np.all(np.isfinite(output)):
        raise PdesolveError(f"the classical solve of sample {index} (seed {spec.seed + index}) is not finite")
    return input_channels(problem, member, grid), output[None], seconds


def _solve_trajectory_shard(shard: tuple[int, int]) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """The samples of one shard marched together; each gets the batch's time divided evenly."""
    problem, spec, _, settings = _JOB
    first, count = shard
    grid = data_grid(problem, spec.resolution)
    members = [problem.sample(spec.seed + index) for index in range(first, first + count)]
    start = time.perf_counter()
    values = solve_trajectories(members, spec.times, spec.resolution, spec.solve_resolution, spec.solver, settings)
    seconds = (time.perf_counter() - start) / count
    if not np.all(np.isfinite(values)):
        raise PdesolveError(f"the classical solve of samples {first}..{first + count - 1} is not finite")
    return [(input_channels(problem, m, grid), v, seconds) for m, v in zip(members, values)]


def _limit_threads() -> None:
    import torch

    torch.set_num_threads(1)


def generate_dataset(
    problem: Problem,
    folder: str | Path,
    samples: int,
    resolution: int,
    seed: int = 0,
    solver: str = "direct",
    settings: Settings | None = None,
    workers: int | None = None,
    shard_size: int = 100,
    solve_resolution: int | None = None,
    times: tuple[float, ...] | None = None,
) -> DatasetSpec:
    """Write (or complete) a data set in ``folder``; returns its spec. See the module docstring."""
    global _JOB
    settings = settings or Settings(seed=seed)
    folder = Path(folder)
    spec = make_spec(problem, samples, resolution, seed, solver, shard_size, solve_resolution, times)
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / METADATA).is_file():
        existing = DatasetSpec.read(folder)
        if existing != spec:
            changed = [k for k, v in asdict(spec).items() if asdict(existing).get(k) != v]
            raise PdesolveError(f"{folder} holds another data set (differs in {', '.join(changed)}); use a new --out")
    else:
        spec.write(folder)
    todo = [(k, shard) for k, shard in enumerate(spec.shards()) if not _shard_path(folder, k).is_file()]
    if not todo:
        return spec
    on_gpu = settings.device.startswith("cuda") and solver != "direct"  # direct: scipy on the CPU
    workers = 1 if on_gpu else (workers or os.cpu_count() or 1)
    _JOB = (problem, spec, classical_solver(solver, settings), replace(settings, progress=False))
    bar = progress_bar(settings.progress, total=sum(n for _, (_, n) in todo), desc=f"dataset {problem.name}")
    try:
        if workers == 1:
            run = map
            pool = None
        else:
            context = multiprocessing.get_context("fork")  # workers inherit the problem (lambdas do not pickle)
            pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_limit_threads)
            run = pool.map
        if spec.times is not None:  # one batch per shard, shards in parallel
            shards = run(_solve_trajectory_shard, [shard for _, shard in todo])
        else:  # samples in parallel, shard by shard
            shards = (list(run(_solve_sample, range(first, first + count))) for _, (first, count) in todo)
        for (k, (_, count)), results in zip(todo, shards):
            _write_shard(folder, k, results)
            bar.update(count)
    finally:
        _JOB = None
        bar.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return spec


def _shard_path(folder: Path, index: int) -> Path:
    return folder / f"shard_{index:05d}.npz"


def _write_shard(folder: Path, index: int, results: list[tuple[np.ndarray, np.ndarray, float]]) -> None:
    with atomic_path(_shard_path(folder, index)) as temporary, open(temporary, "wb") as handle:
        np.savez(
            handle,
            inputs=np.stack([r[0] for r in results]).astype(np.float32),
            outputs=np.stack([r[1] for r in results]).astype(np.float32),
            solve_seconds=np.array([r[2] for r in results]),
        )


# --- loading ---------------------------------------------------------------------------------
def load_dataset(folder: str | Path, problem: Problem | None = None) -> Dataset:
    """Read a complete data set; with ``problem``, refuse one made for another problem or family."""
    folder = Path(folder)
    spec = DatasetSpec.read(folder)
    if problem is not None:
        spec.check_problem(problem)
    outputs = 1 if spec.times is None else len(spec.times)
    nbytes = 2 * spec.samples * (len(spec.inputs) + outputs) * math.prod(spec.grid_shape) * 4  # shards + joined
    require(nbytes, f"the data set {folder} ({spec.samples} samples on {spec.grid_shape})", "fewer --samples")
    parts = []
    for k, (_, count) in enumerate(spec.shards()):
        path = _shard_path(folder, k)
        if not path.is_file():
            raise PdesolveError(f"{folder} is incomplete ({path.name} missing): rerun `pdesolve dataset` to finish it")
        parts.append(_read_shard(path, count, (len(spec.inputs), *spec.grid_shape), (outputs, *spec.grid_shape)))
    return Dataset(
        spec,
        np.concatenate([p["inputs"] for p in parts]),
        np.concatenate([p["outputs"] for p in parts]),
        np.concatenate([p["solve_seconds"] for p in parts]),
    )


def _read_shard(path: Path, count: int, input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> dict:
    """One shard's arrays, checked: readable, of the shapes ``dataset.json`` promises, and finite."""
    remedy = f"delete {path.name} and rerun `pdesolve dataset` with the same options to remake it"
    try:
        with np.load(path) as shard:
            arrays = {name: shard[name] for name in ("inputs", "outputs", "solve_seconds")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise PdesolveError(f"{path} is damaged or truncated ({type(error).__name__}: {error}); {remedy}") from None
    expected = {"inputs": (count, *input_shape), "outputs": (count, *output_shape), "solve_seconds": (count,)}
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            raise PdesolveError(f"{path}: {name} has shape {arrays[name].shape}, not {shape}; {remedy}")
    for name in ("inputs", "outputs"):
        if not np.all(np.isfinite(arrays[name])):
            raise PdesolveError(f"{path}: the training data ({name}) hold NaN or infinite values; {remedy}")
    return arrays
