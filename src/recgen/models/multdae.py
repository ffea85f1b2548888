"""Mult-DAE: denoising autoencoder with a multinomial likelihood (Liang et al., WWW 2018)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from recgen.models.neural import NeuralRecommender, validate_autoencoder_shape
from recgen.models.registry import register
from recgen.nn.layers import SparseAutoencoder, init_reference_, sparse_dropout, sparse_row_l2_normalize
from recgen.nn.losses import l2_penalty, multinomial_nll
from recgen.training import Batch, StepContext, TrainingConfig
from recgen.training.config import require


@dataclass(frozen=True)
class MultDAEConfig(TrainingConfig):
    """Mult-DAE hyperparameters;
    inherits the training fields (epochs, batch_size, lr, weight_decay, optimizer,
    lr_schedule, lr_gamma, patience, eval_every, eval_metric, restore_best, seed, device, show_progress,
    num_threads, checkpoint_dir) of :class:`recgen.training.TrainingConfig`, documented there."""

    #: encoder hidden layer sizes before the code (the decoder mirrors them); () gives the reference code's
    #: single-layer [n_items → latent_dim → n_items] network
    hidden_dims: tuple[int, ...] = (600,)
    #: size of the (tanh) code
    latent_dim: int = 200
    #: input corruption: dropout rate on the normalised input's nonzeros
    dropout: float = 0.5
    #: λ of the L2 penalty (λ / batch_size) · Σ‖W‖² on the weight matrices (biases excluded)
    l2_reg: float = 0.01
    #: passes over the training users (the paper: 200)
    epochs: int = 200
    #: users per update (the paper: 500)
    batch_size: int = 500
    #: Adam learning rate (the paper: 1e-3)
    lr: float = 1e-3

    def validate(self) -> None:
        super().validate()
        validate_autoencoder_shape(self)
        require(self.l2_reg >= 0, "l2_reg", self.l2_reg, "use 0 or a positive value, e.g. 0.01.")


@register
class MultDAE(NeuralRecommender):
    """Mult-DAE of Liang, Krishnan, Hoffman & Jebara, "Variational Autoencoders for Collaborative
    Filtering", WWW 2018 (reference code: dawenl/vae_cf).

    x → L2-normalise → dropout (corruption) → tanh layers ``hidden_dims`` → tanh code ``latent_dim`` →
    tanh layers (mirrored) → softmax logits. Loss per batch: mean over users of
    ``−Σ_i x_ui log softmax(f(x̃))_i`` plus ``(l2_reg / batch_size) · Σ_W ‖W‖²`` over the weight
    matrices — the reference code's ``lam = 0.01 / batch_size`` with TensorFlow's ``2 · l2_regularizer``,
    i.e. λ = 0.01 against the batch-summed likelihood. It is a loss term, not Adam's ``weight_decay``
    (which stays 0 and would also decay biases). Scores are the logits of the clean (undropped) input.
    Initialisation as the reference code: Glorot-uniform weights, biases N(0, 0.001²) truncated at ±2σ.

    Deviations from the paper / reference code:

    - Default network [n_items → 600 → 200 → 600 → n_items] (one 600 hidden layer each side, as the
      Mult-VAE); the reference code's Mult-DAE is [n_items → 200 → n_items]: ``hidden_dims=()``.
    - The first layer reads the sparse input directly; dropout masks are drawn for the nonzeros only
      (same distribution) from the run's seeded generator; rows reshuffled every epoch from the seed.
    - The epoch is chosen with ``eval_metric`` (default NDCG@20; the paper: NDCG@100).
    """

    name = "mult-dae"
    config_cls = MultDAEConfig
    config: MultDAEConfig

    def build_module(self, n_items: int) -> nn.Module:
        c = self.config
        return SparseAutoencoder(n_items, c.hidden_dims, c.latent_dim, act="tanh", code_activation="tanh")

    def init_module(self, module: nn.Module, generator: torch.Generator) -> None:
        init_reference_(module, generator)

    def _encode(self, batch: Batch, generator: torch.Generator | None) -> torch.Tensor:
        vals = sparse_row_l2_normalize(batch.vals, batch.row_ids, batch.size)
        if generator is not None:
            vals = sparse_dropout(vals, self.config.dropout, generator)
        return self.module_.encode(batch.cols, batch.offsets, vals)

    def train_step(self, batch: Batch, ctx: StepContext) -> dict[str, Any]:
        logits = self.module_.decode(self._encode(batch, ctx.generator))
        nll = multinomial_nll(logits, batch.row_ids, batch.cols, batch.vals)
        loss = nll
        if self.config.l2_reg > 0:
            loss = nll + (self.config.l2_reg / self.config.batch_size) * l2_penalty(self.module_.weights())
        return {"loss": loss, "nll": nll.detach()}

    def forward_scores(self, batch: Batch) -> torch.Tensor:
        return self.module_.decode(self._encode(batch, None))

    def encode_batch(self, batch: Batch) -> torch.Tensor:
        return self._encode(batch, None)

    def item_embeddings(self) -> np.ndarray:
        self._check_fitted()
        return self.module_.output_layer().weight.detach().cpu().numpy().copy()
