"""The training fields every neural model's config inherits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

from recgen.errors import ConfigError

_METRIC = re.compile(r"^[a-z_]+@\d+$")


@dataclass(frozen=True)
class TrainingConfig:
    """Options of :class:`recgen.training.Trainer`; a model's config subclasses this (frozen dataclass).

    A subclass may redeclare a field to change its default (``epochs: int = 200``).
    """

    #: passes over the training rows
    epochs: int = 100
    #: rows (users) per optimiser update
    batch_size: int = 500
    #: learning rate of the default optimiser
    lr: float = 1e-3
    #: L2 weight decay of the optimiser (Adam adds ``weight_decay · w`` to the gradient; AdamW decouples it)
    weight_decay: float = 0.0
    #: optimiser built by the default ``configure_optimizers``
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    #: per-epoch learning-rate schedule: constant, cosine decay to 0 over ``epochs``, or ``lr · lr_gamma^epoch``
    lr_schedule: Literal["constant", "cosine", "exponential"] = "constant"
    #: decay factor per epoch of the exponential schedule
    lr_gamma: float = 0.95
    #: stop after this many validations without improvement (None: never stop early)
    patience: int | None = None
    #: validate every this many epochs (and after the last)
    eval_every: int = 1
    #: validation metric to maximise, as named in ``EvalResult.summary`` (e.g. ndcg@20, recall@20)
    eval_metric: str = "ndcg@20"
    #: after training with validation, load the weights of the best validated epoch
    restore_best: bool = True
    #: seed of every random draw (initialisation, shuffling, dropout, sampling)
    seed: int = 0
    #: "auto" (cuda when available, else cpu), "cpu", "cuda", "cuda:1", "mps"
    device: str = "auto"
    #: show a progress bar with the live loss and metric
    show_progress: bool = True
    #: torch intra-op threads during fit (restored afterwards); None keeps torch's setting
    num_threads: int | None = None
    #: write a resumable checkpoint here after every epoch (None: no checkpoints)
    checkpoint_dir: str | None = None

    def validate(self) -> None:
        require(self.epochs >= 1, "epochs", self.epochs, "pass a positive number of epochs, e.g. epochs=100.")
        require(self.batch_size >= 1, "batch_size", self.batch_size, "pass a positive batch size, e.g. 500.")
        require(self.lr > 0, "lr", self.lr, "pass a positive learning rate, e.g. lr=0.001.")
        require(self.weight_decay >= 0, "weight_decay", self.weight_decay, "pass 0 or a positive value.")
        require(0 < self.lr_gamma <= 1, "lr_gamma", self.lr_gamma, "pass a factor in (0, 1], e.g. 0.95.")
        require(self.patience is None or self.patience >= 1, "patience", self.patience,
                "pass a positive number of validations, or none to disable early stopping.")
        require(self.eval_every >= 1, "eval_every", self.eval_every, "pass a positive number of epochs.")
        require(bool(_METRIC.match(self.eval_metric)), "eval_metric", self.eval_metric,
                "write it as <metric>@<k>, e.g. ndcg@20 or recall@50.")
        require(self.num_threads is None or self.num_threads >= 1, "num_threads", self.num_threads,
                "pass a positive thread count or none.")
        require(self.device == "auto" or self.device.split(":")[0] in ("cpu", "cuda", "mps"), "device",
                self.device, "use auto, cpu, cuda, cuda:<n> or mps.")

    @property
    def eval_k(self) -> int:
        return int(self.eval_metric.rsplit("@", 1)[1])


def require(cond: bool, name: str, value: object, fix: str) -> None:
    """Raise :class:`ConfigError` naming ``name`` and ``value`` unless ``cond`` (as recgen.models.config)."""
    if not cond:
        raise ConfigError(f"{name}={value!r} is invalid; {fix}")


def derived_seed(seed: int, stream: int) -> int:
    """An independent 63-bit seed for random stream ``stream`` of a run seeded with ``seed``."""
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(stream)]).generate_state(1, np.uint64)[0]
               & np.uint64(2**63 - 1))


#: stream numbers for :func:`derived_seed`
SEED_INIT, SEED_SHUFFLE, SEED_NOISE = 0, 1, 2
