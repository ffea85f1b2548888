"""Base class of recgen's neural recommenders: a torch module trained by :class:`recgen.training.Trainer`.

A subclass provides ``build_module(n_items)``, ``train_step(batch, ctx)`` and ``forward_scores(batch)``
(and ``encode_batch`` / ``item_embeddings`` where it has them); this class does the rest: device and
seed handling, seeded initialisation, the trainer call, chunked scoring, save / load of the module's
``state_dict`` as numpy arrays, and the training history in the artifact.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from recgen.data.dataset import EvalSet
from recgen.data.interactions import Interactions
from recgen.errors import ConfigError
from recgen.models.base import Recommender, as_rows
from recgen.training import Batch, Callback, StepContext, Trainer, TrainingConfig, build_optimizer
from recgen.training.config import SEED_INIT, derived_seed, require

log = logging.getLogger(__name__)

#: rows scored per forward pass in ``score`` / ``encode``
SCORE_CHUNK = 2048


def resolve_device(name: str) -> torch.device:
    """``"auto"`` → cuda when available, else cpu; other names as given (checked)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device={name!r} but CUDA is not available here; use device=auto or device=cpu.")
    return dev


def validate_autoencoder_shape(cfg: Any) -> None:
    """The checks every dense autoencoder config shares: ``hidden_dims``, ``latent_dim`` and ``dropout``.

    The dropout example in the message is the config's own default.
    """
    require(all(d >= 1 for d in cfg.hidden_dims), "hidden_dims", cfg.hidden_dims, "use positive sizes, e.g. 600.")
    require(cfg.latent_dim >= 1, "latent_dim", cfg.latent_dim, "use a positive size, e.g. 200.")
    default = type(cfg).__dataclass_fields__["dropout"].default
    require(0.0 <= cfg.dropout < 1.0, "dropout", cfg.dropout, f"use a rate in [0, 1), e.g. {default}.")


class NeuralRecommender(Recommender):
    """A recommender whose learned state is one ``torch.nn.Module`` (``self.module_``).

    ``fit(train, validation=None, *, resume=False, callbacks=())``: with ``validation`` the trainer
    validates every ``eval_every`` epochs and keeps the best weights; ``resume=True`` continues an
    interrupted run from ``checkpoint_dir``. After fit: ``history_`` (per-epoch dicts), ``best_epoch_``.
    """

    config_cls: type[TrainingConfig]

    # ------------------------------------------------------------------ subclass API
    @abstractmethod
    def build_module(self, n_items: int) -> nn.Module:
        """A freshly constructed module for ``n_items`` items (initialised by :meth:`init_module`)."""

    def init_module(self, module: nn.Module, generator: torch.Generator) -> None:
        """Initialise ``module``'s parameters from ``generator`` (default: keep torch's own init)."""

    @abstractmethod
    def train_step(self, batch: Batch, ctx: StepContext) -> torch.Tensor | Mapping[str, Any]:
        """Loss of one batch (the trainer backpropagates it), or a dict of logged values with ``"loss"``."""

    @abstractmethod
    def forward_scores(self, batch: Batch) -> torch.Tensor:
        """Scores (B, n_items) of a batch of histories, in eval mode (no noise)."""

    def encode_batch(self, batch: Batch) -> torch.Tensor:
        """Latent user representations (B, d) of a batch of histories."""
        raise NotImplementedError(f"{type(self).__name__} has no latent user representation.")

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """One optimiser over all parameters, as ``config.optimizer`` / ``lr`` / ``weight_decay`` say."""
        return {"main": build_optimizer(self.module_.parameters(), self.config)}

    def training_matrix(self, train: Interactions) -> sp.csr_matrix:
        """The matrix whose rows the trainer batches (users; an item-based model returns the transpose)."""
        return train.matrix

    # ------------------------------------------------------------------ fit
    def fit(self, train: Interactions, validation: EvalSet | None = None, *, resume: bool = False,
            callbacks: Sequence[Callback] = ()) -> NeuralRecommender:
        """Train on ``train``; ``validation`` selects the epoch; ``resume`` continues from ``checkpoint_dir``."""
        self._fit_options = {"resume": resume, "callbacks": tuple(callbacks)}
        try:
            super().fit(train, validation)
        finally:
            del self._fit_options
        return self

    def _fit(self, train: Interactions, validation: EvalSet | None) -> None:
        opts = getattr(self, "_fit_options", {"resume": False, "callbacks": ()})
        self.device_ = resolve_device(self.config.device)
        self._build(train.n_items)
        trainer = Trainer(self.config, callbacks=opts["callbacks"])
        if validation is not None:
            validation = validation.nonempty()
        trainer.fit(self, self.training_matrix(train), validation, resume=opts["resume"])
        self.history_: list[dict[str, Any]] = trainer.history
        self.best_epoch_: int | None = trainer.best_epoch
        self._after_fit(trainer)  # the trainer (optimiser state, best-state copy) is not kept on the model

    def _after_fit(self, trainer: Trainer) -> None:
        """Hook for learned values derived from the run (e.g. the selected KL weight)."""

    def _build(self, n_items: int) -> None:
        module = self.build_module(n_items)
        self.init_module(module, torch.Generator().manual_seed(derived_seed(self.config.seed, SEED_INIT)))
        self.module_ = module.to(self.device_)

    # ------------------------------------------------------------------ inference
    def _batches(self, rows: sp.csr_matrix) -> Any:
        for start in range(0, rows.shape[0], SCORE_CHUNK):
            yield Batch.from_csr(rows, slice(start, start + SCORE_CHUNK), self.device_)

    def _score(self, rows: sp.csr_matrix, user_rows: np.ndarray | None) -> np.ndarray:
        self.module_.eval()
        out = np.empty((rows.shape[0], rows.shape[1]), dtype=np.float32)
        for start, batch in zip(range(0, rows.shape[0], SCORE_CHUNK), self._batches(rows), strict=True):
            out[start:start + batch.size] = self.forward_scores(batch).float().cpu().numpy()
        return out

    def encode(self, rows: Any) -> np.ndarray:
        """Latent representations (n_rows, d) of users given by their histories (deterministic, no noise)."""
        self._check_fitted()
        x = as_rows(rows, self.n_items)
        self.module_.eval()
        with torch.inference_mode():
            parts = [self.encode_batch(b).float().cpu().numpy() for b in self._batches(x)]
        return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)

    def item_embeddings(self) -> np.ndarray:
        """Item vectors (n_items, d) of the decoder's output layer (its weight rows)."""
        self._check_fitted()
        raise NotImplementedError(f"{type(self).__name__} defines no item embeddings.")

    # ------------------------------------------------------------------ persistence
    def _state(self) -> dict[str, np.ndarray]:
        return {f"module.{k}": v.detach().cpu().numpy() for k, v in self.module_.state_dict().items()}

    def _load_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.device_ = resolve_device(self.config.device)
        self._build(len(self.items_))
        state = {k[len("module."):]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith("module.")}
        self.module_.load_state_dict(state)
        self.module_.eval()

    def _extra_meta(self) -> dict[str, Any]:
        return {"history": getattr(self, "history_", []), "best_epoch": getattr(self, "best_epoch_", None)}

    def _load_extra_meta(self, meta: dict[str, Any]) -> None:
        self.history_ = list(meta.get("history", []))
        self.best_epoch_ = meta.get("best_epoch")
