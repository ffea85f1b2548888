"""The one training loop of recgen's neural models (see the package docstring for the contract)."""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from recgen.data.dataset import EvalSet
from recgen.errors import ConfigError
from recgen.training.callbacks import Callback
from recgen.training.checkpoint import load_checkpoint, load_optimizer_parts, optimizer_parts, save_checkpoint
from recgen.training.config import SEED_NOISE, SEED_SHUFFLE, TrainingConfig, derived_seed

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """A batch of CSR rows on the model's device (never densified unless :meth:`dense` is called).

    ``index``: the rows' indices in the batched matrix (users for user-based models), ``offsets``
    (B + 1), ``cols`` / ``vals`` / ``row_ids`` (one entry per nonzero: column, value, batch row).
    """

    index: torch.Tensor
    offsets: torch.Tensor
    cols: torch.Tensor
    vals: torch.Tensor
    row_ids: torch.Tensor
    n_cols: int

    @property
    def size(self) -> int:
        return int(self.index.shape[0])

    def dense(self) -> torch.Tensor:
        """The batch as a dense (B, n_cols) tensor (only when a model truly needs it)."""
        out = torch.zeros(self.size, self.n_cols, dtype=self.vals.dtype, device=self.vals.device)
        out[self.row_ids, self.cols] = self.vals
        return out

    @classmethod
    def from_csr(cls, matrix: sp.csr_matrix, index: np.ndarray | slice, device: torch.device | str = "cpu") -> Batch:
        """Rows ``index`` (an index array or a slice) of ``matrix`` as a batch on ``device``."""
        if isinstance(index, slice):
            start, stop, _ = index.indices(matrix.shape[0])
            sub, idx = matrix[start:stop], np.arange(start, stop, dtype=np.int64)
        else:
            idx = np.asarray(index, dtype=np.int64)
            sub = matrix[idx]
        counts = np.diff(sub.indptr)
        dev = torch.device(device)

        def put(a: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a)).to(device=dev, dtype=dtype, non_blocking=True)

        return cls(index=put(idx, torch.int64), offsets=put(sub.indptr, torch.int64),
                   cols=put(sub.indices, torch.int64), vals=put(sub.data, torch.float32),
                   row_ids=put(np.repeat(np.arange(len(counts), dtype=np.int64), counts), torch.int64),
                   n_cols=int(matrix.shape[1]))


@dataclass
class StepContext:
    """What a ``train_step`` may use besides its batch."""

    epoch: int                                  #: 0-based epoch being trained
    step: int                                   #: optimiser updates done before this batch, over the run
    generator: torch.Generator                  #: the only source of noise (dropout, sampling), on the device
    optimizers: dict[str, torch.optim.Optimizer]
    config: TrainingConfig


@runtime_checkable
class Trainable(Protocol):
    """What a model gives the trainer: its module, its optimisers and one training step."""

    module_: nn.Module
    device_: torch.device

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]: ...

    def train_step(self, batch: Batch, ctx: StepContext) -> torch.Tensor | Mapping[str, Any]: ...

    def score(self, rows: Any, *, user_rows: np.ndarray | None = None) -> np.ndarray: ...


def build_optimizer(params: Any, config: TrainingConfig, lr: float | None = None,
                    weight_decay: float | None = None) -> torch.optim.Optimizer:
    """The optimiser named by ``config.optimizer`` with its lr and weight decay (fused kernels on CPU/CUDA);
    ``lr`` / ``weight_decay`` replace the config's for this optimiser (e.g. a GAN's second network)."""
    lr = config.lr if lr is None else lr
    weight_decay = config.weight_decay if weight_decay is None else weight_decay
    params = list(params)
    tensors = [p for g in params for p in (g["params"] if isinstance(g, dict) else [g])]
    # the fused kernels (CPU and CUDA) are ~5x faster than the per-tensor loop on big output layers
    fused = bool(tensors) and all(t.device.type in ("cpu", "cuda") and t.is_floating_point() for t in tensors)
    kind = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}[config.optimizer]
    return kind(params, lr=lr, weight_decay=weight_decay, fused=fused or None)


