"""Hybrid autoencoder for cold items: a collaborative (Mult-DAE-like) autoencoder whose item vectors are
the sum of a free collaborative part and a part produced from the item's content."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from recgen.data.dataset import EvalSet
from recgen.data.interactions import Interactions
from recgen.models.coldstart import ColdStartMixin
from recgen.models.config import require
from recgen.models.content import _ItemContent
from recgen.models.neural import NeuralRecommender
from recgen.models.registry import register
from recgen.nn.layers import sparse_dropout, sparse_row_l2_normalize
from recgen.nn.losses import multinomial_nll
from recgen.training import Batch, StepContext, TrainingConfig


class HybridModule(nn.Module):
    """Item vectors ``E_i = m_i·U_i + f_i·A`` (encoder) and ``W_i = m_i·V_i + f_i·G``, ``b_i = m_i·c_i + f_i·g``
    (decoder), where ``m_i`` ∈ {0, 1} keeps the collaborative part (0 for cold items, random during training).

    Shapes: U, V (n_items, d); A, G (n_features, d); c (n_items,); g (n_features,).
    """

    def __init__(self, n_items: int, n_features: int, latent_dim: int) -> None:
        super().__init__()
        self.enc_item = nn.Parameter(torch.empty(n_items, latent_dim))
        self.enc_bias = nn.Parameter(torch.zeros(latent_dim))
        self.dec_item = nn.Parameter(torch.empty(n_items, latent_dim))
        self.dec_item_bias = nn.Parameter(torch.zeros(n_items))
        self.enc_feat = nn.Parameter(torch.empty(n_features, latent_dim))
        self.dec_feat = nn.Parameter(torch.empty(n_features, latent_dim))
        self.dec_feat_bias = nn.Parameter(torch.zeros(n_features))

    def item_vectors(self, content: tuple[torch.Tensor, torch.Tensor, torch.Tensor], keep: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(E, W, b) for every item; ``content`` = (cols, offsets, vals) of the item feature CSR."""
        cols, offsets, vals = content

        def bag(weight: torch.Tensor) -> torch.Tensor:
            return F.embedding_bag(cols, weight, offsets, mode="sum", per_sample_weights=vals, include_last_offset=True)

        k = keep.to(self.enc_item.dtype)
        enc = k[:, None] * self.enc_item + bag(self.enc_feat)
        dec = k[:, None] * self.dec_item + bag(self.dec_feat)
        bias = k * self.dec_item_bias + bag(self.dec_feat_bias[:, None])[:, 0]
        return enc, dec, bias


@dataclass(frozen=True)
class HybridAEConfig(TrainingConfig):
    """Hybrid autoencoder hyperparameters; inherits the training fields (epochs, batch_size, lr, weight_decay,
    optimizer, lr_schedule, lr_gamma, patience, eval_every, eval_metric, restore_best, seed, device,
    show_progress, num_threads, checkpoint_dir) of TrainingConfig."""

    #: size of the user code (one tanh layer)
    latent_dim: int = 200
    #: dropout on the normalised input history (denoising)
    dropout: float = 0.5
    #: probability that an item with features loses its collaborative part in a training batch
    item_dropout: float = 0.5
    #: L2 penalty on all weights, as a loss term (λ/2·Σw², per batch)
    l2: float = 1e-4
    #: ridge penalty of the user-feature → latent map (cold users)
    feature_map_l2: float = 1.0
    #: smallest segment used by segment popularity before dropping a feature
    min_segment_users: int = 20
    #: passes over the training users
    epochs: int = 50
    #: users per update
    batch_size: int = 128
    #: Adam learning rate
    lr: float = 1e-3

    def validate(self) -> None:
        super().validate()
        require(self.latent_dim >= 1, "latent_dim", self.latent_dim, "use a positive size, e.g. 200.")
        require(0.0 <= self.dropout < 1.0, "dropout", self.dropout, "use a rate in [0, 1), e.g. 0.5.")
        require(0.0 <= self.item_dropout < 1.0, "item_dropout", self.item_dropout, "use a rate in [0, 1), e.g. 0.5.")
        require(self.l2 >= 0, "l2", self.l2, "use 0 or a positive penalty.")
        require(self.feature_map_l2 > 0, "feature_map_l2", self.feature_map_l2, "use a positive penalty, e.g. 1.0.")
        require(self.min_segment_users >= 1, "min_segment_users", self.min_segment_users, "use a positive count.")


