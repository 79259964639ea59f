"""Claiming a run folder: one run per folder, and nothing a user wrote overwritten.

A command claims its ``--out`` folder before it writes anything: it creates the marker file ``.pdesolve-run``
(naming the command) by an exclusive link, so two runs racing for one new folder cannot both win, and holds an
exclusive ``flock`` on it while it runs (the kernel drops the lock when the process dies, even by SIGKILL, so a
killed run leaves no stale lock). A second run into a folder in use is refused; so is a run into a non-empty
folder pdesolve did not create, and into one that holds an earlier pdesolve run unless the command may re-enter
it (``reenter``: a data set completing its shards, ``train --resume`` or ``--force``). A run that fails before it
wrote anything removes the folder it created (no empty folders after a failed validation).
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pdesolve.errors import PdesolveError
from pdesolve.io.run_folder import umask

MARKER = ".pdesolve-run"
Reenter = Callable[[dict[str, Any]], str | None]  # the earlier run's marker -> why it may not be re-entered, or None


@dataclass
class Claim:
    """A folder this process holds: ``created`` when the claim made the folder itself."""

    path: Path
    created: bool
    descriptor: int

    def release(self, failed: bool = False) -> None:
        """Drop the lock; after a failure remove what the claim made if nothing else was written."""
        if failed:
            leftover = [p for p in self.path.iterdir() if p.name != MARKER]
            if not leftover:
                (self.path / MARKER).unlink(missing_ok=True)
                if self.created:
                    with suppress(OSError):
                        self.path.rmdir()
        os.close(self.descriptor)


def _create(folder: Path) -> bool:
    """Make ``folder`` (and its parents); True when it did not exist. One-line error when it cannot be made."""
    if folder.exists() and not folder.is_dir():
        raise PdesolveError(f"--out {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True)
        return True
    except FileExistsError:
        return False
    except OSError as error:
        raise PdesolveError(f"--out {folder} cannot be created: {error.strerror or error}") from None


def _lock(descriptor: int, folder: Path) -> None:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise PdesolveError(f"--out {folder} is in use by another pdesolve run; choose another folder") from None


def claim(folder: str | Path, command: str, reenter: Reenter | None = None) -> Claim:
    """Claim ``folder`` for ``command`` (see the module docstring); one-line :class:`PdesolveError` when refused."""
    folder = Path(folder)
    try:
        return _claim(folder, command, reenter)
    except OSError as error:  # a full disk, a read-only folder
        raise PdesolveError(f"--out {folder} cannot be written: {error.strerror or error}") from None


def _claim(folder: Path, command: str, reenter: Reenter | None) -> Claim:
    created = _create(folder)
    marker = folder / MARKER
    handle, staged = tempfile.mkstemp(prefix=f"{MARKER}.", dir=folder)
    try:
        _lock(handle, folder)
        os.fchmod(handle, 0o666 & ~umask())
        foreign = sorted(p.name for p in folder.iterdir() if not p.name.startswith(MARKER))
        if not marker.exists() and foreign:
            os.close(handle)
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise PdesolveError(
                f"--out {folder} already holds files pdesolve did not write ({shown}); choose another folder"
            )
        os.write(handle, json.dumps({"command": command, "pid": os.getpid()}).encode())
        try:
            os.link(staged, marker)  # exclusive: fails when another run made the marker first
            return Claim(folder, created, handle)
        except FileExistsError:
            os.close(handle)
    finally:
        Path(staged).unlink(missing_ok=True)
    return _reenter(folder, command, reenter)


def _reenter(folder: Path, command: str, reenter: Reenter | None) -> Claim:
    """Take an existing pdesolve folder: refused while in use, or unless ``reenter`` accepts the earlier run."""
    marker = folder / MARKER
    descriptor = os.open(marker, os.O_RDWR)
    _lock(descriptor, folder)
    try:
        previous = json.loads(marker.read_text(encoding="utf-8") or "{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        previous = {}
    reason = "" if reenter is None else reenter(previous)
    if reason is not None:
        os.close(descriptor)
        state = "a finished" if (folder / "metrics.json").exists() else "an unfinished"
        detail = f" ({reason})" if reason else ""
        raise PdesolveError(
            f"--out {folder} already holds {state} pdesolve {previous.get('command', '?')} run{detail}; "
            "choose another folder"
        )
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, json.dumps({"command": command, "pid": os.getpid()}).encode(), 0)
    return Claim(folder, False, descriptor)


@contextmanager
def claimed(folder: str | Path, command: str, reenter: Reenter | None = None) -> Iterator[Path]:
    """``with claimed(out, "solve") as folder:`` the folder is this run's until the block ends."""
    held = claim(folder, command, reenter)
    try:
        yield held.path
    except BaseException:
        held.release(failed=True)
        raise
    held.release()