def lr_factor(config: TrainingConfig, epoch: int) -> float:
    """Multiplier of every group's initial lr during 0-based ``epoch``."""
    if config.lr_schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * epoch / config.epochs))
    if config.lr_schedule == "exponential":
        return config.lr_gamma ** epoch
    return 1.0


def _state_of(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


class Trainer:
    """Epochs over shuffled row batches, validation, early stopping, best-state restore, checkpoints.

    State after :meth:`fit`: ``epoch`` (epochs completed), ``step`` (updates), ``history`` (one dict
    per epoch), ``best_epoch`` / ``best_metric`` (None without validation).
    """

    def __init__(self, config: TrainingConfig, callbacks: Sequence[Callback] = ()) -> None:
        self.config = config
        self.callbacks = list(callbacks)
        self.epoch = 0
        self.step = 0
        self.history: list[dict[str, Any]] = []
        self.best_epoch: int | None = None
        self.best_metric: float | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.bad_evals = 0
        self.stopped_early = False
        self.should_stop = False

    # ------------------------------------------------------------------ public
    def fit(self, model: Trainable, matrix: sp.csr_matrix, validation: EvalSet | None = None, *,
            resume: bool = False) -> list[dict[str, Any]]:
        """Train ``model.module_`` on the rows of ``matrix``; returns the history (also ``self.history``).

        ``resume=True`` continues from ``config.checkpoint_dir`` when it holds a checkpoint (else starts
        afresh) and ends with the same weights as an uninterrupted run.
        """
        cfg = self.config
        if resume and cfg.checkpoint_dir is None:
            raise ConfigError("resume=True needs checkpoint_dir; set checkpoint_dir=<directory> (the one the "
                              "interrupted run wrote to).")
        threads = torch.get_num_threads()
        if cfg.num_threads is not None:
            torch.set_num_threads(cfg.num_threads)
        try:
            return self._fit(model, sp.csr_matrix(matrix), validation, resume)
        finally:
            torch.set_num_threads(threads)

    # ------------------------------------------------------------------ loop
    def _fit(self, model: Trainable, matrix: sp.csr_matrix, validation: EvalSet | None,
             resume: bool) -> list[dict[str, Any]]:
        cfg = self.config
        device = model.device_
        self.optimizers = model.configure_optimizers()
        for opt in self.optimizers.values():
            for g in opt.param_groups:
                g.setdefault("initial_lr", g["lr"])
        self.shuffle_gen = torch.Generator().manual_seed(derived_seed(cfg.seed, SEED_SHUFFLE))
        self.noise_gen = torch.Generator(device=device).manual_seed(derived_seed(cfg.seed, SEED_NOISE))
        if resume:
            self._restore(model)
        n_rows = matrix.shape[0]
        n_batches = max(1, math.ceil(n_rows / cfg.batch_size))
        for cb in self.callbacks:
            cb.on_train_begin(self)
        progress = _progress(cfg.show_progress)
        with progress:
            bar = progress.add_task(type(model).__name__, total=cfg.epochs, completed=self.epoch)
            while self.epoch < cfg.epochs and not self.stopped_early and not self.should_stop:
                record = self._train_epoch(model, matrix, n_batches, progress, bar)
                if validation is not None and (self.epoch % cfg.eval_every == 0 or self.epoch == cfg.epochs):
                    self._validate(model, validation, record)
                self.history.append(record)
                log.info("epoch %s", {k: round(v, 5) if isinstance(v, float) else v for k, v in record.items()})
                if cfg.checkpoint_dir is not None:
                    self._checkpoint(model)
                for cb in self.callbacks:
                    cb.on_epoch_end(self, record)
                progress.update(bar, completed=self.epoch, description=_describe(record, cfg.eval_metric))
        if validation is not None and cfg.restore_best and self.best_state is not None:
            model.module_.load_state_dict(self.best_state)
        model.module_.eval()
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history

    def _train_epoch(self, model: Trainable, matrix: sp.csr_matrix, n_batches: int, progress: Any,
                     bar: Any) -> dict[str, Any]:
        cfg = self.config
        factor = lr_factor(cfg, self.epoch)
        for opt in self.optimizers.values():
            for g in opt.param_groups:
                g["lr"] = g["initial_lr"] * factor
        model.module_.train()
        ctx = StepContext(self.epoch, self.step, self.noise_gen, self.optimizers, cfg)
        # the epoch's time includes on_epoch_start (RecVAE runs its encoder passes there)
        t0, c0 = time.perf_counter(), time.process_time()
        if hasattr(model, "on_epoch_start"):
            model.on_epoch_start(ctx)
        perm = torch.randperm(matrix.shape[0], generator=self.shuffle_gen).numpy()
        sums: dict[str, torch.Tensor | float] = {}
        seen = 0
        for b, start in enumerate(range(0, len(perm), cfg.batch_size)):
            batch = Batch.from_csr(matrix, np.sort(perm[start:start + cfg.batch_size]), model.device_)
            ctx.step = self.step
            logs = self._apply(model.train_step(batch, ctx))
            self.step += 1
            seen += batch.size
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + v * batch.size
            if b % 4 == 3:
                progress.update(bar, completed=self.epoch + (b + 1) / n_batches)
        record: dict[str, Any] = {"epoch": self.epoch + 1, "step": self.step,
                                  "lr": self.optimizers[next(iter(self.optimizers))].param_groups[0]["lr"]}
        for k, v in sums.items():
            record[k] = float(v) / max(seen, 1)
        if "loss" in record and not math.isfinite(record["loss"]):
            raise ConfigError(f"the training loss became {record['loss']} in epoch {self.epoch + 1} with "
                              f"lr={cfg.lr}; lower lr (e.g. lr={cfg.lr / 10:g}) or check the input values.")
        record["seconds"] = time.perf_counter() - t0
        record["cpu_seconds"] = time.process_time() - c0  # all threads of the process; robust to a busy box
        self.epoch += 1
        return record

    def _apply(self, out: torch.Tensor | Mapping[str, Any]) -> dict[str, torch.Tensor | float]:
        """Backpropagate a returned loss (automatic optimisation) and return the values to log."""
        if isinstance(out, torch.Tensor):
            out = {"loss": out}
        loss = out.get("loss")
        if isinstance(loss, torch.Tensor) and loss.requires_grad:
            for opt in self.optimizers.values():
                opt.zero_grad(set_to_none=True)
            loss.backward()
            for opt in self.optimizers.values():
                opt.step()
        return {k: v.detach() if isinstance(v, torch.Tensor) else float(v) for k, v in out.items()}

    def _validate(self, model: Trainable, validation: EvalSet, record: dict[str, Any]) -> None:
        from recgen.evaluation import evaluate

        cfg = self.config
        t0, c0 = time.perf_counter(), time.process_time()
        result = evaluate(model, validation, ks=(cfg.eval_k,))
        summary = result.summary
        if cfg.eval_metric not in summary:
            raise ConfigError(f"eval_metric={cfg.eval_metric!r} is not computed by recgen.evaluation; "
                              f"choose one of {sorted(summary)}.")
        metric = float(summary[cfg.eval_metric])
        record[cfg.eval_metric] = metric
        record["eval_seconds"] = time.perf_counter() - t0
        record["eval_cpu_seconds"] = time.process_time() - c0
        if self.best_metric is None or metric > self.best_metric:
            self.best_metric, self.best_epoch, self.bad_evals = metric, self.epoch, 0
            self.best_state = _state_of(model.module_)
        else:
            self.bad_evals += 1
            if cfg.patience is not None and self.bad_evals >= cfg.patience:
                self.stopped_early = True
                log.info("early stop after epoch %d: no %s improvement for %d validations (best %.5f at epoch %d)",
                         self.epoch, cfg.eval_metric, self.bad_evals, self.best_metric, self.best_epoch)

    # ------------------------------------------------------------------ checkpoints
    def _checkpoint(self, model: Trainable) -> None:
        tensors = {f"module.{k}": v for k, v in model.module_.state_dict().items()}
        if self.best_state is not None:
            tensors.update({f"best.{k}": v for k, v in self.best_state.items()})
        optim_meta = {}
        for name, opt in self.optimizers.items():
            t, m = optimizer_parts(name, opt)
            tensors.update(t)
            optim_meta[name] = m
        tensors["rng.shuffle"] = self.shuffle_gen.get_state()
        tensors["rng.noise"] = self.noise_gen.get_state()
        meta = {"epoch": self.epoch, "step": self.step, "history": self.history, "best_epoch": self.best_epoch,
                "best_metric": self.best_metric, "bad_evals": self.bad_evals, "stopped_early": self.stopped_early,
                "optimizers": optim_meta, "config": _jsonable(dataclasses.asdict(self.config))}
        save_checkpoint(self.config.checkpoint_dir, tensors, meta)  # type: ignore[arg-type]

    def _restore(self, model: Trainable) -> None:
        loaded = load_checkpoint(self.config.checkpoint_dir)  # type: ignore[arg-type]
        if loaded is None:
            log.info("no checkpoint in %s; starting afresh", self.config.checkpoint_dir)
            return
        tensors, meta = loaded
        now = _jsonable(dataclasses.asdict(self.config))
        changed = sorted(k for k, v in meta["config"].items() if k not in _RESUME_FREE and now.get(k) != v)
        if changed:
            raise ConfigError(
                f"checkpoint in {self.config.checkpoint_dir!r} was written with other values of {changed} "
                f"(then: {[meta['config'][k] for k in changed]}, now: {[now.get(k) for k in changed]}); resume with "
                "the same configuration, or delete the checkpoint to start afresh.")
        device = model.device_
        model.module_.load_state_dict({k[7:]: v.to(device) for k, v in tensors.items() if k.startswith("module.")})
        best = {k[5:]: v.to(device) for k, v in tensors.items() if k.startswith("best.")}
        self.best_state = best or None
        for name, opt in self.optimizers.items():
            if name not in meta["optimizers"]:
                raise ConfigError(f"checkpoint in {self.config.checkpoint_dir!r} has optimisers "
                                  f"{sorted(meta['optimizers'])}, the model builds {sorted(self.optimizers)}; "
                                  "resume with the model and config that wrote it, or delete the checkpoint.")
            load_optimizer_parts(name, opt, tensors, meta["optimizers"][name])
        self.shuffle_gen.set_state(tensors["rng.shuffle"])
        self.noise_gen.set_state(tensors["rng.noise"])
        self.epoch, self.step, self.history = int(meta["epoch"]), int(meta["step"]), list(meta["history"])
        self.best_epoch, self.best_metric = meta["best_epoch"], meta["best_metric"]
        self.bad_evals, self.stopped_early = int(meta["bad_evals"]), bool(meta["stopped_early"])
        log.info("resumed from %s at epoch %d (step %d)", self.config.checkpoint_dir, self.epoch, self.step)


#: options that may change between an interrupted run and its resumption
_RESUME_FREE = frozenset({"epochs", "patience", "show_progress", "num_threads", "checkpoint_dir", "device"})


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def _describe(record: dict[str, Any], metric: str) -> str:
    parts = [f"epoch {record['epoch']}"]
    if "loss" in record:
        parts.append(f"loss {record['loss']:.4g}")
    if metric in record:
        parts.append(f"{metric} {record[metric]:.4f}")
    return " ".join(parts)


def _progress(show: bool) -> Any:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:.1f}/{task.total}"),
                    TimeElapsedColumn(), TimeRemainingColumn(), disable=not show, transient=False)