@register
class HybridAE(_ItemContent, ColdStartMixin, NeuralRecommender):
    """Hybrid denoising autoencoder for cold items: Mult-DAE (Liang et al., WWW 2018) whose item input and
    output vectors are ``collaborative + content-produced``, trained with DropoutNet-style item dropout
    (Volkovs, Yu & Poutanen, NeurIPS 2017) so that the content part alone must reconstruct the user.

    x_u → L2-normalise → dropout → ``z_u = tanh(Σ_i x_ui E_i + e)`` → logits ``z_u · W_i + b_i`` → multinomial
    likelihood, with E, W, b from :class:`HybridModule`. In each batch every item with features keeps its
    collaborative part with probability ``1 − item_dropout``. Items with no training interaction (cold) are
    left out of the training softmax and always use the content part alone, so a new item is scored from its
    features and a warm item from both. Without ``item_features`` this is a one-layer Mult-DAE.

    Deviations: one tanh layer (no hidden layers); DropoutNet's per-user dropout and its separate
    preference-regression objective are replaced by per-item dropout inside the autoencoder's own loss.
    """

    name = "hybrid-ae"
    config_cls = HybridAEConfig
    config: HybridAEConfig

    def _fit(self, train: Interactions, validation: EvalSet | None) -> None:
        _, users = self._prepare_features(train)
        self.warm_ = np.asarray(train.item_counts() > 0)
        super()._fit(train, validation)
        self._fit_user_side(train, users)

    def _content_matrix(self, train: Interactions | None = None) -> sp.csr_matrix:
        """Item features, or one empty column when there are none (the model is then a plain Mult-DAE)."""
        if self.item_features_ is not None:
            return self.item_features_.matrix
        return sp.csr_matrix((len(train.items) if train is not None else len(self.items_), 1), dtype=np.float32)

    def build_module(self, n_items: int) -> nn.Module:
        return HybridModule(n_items, self._content.shape[1], self.config.latent_dim)

    def init_module(self, module: nn.Module, generator: torch.Generator) -> None:
        with torch.no_grad():
            for p in (module.enc_item, module.dec_item, module.enc_feat, module.dec_feat):
                nn.init.xavier_uniform_(p, generator=generator)

    def _content_tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b = Batch.from_csr(self._content, slice(None), self.device_)
        return b.cols, b.offsets, b.vals

    def _keep(self, generator: torch.Generator | None) -> torch.Tensor:
        warm = torch.as_tensor(self.warm_, device=self.device_)
        if generator is None or self.config.item_dropout <= 0:
            return warm
        has = torch.as_tensor(np.diff(self._content.indptr) > 0, device=self.device_)
        drop = torch.rand(warm.shape, generator=generator, device=self.device_) < self.config.item_dropout
        return warm & ~(drop & has)

    def _forward(self, batch: Batch, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        enc, dec, bias = self.module_.item_vectors(self._content_tensors(), self._keep(generator))
        vals = sparse_row_l2_normalize(batch.vals, batch.row_ids, batch.size)
        if generator is not None:
            vals = sparse_dropout(vals, self.config.dropout, generator)
        z = torch.tanh(F.embedding_bag(batch.cols, enc, batch.offsets, mode="sum", per_sample_weights=vals,
                                       include_last_offset=True) + self.module_.enc_bias)
        return z, z @ dec.T + bias

    def train_step(self, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        _, logits = self._forward(batch, ctx.generator)
        logits = logits.masked_fill(~torch.as_tensor(self.warm_, device=logits.device), float("-inf"))
        nll = multinomial_nll(logits, batch.row_ids, batch.cols, batch.vals)
        reg = sum((p * p).sum() for p in self.module_.parameters() if p.dim() == 2)
        return {"loss": nll + 0.5 * self.config.l2 * reg, "nll": nll.detach()}

    def forward_scores(self, batch: Batch) -> torch.Tensor:
        return self._forward(batch, None)[1]

    def encode_batch(self, batch: Batch) -> torch.Tensor:
        return self._forward(batch, None)[0]

    def _user_latent(self, rows: sp.csr_matrix) -> np.ndarray:
        return self.encode(rows)

    def _score_latent(self, z: np.ndarray) -> np.ndarray:
        self.module_.eval()
        with torch.inference_mode():
            _, dec, bias = self.module_.item_vectors(self._content_tensors(), self._keep(None))
            return (torch.as_tensor(z, device=self.device_) @ dec.T + bias).float().cpu().numpy()

    def item_embeddings(self) -> np.ndarray:
        """Decoder item vectors W (content-only for cold items)."""
        self._check_fitted()
        with torch.inference_mode():
            _, dec, _ = self.module_.item_vectors(self._content_tensors(), self._keep(None))
        return dec.float().cpu().numpy().copy()

    def _state(self) -> dict[str, np.ndarray]:
        return {**super()._state(), **self._feature_state(), "warm": self.warm_.astype(np.uint8)}

    def _load_state(self, arrays: dict[str, np.ndarray]) -> None:
        self._load_features(arrays)
        self.warm_ = np.asarray(arrays["warm"], dtype=bool)
        super()._load_state(arrays)
