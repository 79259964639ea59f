"""Progress of long runs, one mechanism for every solver: a live bar on a terminal or in a notebook, a line
every few seconds when stderr is piped to a file or another program (where a bar redrawn with ``\\r`` would
pile up on one line).
"""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

from tqdm import tqdm
from tqdm.auto import tqdm as auto_tqdm

ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
PIPED_EVERY_S = 5.0  # seconds between two lines on a pipe; runs shorter than this print nothing


class _Lines:
    """A stream for tqdm that writes each redraw as a line of its own (and drops the blank erasures)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        line = ESCAPE.sub("", text.replace("\r", "")).strip()  # no cursor moves of nested bars
        if line:
            self.stream.write(line + "\n")

    def flush(self) -> None:
        self.stream.flush()


def interactive(stream: TextIO) -> bool:
    """A terminal, or a Jupyter kernel (whose streams are not ttys but render a live bar)."""
    return "ipykernel" in sys.modules or bool(getattr(stream, "isatty", lambda: False)())


def progress_bar(enabled: bool, **options: Any) -> tqdm:
    """``tqdm(**options)``: quiet unless ``enabled``; live where :func:`interactive`, else a line every
    ``PIPED_EVERY_S`` seconds (the first after that long)."""
    if not enabled:
        return tqdm(disable=True, **options)
    stream = sys.stderr
    if interactive(stream):
        return auto_tqdm(file=stream, **options)
    options.setdefault("leave", False)
    return tqdm(
        file=_Lines(stream), mininterval=PIPED_EVERY_S, delay=PIPED_EVERY_S, ascii=True, dynamic_ncols=False, **options
    )
