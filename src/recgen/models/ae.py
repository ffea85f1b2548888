"""A plain autoencoder with a squared-error loss: the formulation most users meet first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from recgen.models.neural import NeuralRecommender, validate_autoencoder_shape
from recgen.models.registry import register
from recgen.nn.layers import SparseAutoencoder, init_reference_, sparse_dropout
from recgen.nn.losses import squared_error_sparse
from recgen.training import Batch, StepContext, TrainingConfig


@dataclass(frozen=True)
class AEConfig(TrainingConfig):
    """Plain autoencoder hyperparameters;
    inherits the training fields (epochs, batch_size, lr, weight_decay, optimizer,
    lr_schedule, lr_gamma, patience, eval_every, eval_metric, restore_best, seed, device, show_progress,
    num_threads, checkpoint_dir) of :class:`recgen.training.TrainingConfig`, documented there."""

    #: encoder hidden layer sizes before the code (the decoder mirrors them)
    hidden_dims: tuple[int, ...] = ()
    #: size of the code
    latent_dim: int = 200
    #: activation of every hidden layer and of the code
    activation: Literal["sigmoid", "tanh", "relu"] = "sigmoid"
    #: dropout on the input's nonzeros during training (0: a plain, not denoising, autoencoder)
    dropout: float = 0.0
    #: passes over the training users
    epochs: int = 100
    #: users per update
    batch_size: int = 500
    #: Adam learning rate
    lr: float = 1e-3

    def validate(self) -> None:
        super().validate()
        validate_autoencoder_shape(self)


@register
class AE(NeuralRecommender):
    """Autoencoder with sigmoid output and squared-error reconstruction loss: the classic autoencoder
    (Hinton & Salakhutdinov, Science 2006) applied to users' item rows, as in U-AutoRec (Sedhain et
    al., WWW 2015) but trained on implicit 0/1 rows with the zeros in the loss.

    ``h = act(W x + b)``, ``x̂ = sigmoid(V h + c)``, loss = mean over users of ``‖x − x̂‖²`` over all
    items (zeros included: the classic formulation, without the multinomial likelihood or input
    normalisation of Mult-VAE/DAE). Regularise with ``weight_decay`` (Adam's L2) or ``dropout``.
    Scores are the output logits ``V h + c`` (same ranking as ``x̂``, without sigmoid saturation ties).
    Weights Glorot-uniform, biases N(0, 0.001²) truncated at ±2σ. The first layer reads the sparse
    input directly; the squared error uses ``Σ x̂² − 2 Σ_nnz x·x̂ + Σ x²`` so the target is never densified.
    """

    name = "ae"
    config_cls = AEConfig
    config: AEConfig

    def build_module(self, n_items: int) -> nn.Module:
        c = self.config
        return SparseAutoencoder(n_items, c.hidden_dims, c.latent_dim, act=c.activation, code_activation=c.activation)

    def init_module(self, module: nn.Module, generator: torch.Generator) -> None:
        init_reference_(module, generator)

    def _encode(self, batch: Batch, generator: torch.Generator | None) -> torch.Tensor:
        vals = batch.vals if generator is None else sparse_dropout(batch.vals, self.config.dropout, generator)
        return self.module_.encode(batch.cols, batch.offsets, vals)

    def train_step(self, batch: Batch, ctx: StepContext) -> torch.Tensor:
        out = torch.sigmoid(self.module_.decode(self._encode(batch, ctx.generator)))
        return squared_error_sparse(out, batch.row_ids, batch.cols, batch.vals)

    def forward_scores(self, batch: Batch) -> torch.Tensor:
        return self.module_.decode(self._encode(batch, None))

    def encode_batch(self, batch: Batch) -> torch.Tensor:
        return self._encode(batch, None)

    def item_embeddings(self) -> np.ndarray:
        self._check_fitted()
        return self.module_.output_layer().weight.detach().cpu().numpy().copy()
