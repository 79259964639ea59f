"""Ctrl-C and SIGTERM: both end a run through ``KeyboardInterrupt``, so every family saves its final checkpoint.

SIGTERM (a batch scheduler's time limit) raises :class:`Terminated`, a ``KeyboardInterrupt``, while
:func:`sigterm_raises` is active (the command line; exit 143). :func:`deferred` holds both signals back over a
block that must not be cut in half (one training step), so the state a checkpoint saves is a step boundary and
a resumed run is bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C."""


def _terminate(signum: int, frame: Any) -> NoReturn:
    raise Terminated


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block SIGTERM raises :class:`Terminated` (signal handlers belong to the main thread)."""
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def deferred() -> Iterator[None]:
    """Run the block whole: SIGINT/SIGTERM arriving inside it are delivered (to the handlers in place before)
    when it ends."""
    if not _main_thread():
        yield
        return
    caught: list[int] = []
    previous = {number: signal.getsignal(number) for number in SIGNALS}
    for number in SIGNALS:
        signal.signal(number, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if caught:
            handler = previous[caught[0]]
            if callable(handler):
                handler(caught[0], None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), caught[0])
