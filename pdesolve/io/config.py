"""Run configuration: a TOML file, ``--set`` pairs and the common options, resolved in that order.

The TOML file may hold ``device``, ``dtype``, ``seed``, a ``[solver]`` table of options for every
solver that has them, and ``[solvers.NAME]`` tables for one solver (or alias) each. ``--set key=value``
works like ``[solver]``; ``--set NAME.key=value`` like ``[solvers.NAME]``. Command-line values win.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pdesolve.errors import PdesolveError
from pdesolve.solvers.base import Settings, Solver, coerce_option, option_fields

DEVICE = re.compile(r"cpu|cuda(:\d+)?")
DTYPES = ("float32", "float64")
TOP_KEYS = {"device", "dtype", "seed", "solver", "solvers"}


@dataclass
class Config:
    """What the user asked for, before it is applied to particular solvers."""

    device: str = "cpu"
    dtype: str = "float64"
    seed: int = 0
    common: dict[str, Any] = field(default_factory=dict)  # [solver] table and --set key=value
    per_solver: dict[str, dict[str, Any]] = field(default_factory=dict)  # [solvers.NAME] and --set NAME.key=value
    file: str | None = None
    set_keys: set[str] = field(default_factory=set)  # common keys that came from --set
    set_scoped: set[tuple[str, str]] = field(default_factory=set)  # (NAME, key) that came from --set NAME.key

    def settings(self, progress: bool) -> Settings:
        return Settings(device=self.device, dtype=self.dtype, seed=self.seed, progress=progress)

    def options_for(self, solver: type[Solver], *names: str) -> dict[str, Any]:
        """Options of ``solver`` (also addressed by ``names``, e.g. its alias): common keys it has, then its own."""
        chosen = {
            key: coerce_option(solver, key, text, self._where(None, key, text))
            for key, text in self.common.items()
            if key in option_fields(solver.Options)
        }
        for name in (*names, solver.name):
            for key, text in self.per_solver.get(name, {}).items():
                chosen[key] = coerce_option(solver, key, text, self._where(name, key, text))
        return chosen

    def _where(self, scope: str | None, key: str, text: str) -> str:
        """Where an option's value came from, for its errors: ``--set`` or the config file's table."""
        if scope is None and key in self.set_keys:
            return f"--set {key}={text}"
        if scope is not None and (scope, key) in self.set_scoped:
            return f"--set {scope}.{key}={text}"
        table = "[solver]" if scope is None else f"[solvers.{scope}]"
        return f"--config {self.file}: {table} {key} = {text}"

    def check_used(self, solvers: list[type[Solver]], known: set[str], aliases: Sequence[str] = ()) -> None:
        """Refuse common keys that no selected solver has, per-solver tables of unknown solvers, and
        ``--set NAME.key`` for a solver NAME that does not run (a config file's tables may name others)."""
        for key in self.common:
            if not any(key in option_fields(solver.Options) for solver in solvers):
                valid = "; ".join(f"{s.name}: {', '.join(sorted(option_fields(s.Options))) or 'none'}" for s in solvers)
                where = f"--set {key}" if key in self.set_keys else f"--config {self.file}: [solver] {key}"
                hint = ", ".join(f"`pdesolve list {s.name}`" for s in solvers)
                raise PdesolveError(f"{where}: no solver option {key!r} (valid options: {valid}; meanings: {hint})")
        for name in self.per_solver:
            if name not in known:
                raise PdesolveError(f"options for unknown solver {name!r} (known: {', '.join(sorted(known))})")
        running = {s.name for s in solvers} | set(aliases)
        for name, key in sorted(self.set_scoped):
            if name not in running:
                raise PdesolveError(
                    f"--set {name}.{key}: solver {name!r} is not run here (running: {', '.join(sorted(running))})"
                )


def _text(value: Any) -> str:
    """TOML values become text so that ``coerce_option`` checks them like ``--set`` values."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise ValueError
    return str(value)


def read_file(path: str) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise PdesolveError(f"--config {path}: no such file")
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PdesolveError(f"--config {path}: not valid TOML: {error}") from None
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise PdesolveError(f"--config {path}: unknown key(s) {sorted(unknown)} (valid: {', '.join(sorted(TOP_KEYS))})")
    return data


def _table(data: Any, where: str) -> dict[str, str]:
    if not isinstance(data, dict):
        raise PdesolveError(f"{where} must be a table of options")
    try:
        return {key: _text(value) for key, value in data.items()}
    except ValueError:
        raise PdesolveError(f"{where}: option values must be numbers, strings or booleans") from None


def parse_set(items: list[str]) -> list[tuple[str | None, str, str]]:
    """``key=value`` -> (None, key, value); ``NAME.key=value`` -> (NAME, key, value)."""
    parsed = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise PdesolveError(f"--set {item}: expected key=value")
        scope, dot, name = key.strip().rpartition(".")
        parsed.append((scope if dot else None, name, value.strip()))
    return parsed


def resolve(file: str | None, device: str | None, dtype: str | None, seed: int | None, sets: list[str]) -> Config:
    """Merge the config file, ``--set`` pairs and the command-line values; check device and dtype."""
    data = read_file(file) if file else {}
    where = f"--config {file}"
    config = Config(file=file)
    config.device = device or str(data.get("device", "cpu"))
    config.dtype = dtype or str(data.get("dtype", "float64"))
    if seed is not None:
        config.seed = seed
    elif "seed" in data:
        if not isinstance(data["seed"], int) or isinstance(data["seed"], bool):
            raise PdesolveError(f"{where}: seed must be an integer, got {data['seed']!r}")
        config.seed = data["seed"]
    check_settings(config)
    config.common = _table(data.get("solver", {}), f"{where}: [solver]")
    solvers = data.get("solvers", {})
    if not isinstance(solvers, dict):
        raise PdesolveError(f"{where}: [solvers] must hold [solvers.NAME] tables")
    config.per_solver = {name: _table(table, f"{where}: [solvers.{name}]") for name, table in solvers.items()}
    for scope, key, value in parse_set(sets):
        if scope is None:
            config.common[key] = value
            config.set_keys.add(key)
        else:
            config.per_solver.setdefault(scope, {})[key] = value
            config.set_scoped.add((scope, key))
    return config


def check_settings(config: Config) -> None:
    """One-line errors for an unknown device or dtype."""
    if not DEVICE.fullmatch(config.device):
        raise PdesolveError(f"unknown device {config.device!r} (use cpu or cuda)")
    if config.dtype not in DTYPES:
        raise PdesolveError(f"unknown dtype {config.dtype!r} (use float32 or float64)")


def from_options(device: str, dtype: str, seed: int, options: dict[str, Any]) -> Config:
    """The Python API's keywords: ``key=value`` like ``--set key=value``, ``NAME={key: value}`` like
    ``--set NAME.key=value`` (values are checked against the options' types as the command line's are)."""
    config = Config(device=device, dtype=dtype, seed=seed)
    check_settings(config)
    for key, value in options.items():
        if isinstance(value, dict):
            config.per_solver[key] = _table(value, f"{key}={value!r}")
            continue
        try:
            config.common[key] = _text(value)
        except ValueError:
            raise PdesolveError(f"{key}={value!r}: give a number, string or boolean, or NAME={{key: value}}") from None
        config.set_keys.add(key)
    return config


def check_device(device: str) -> None:
    """One-line error for ``--device cuda`` on a machine without CUDA."""
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise PdesolveError(f"--device {device}: CUDA is not available on this machine (torch {torch.__version__})")
