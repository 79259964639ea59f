"""The callbacks of :class:`~pdesolve.training.loop.Trainer`: keep-best, skip-unconverged, checkpoint, progress,
early stopping, a time limit and the divergence test."""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path
from typing import Any

import torch

from pdesolve.divergence import DivergenceMonitor
from pdesolve.errors import PdesolveError
from pdesolve.io import checkpoint as checkpoints
from pdesolve.report.progress import progress_bar
from pdesolve.training.loop import Callback, Run, Step


class KeepBest(Callback):
    """End with the parameters of the epoch of lowest ``metric``, so that a late spike (an Adam overshoot) does not
    decide the result; ``run.kept_epoch`` names that epoch (0-based)."""

    def __init__(self, metric: str = "train_loss") -> None:
        self.metric = metric
        self.best, self.epoch, self.parameters = math.inf, None, None

    def on_epoch_end(self, run: Run) -> None:
        value = run.last(self.metric)
        if value < self.best:
            self.best, self.epoch = value, run.epoch - 1
            self.parameters = copy.deepcopy(run.model.state_dict())

    def on_end(self, run: Run) -> None:
        if self.parameters is not None:
            run.model.load_state_dict(self.parameters)
            run.kept_epoch = self.epoch

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "epoch": self.epoch, "parameters": self.parameters}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.epoch = state.get("best", math.inf), state.get("epoch")
        self.parameters = state.get("parameters")


class SkipUnconverged(Callback):
    """Leave the samples whose inner solve stopped unconverged out of the gradient: an implicit-function backward
    is the derivative of a converged solution only (the constrained operators' Levenberg–Marquardt layer)."""

    def keep(self, run: Run, step: Step) -> torch.Tensor | None:
        return step.converged


class EarlyStopping(Callback):
    """Stop when ``metric`` has not fallen below its best by more than ``min_delta`` for ``patience`` epochs."""

    def __init__(self, patience: int, metric: str = "train_loss", min_delta: float = 0.0) -> None:
        if patience < 1:
            raise PdesolveError(f"early stopping needs a patience of at least 1 epoch, not {patience}")
        self.patience, self.metric, self.min_delta = patience, metric, min_delta
        self.best, self.since = math.inf, 0

    def on_epoch_end(self, run: Run) -> None:
        value = run.last(self.metric)
        if value < self.best - self.min_delta:
            self.best, self.since = value, 0
        else:
            self.since += 1

    def should_stop(self, run: Run) -> bool:
        return self.since >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "since": self.since}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.since = state.get("best", math.inf), state.get("since", 0)


class TimeLimit(Callback):
    """Stop once ``seconds`` have passed since ``start`` (a ``time.perf_counter()`` reading; default: the run's
    start)."""

    def __init__(self, seconds: float, start: float | None = None) -> None:
        self.seconds, self.start = seconds, start

    def on_start(self, run: Run) -> None:
        if self.start is None:
            self.start = time.perf_counter()

    def should_stop(self, run: Run) -> bool:
        return time.perf_counter() - self.start > self.seconds


class Divergence(Callback):
    """Stop with a one-line :class:`~pdesolve.errors.DivergenceError` when the loss turns non-finite or grows by
    orders of magnitude over the first batch's (a resumed run: over its first epoch's)."""

    def __init__(self, what: str, hint: str) -> None:
        self.what, self.hint = what, hint
        self.monitor = DivergenceMonitor(what, hint)

    def on_start(self, run: Run) -> None:
        first = run.history.get("train_loss", [None])[0]
        self.monitor = DivergenceMonitor(self.what, self.hint, start=first)

    def on_batch_end(self, run: Run, loss: torch.Tensor) -> None:
        if self.monitor.start is None:  # growth is measured from the untrained model's first batch
            self.monitor.update(float(loss), "the first batch")

    def on_epoch_end(self, run: Run) -> None:
        self.monitor.update(run.last("train_loss"), f"{run.unit} {run.epoch}")


class Progress(Callback):
    """A progress bar over the epochs (:func:`pdesolve.report.progress.progress_bar`), showing ``shown``:
    label -> metric."""

    def __init__(self, enabled: bool, desc: str, shown: dict[str, str] | None = None) -> None:
        self.enabled, self.desc = enabled, desc
        self.shown = {"loss": "train_loss", "test": "test_error"} if shown is None else shown
        self.bar = None

    def on_start(self, run: Run) -> None:
        self.bar = progress_bar(self.enabled, total=run.epochs, initial=run.epoch, desc=self.desc)

    def on_epoch_end(self, run: Run) -> None:
        self.bar.update()
        figures = {label: f"{run.last(name):.3e}" for label, name in self.shown.items() if name in run.history}
        self.bar.set_postfix(figures, refresh=False)

    def on_end(self, run: Run) -> None:
        self.bar.close()

    on_interrupt = on_end


class Checkpoint(Callback):
    """Keep the run in ``path`` (through :mod:`pdesolve.io.checkpoint`, under ``head``, which says what the file is
    for): every ``every`` epochs, after the last and, holding the last whole epoch, on Ctrl-C or SIGTERM.
    ``resume`` continues from the file when it exists, refusing one made for another problem or shape (one
    line). ``writes`` False (the ranks other than 0) reads but never writes."""

    def __init__(
        self,
        path: str | Path,
        head: dict[str, Any],
        every: int = 10,
        resume: bool = False,
        writes: bool = True,
        device: str | torch.device = "cpu",
    ) -> None:
        self.path, self.head, self.every = Path(path), head, every
        self.resume, self.writes, self.device = resume, writes, device
        self.finished: dict[str, Any] | None = None  # the state after the last whole epoch
        self.saved_epoch: int | None = None

    def on_start(self, run: Run) -> None:
        if self.resume and self.path.is_file():
            what = "--resume: training checkpoint"
            state = checkpoints.load(self.path, self.head["kind"], self.head, self.device, what=what)
            try:
                run.load_state_dict(state)
            except (KeyError, TypeError, ValueError, RuntimeError) as error:
                raise PdesolveError(f"{what} {self.path} does not hold this run's training state ({error})") from None
            self.saved_epoch = run.epoch
        if self.writes:
            self.finished = run.state_dict()

    def on_epoch_end(self, run: Run) -> None:
        if not self.writes:
            return
        self.finished = run.state_dict()
        if self.every > 0 and run.epoch % self.every == 0:
            self._save()

    def on_end(self, run: Run) -> None:
        if self.writes and run.epoch > 0 and self.saved_epoch != run.epoch:
            self._save()

    def on_interrupt(self, run: Run) -> None:
        if self.writes and self.finished is not None and self.finished["run"]["epoch"] > 0:
            self._save()

    def _save(self) -> None:
        checkpoints.save(self.path, self.head, self.finished)
        self.saved_epoch = self.finished["run"]["epoch"]
