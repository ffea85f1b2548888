"""Content-based recommenders: an autoencoder over item content (``content-ae``) and content kNN
(``content-knn``). Both score items with zero interactions from their features alone.

Features are given to ``fit``: ``model.fit(train, validation=None, *, item_features=..., user_features=...)``
(:class:`recgen.data.Features`, aligned to ``train.items`` / ``train.users`` inside ``fit``; ids without a row
get an empty row). They are saved in the artifact (arrays + vocabularies), so a loaded model still scores
new users and cold items. Without ``item_features`` the item's training interaction column is its content
(the model then degrades gracefully into a collaborative item-based model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from recgen.data.dataset import EvalSet
from recgen.data.features import Features
from recgen.data.interactions import Interactions
from recgen.models.base import Recommender, binary_rows
from recgen.models.coldstart import (
    ColdStartMixin,
    check_features,
    features_from_arrays,
    features_to_arrays,
)
from recgen.models.config import require
from recgen.models.neural import NeuralRecommender
from recgen.models.registry import register
from recgen.nn.layers import SparseAutoencoder, init_reference_, sparse_dropout, sparse_row_l2_normalize
from recgen.nn.losses import multinomial_nll
from recgen.training import Batch, StepContext, Trainer, TrainingConfig


def _unit_rows(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


class _ItemContent:
    """Shared ``fit(..., item_features=, user_features=)`` handling and persistence of the features."""

    def fit(self, train: Interactions, validation: EvalSet | None = None, *, item_features: Features | None = None,
            user_features: Features | None = None, **kwargs: Any) -> Any:
        """Fit on ``train`` with optional side information (see the module docstring)."""
        self._given_features = (item_features, user_features)
        try:
            return super().fit(train, validation, **kwargs)  # type: ignore[misc]
        finally:
            del self._given_features

    def _prepare_features(self, train: Interactions) -> tuple[Features | None, Features | None]:
        items, users = getattr(self, "_given_features", (None, None))
        self.item_features_: Features | None = check_features(items, train.items, "item")
        self._content = self._content_matrix(train)
        return self.item_features_, check_features(users, train.users, "user")

    def _content_matrix(self, train: Interactions | None = None) -> sp.csr_matrix:
        """(n_items, n_content) CSR: the item features, or else the binary training columns."""
        if self.item_features_ is not None:
            return self.item_features_.matrix
        x = train.matrix if train is not None else self.train_  # type: ignore[attr-defined]
        return sp.csr_matrix(binary_rows(x).T)

    def _feature_state(self) -> dict[str, np.ndarray]:
        out = self._user_state()  # type: ignore[attr-defined]
        if self.item_features_ is not None:
            out.update(features_to_arrays(self.item_features_, "item_features"))
        return out

    def _load_features(self, arrays: dict[str, np.ndarray]) -> None:
        self.item_features_ = features_from_arrays(arrays, "item_features")
        self._content = self._content_matrix()
        self._load_user_state(arrays)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ContentAEConfig(TrainingConfig):
    """Content autoencoder hyperparameters; inherits the training fields (epochs, batch_size — here items
    per update —, lr, weight_decay, optimizer, lr_schedule, lr_gamma, patience, eval_every, eval_metric,
    restore_best, seed, device, show_progress, num_threads, checkpoint_dir) of TrainingConfig."""

    #: hidden layer size between the content and the code
    hidden_dim: int = 200
    #: size of an item's content code
    latent_dim: int = 64
    #: dropout on the normalised content input (denoising)
    dropout: float = 0.2
    #: ridge penalty of the user-feature → profile map (cold users)
    feature_map_l2: float = 1.0
    #: smallest segment used by segment popularity before dropping a feature
    min_segment_users: int = 20
    #: passes over the items
    epochs: int = 30
    #: items per update
    batch_size: int = 128
    #: Adam learning rate
    lr: float = 1e-3

    def validate(self) -> None:
        super().validate()
        require(self.hidden_dim >= 1, "hidden_dim", self.hidden_dim, "use a positive size, e.g. 200.")
        require(self.latent_dim >= 1, "latent_dim", self.latent_dim, "use a positive size, e.g. 64.")
        require(0.0 <= self.dropout < 1.0, "dropout", self.dropout, "use a rate in [0, 1), e.g. 0.2.")
        require(self.feature_map_l2 > 0, "feature_map_l2", self.feature_map_l2, "use a positive penalty, e.g. 1.0.")
        require(self.min_segment_users >= 1, "min_segment_users", self.min_segment_users, "use a positive count.")


@register
class ContentAE(_ItemContent, ColdStartMixin, NeuralRecommender):
    """Content-based recommendation through a denoising autoencoder over item content, in the spirit of
    collaborative deep learning's content SDAE (Wang, Wang & Yeung, KDD 2015) without its joint
    matrix-factorisation term.

    Each item's content row (L2-normalised, dropout) goes through ``content → hidden_dim → latent_dim →
    hidden_dim → content`` (tanh) trained with the multinomial likelihood of the content. An item's code
    is the encoder output, centred over the items that have content and L2-normalised (items with no
    content get the zero code: score 0). A user's profile is the mean of the codes of the items in their
    history (weighted by the interaction values); an item's score is the cosine of its code with the
    profile. So items with zero interactions are ranked by their content alone. Cold users without a
    history: ``recommend_cold`` (feature map → profile, then segment / global popularity).
    """

    name = "content-ae"
    config_cls = ContentAEConfig
    config: ContentAEConfig

    def _fit(self, train: Interactions, validation: EvalSet | None) -> None:
        _, users = self._prepare_features(train)
        self.__dict__.pop("codes_", None)
        super()._fit(train, validation)
        self.codes_ = self._codes()
        self._fit_user_side(train, users)

    def training_matrix(self, train: Interactions) -> sp.csr_matrix:
        return self._content

    def build_module(self, n_items: int) -> nn.Module:
        c = self.config
        return SparseAutoencoder(self._content.shape[1], (c.hidden_dim,), c.latent_dim, act="tanh",
                                 code_activation="tanh")

    def init_module(self, module: nn.Module, generator: torch.Generator) -> None:
        init_reference_(module, generator)

    def _encode(self, batch: Batch, generator: torch.Generator | None) -> torch.Tensor:
        vals = sparse_row_l2_normalize(batch.vals, batch.row_ids, batch.size)
        if generator is not None:
            vals = sparse_dropout(vals, self.config.dropout, generator)
        return self.module_.encode(batch.cols, batch.offsets, vals)

    def train_step(self, batch: Batch, ctx: StepContext) -> torch.Tensor:
        logits = self.module_.decode(self._encode(batch, ctx.generator))
        return multinomial_nll(logits, batch.row_ids, batch.cols, batch.vals)

    def forward_scores(self, batch: Batch) -> torch.Tensor:  # pragma: no cover - _score is overridden
        raise NotImplementedError

    def _codes(self) -> np.ndarray:
        """Centred, unit item codes (n_items, latent_dim); zero rows for items without content."""
        self.module_.eval()
        content = self._content
        with torch.inference_mode():
            z = np.concatenate([self._encode(Batch.from_csr(content, slice(s, s + 4096), self.device_), None)
                                .float().cpu().numpy() for s in range(0, content.shape[0], 4096)])
        has = np.diff(content.indptr) > 0
        if has.any():
            z = z - z[has].mean(axis=0)
        z[~has] = 0.0
        return _unit_rows(z).astype(np.float32)

    def _user_latent(self, rows: sp.csr_matrix) -> np.ndarray:
        codes = self.codes_ if "codes_" in self.__dict__ else self._codes()
        prof = np.asarray(rows @ codes, dtype=np.float32)
        return prof / np.maximum(np.asarray(abs(rows).sum(axis=1), dtype=np.float32), 1e-12)

    def _score_latent(self, z: np.ndarray) -> np.ndarray:
        codes = self.codes_ if "codes_" in self.__dict__ else self._codes()
        return (_unit_rows(z) @ codes.T).astype(np.float32)

    def _score(self, rows: sp.csr_matrix, user_rows: np.ndarray | None) -> np.ndarray:
        return self._score_latent(self._user_latent(rows))

    def item_embeddings(self) -> np.ndarray:
        self._check_fitted()
        return self.codes_.copy()

    def _state(self) -> dict[str, np.ndarray]:
        return {**super()._state(), **self._feature_state()}

    def _load_state(self, arrays: dict[str, np.ndarray]) -> None:
        self._load_features(arrays)
        super()._load_state(arrays)
        self.codes_ = self._codes()

    def _after_fit(self, trainer: Trainer) -> None:
        self.__dict__.pop("codes_", None)


@dataclass(frozen=True)
class ContentKNNConfig:
    """Content kNN: cosine similarity of item feature rows; each item keeps its ``k`` nearest neighbours."""

    #: neighbours kept per item (0 keeps all)
    k: int = 100
    #: ridge penalty of the user-feature → profile map (cold users)
    feature_map_l2: float = 1.0
    #: smallest segment used by segment popularity before dropping a feature
    min_segment_users: int = 20

    def validate(self) -> None:
        require(self.k >= 0, "k", self.k, "use 0 (all neighbours) or a positive count, e.g. 100.")
        require(self.feature_map_l2 > 0, "feature_map_l2", self.feature_map_l2, "use a positive penalty.")
        require(self.min_segment_users >= 1, "min_segment_users", self.min_segment_users, "use a positive count.")


@register
class ContentKNN(_ItemContent, ColdStartMixin, Recommender):
    """Content-based item kNN, a heuristic baseline (the classic content-based filtering of Pazzani &
    Billsus, 2007): score(u, j) = Σ_{i ∈ history(u)} x_ui · cos(f_i, f_j) over ``j``'s top-``k`` neighbours.

    The profile space of cold users is the content space itself: ``recommend_cold`` maps user features to a
    content profile p and scores cos-weighted ``p · f_j``.
    """

    name = "content-knn"
    config_cls = ContentKNNConfig
    config: ContentKNNConfig

    def _fit(self, train: Interactions, validation: EvalSet | None) -> None:
        _, users = self._prepare_features(train)
        self.similarity_ = self._similarity()
        self._fit_user_side(train, users)

    def _unit_content(self) -> sp.csr_matrix:
        c = sp.csr_matrix(self._content, dtype=np.float32)
        norms = np.sqrt(np.asarray(c.multiply(c).sum(axis=1)).ravel())
        return sp.csr_matrix(sp.diags(1.0 / np.maximum(norms, 1e-12)) @ c)

    def _similarity(self, chunk: int = 2048) -> sp.csr_matrix:
        """(n_items, n_items) sparse cosine similarity, self excluded, top-``k`` per row, built in row chunks."""
        c = self._unit_content()
        n, k = c.shape[0], self.config.k
        parts = []
        for s in range(0, n, chunk):
            block = np.asarray((c[s:s + chunk] @ c.T).toarray(), dtype=np.float32)
            block[np.arange(block.shape[0]), np.arange(s, s + block.shape[0])] = 0.0
            if 0 < k < n:
                thresh = -np.partition(-block, k - 1, axis=1)[:, k - 1:k]
                block[block < thresh] = 0.0
            parts.append(sp.csr_matrix(block))
        return sp.csr_matrix(sp.vstack(parts), dtype=np.float32)

    def _score(self, rows: sp.csr_matrix, user_rows: np.ndarray | None) -> np.ndarray:
        return np.asarray((rows @ self.similarity_).toarray(), dtype=np.float32)

    def _user_latent(self, rows: sp.csr_matrix) -> np.ndarray:
        c = self._unit_content()
        prof = np.asarray((rows @ c).toarray(), dtype=np.float32)
        return prof / np.maximum(np.asarray(abs(rows).sum(axis=1), dtype=np.float32), 1e-12)

    def _score_latent(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(self._unit_content() @ z.T, dtype=np.float32).T

    def item_embeddings(self) -> np.ndarray:
        self._check_fitted()
        return np.asarray(self._unit_content().toarray(), dtype=np.float32)

    def _state(self) -> dict[str, np.ndarray]:
        s = self.similarity_
        return {"similarity.indptr": s.indptr.astype(np.int64), "similarity.indices": s.indices.astype(np.int64),
                "similarity.data": s.data.astype(np.float32), **self._feature_state()}

    def _load_state(self, arrays: dict[str, np.ndarray]) -> None:
        n = len(self.items_)
        self.similarity_ = sp.csr_matrix((arrays["similarity.data"], arrays["similarity.indices"],
                                          arrays["similarity.indptr"]), shape=(n, n))
        self._load_features(arrays)
