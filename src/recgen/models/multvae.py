"""Mult-VAE: variational autoencoder with a multinomial likelihood (Liang et al., WWW 2018)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from recgen.models.neural import NeuralRecommender, validate_autoencoder_shape
from recgen.models.registry import register
from recgen.nn.layers import SparseAutoencoder, init_reference_, sparse_dropout, sparse_row_l2_normalize
from recgen.nn.losses import anneal_beta, kl_standard_normal, multinomial_nll
from recgen.training import Batch, StepContext, Trainer, TrainingConfig
from recgen.training.config import require


@dataclass(frozen=True)
class MultVAEConfig(TrainingConfig):
    """Mult-VAE hyperparameters (defaults: the paper's ML-20M setting);
    inherits the training fields (epochs, batch_size, lr, weight_decay, optimizer,
    lr_schedule, lr_gamma, patience, eval_every, eval_metric, restore_best, seed, device, show_progress,
    num_threads, checkpoint_dir) of :class:`recgen.training.TrainingConfig`, documented there."""

    #: encoder hidden layer sizes (the decoder mirrors them)
    hidden_dims: tuple[int, ...] = (600,)
    #: size of the latent code z
    latent_dim: int = 200
    #: dropout rate on the normalised input (drop each nonzero, scale survivors by 1/(1 − p))
    dropout: float = 0.5
    #: largest KL weight β; "auto" anneals towards 1 and records the β of the best validated epoch
    anneal_cap: float | Literal["auto"] = 0.2
    #: updates over which β rises linearly from 0 (β = min(cap, updates / total_anneal_steps))
    total_anneal_steps: int = 200_000
    #: passes over the training users (the paper: 200)
    epochs: int = 200
    #: users per update (the paper: 500)
    batch_size: int = 500
    #: Adam learning rate (the paper: 1e-3)
    lr: float = 1e-3

    def validate(self) -> None:
        super().validate()
        validate_autoencoder_shape(self)
        require(self.anneal_cap == "auto" or (isinstance(self.anneal_cap, float) and self.anneal_cap >= 0),
                "anneal_cap", self.anneal_cap, "use a non-negative number (e.g. 0.2) or auto.")
        require(self.total_anneal_steps >= 0, "total_anneal_steps", self.total_anneal_steps,
                "use 0 (β = cap from the start) or a positive number of updates.")


@register
class MultVAE(NeuralRecommender):
    """Mult-VAE^PR of Liang, Krishnan, Hoffman & Jebara, "Variational Autoencoders for Collaborative
    Filtering", WWW 2018 (reference code: dawenl/vae_cf).

    Encoder: x → L2-normalise → dropout → tanh layers ``hidden_dims`` → one linear layer giving μ and
    log σ² (``latent_dim`` each); z = μ + ε·exp(½ log σ²), ε ~ N(0, I); decoder mirrors the encoder
    with tanh and ends in softmax logits. Loss per batch (means over users):
    ``−Σ_i x_ui log softmax(f(z))_i + β · KL(q(z|x) ‖ N(0, I))``, β = min(cap, updates / total_anneal_steps).
    Scores are the decoder's logits at z = μ (no sampling at inference; softmax is monotone).
    Initialisation as the reference code: Glorot-uniform weights, biases from a normal with std 0.001
    truncated at ±2σ. Adam, lr 1e-3, batch 500, 200 epochs; the best validated epoch is kept.

    Deviations from the paper / reference code:

    - The first layer reads the sparse input directly (``embedding_bag``: exact same maths).
    - Dropout masks are drawn for the nonzeros only (same distribution as dense dropout) from the
      run's seeded generator; the training rows are reshuffled every epoch from the seed.
    - ``anneal_cap="auto"`` runs the paper's selection in one pass (β annealed towards 1, the β of the
      best validated epoch stored as ``selected_anneal_cap_``) and keeps that epoch's weights; the
      paper then retrains with the cap fixed at that value — do that with ``anneal_cap=<value>``.
    - The epoch is chosen with the metric in ``eval_metric`` (default NDCG@20; the paper: NDCG@100).
    """

    name = "mult-vae"
    config_cls = MultVAEConfig
    config: MultVAEConfig

    def build_module(self, n_items: int) -> nn.Module:
        c = self.config
        return SparseAutoencoder(n_items, c.hidden_dims, c.latent_dim, act="tanh", variational=True)

    def init_module(self, module: nn.Module, generator: torch.Generator) -> None:
        init_reference_(module, generator)

    @property
    def _cap(self) -> float:
        return 1.0 if self.config.anneal_cap == "auto" else float(self.config.anneal_cap)

    def _encode(self, batch: Batch, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        vals = sparse_row_l2_normalize(batch.vals, batch.row_ids, batch.size)
        if generator is not None:
            vals = sparse_dropout(vals, self.config.dropout, generator)
        code = self.module_.encode(batch.cols, batch.offsets, vals)
        mu, logvar = code.chunk(2, dim=-1)
        return mu, logvar

    def train_step(self, batch: Batch, ctx: StepContext) -> dict[str, Any]:
        mu, logvar = self._encode(batch, ctx.generator)
        eps = torch.randn(mu.shape, generator=ctx.generator, device=mu.device, dtype=mu.dtype)
        z = mu + eps * torch.exp(0.5 * logvar)
        logits = self.module_.decode(z)
        nll = multinomial_nll(logits, batch.row_ids, batch.cols, batch.vals)
        kl = kl_standard_normal(mu, logvar)
        beta = anneal_beta(ctx.step, self.config.total_anneal_steps, self._cap)
        return {"loss": nll + beta * kl, "nll": nll.detach(), "kl": kl.detach(), "beta": beta}

    def forward_scores(self, batch: Batch) -> torch.Tensor:
        mu, _ = self._encode(batch, None)
        return self.module_.decode(mu)

    def encode_batch(self, batch: Batch) -> torch.Tensor:
        return self._encode(batch, None)[0]

    def item_embeddings(self) -> np.ndarray:
        self._check_fitted()
        return self.module_.output_layer().weight.detach().cpu().numpy().copy()

    # ------------------------------------------------------------------ selected β
    def _after_fit(self, trainer: Trainer) -> None:
        self.selected_anneal_cap_: float | None = None
        if trainer.best_epoch is not None:
            step = trainer.history[trainer.best_epoch - 1]["step"]
            self.selected_anneal_cap_ = anneal_beta(step, self.config.total_anneal_steps, self._cap)

    def _extra_meta(self) -> dict[str, Any]:
        return {**super()._extra_meta(), "selected_anneal_cap": getattr(self, "selected_anneal_cap_", None)}

    def _load_extra_meta(self, meta: dict[str, Any]) -> None:
        super()._load_extra_meta(meta)
        self.selected_anneal_cap_ = meta.get("selected_anneal_cap")
