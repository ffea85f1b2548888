"""Callback hooks of :class:`recgen.training.Trainer`.

A callback sees the trainer (``trainer.epoch``, ``trainer.step``, ``trainer.history``,
``trainer.best_epoch``...) and may stop training by setting ``trainer.should_stop = True``.
Hooks run after the epoch's checkpoint is written, so an exception in a hook (a kill) loses nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recgen.training.trainer import Trainer


class Callback:
    """Base class: override any of the hooks (each does nothing by default)."""

    def on_train_begin(self, trainer: Trainer) -> None:
        """Before the first epoch (after a resume has restored the trainer's state)."""

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        """After each epoch; ``record`` is the epoch's history entry (loss, metric, seconds...)."""

    def on_train_end(self, trainer: Trainer) -> None:
        """After training (and after the best weights were restored)."""


class LambdaCallback(Callback):
    """A callback from a function ``fn(trainer, record)`` called at every epoch end."""

    def __init__(self, on_epoch_end: Callable[[Trainer, dict[str, Any]], None]) -> None:
        self._fn = on_epoch_end

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        self._fn(trainer, record)


class StopAfter(Callback):
    """Stop training after ``epochs`` epochs in total (e.g. for a time-boxed run that resumes later)."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        if trainer.epoch >= self.epochs:
            trainer.should_stop = True


class TimeBudget(Callback):
    """Stop after the epoch during which ``seconds`` of wall time have passed since the callback was made
    (``None``: no limit). The best validated epoch is still restored; ``hit`` says whether the budget stopped it."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds, self.t0, self.hit = seconds, time.perf_counter(), False

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        if self.seconds is not None and time.perf_counter() - self.t0 >= self.seconds:
            trainer.should_stop = self.hit = True
