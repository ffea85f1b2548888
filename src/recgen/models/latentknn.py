"""User–user collaborative filtering in a trained autoencoder's latent space."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from recgen.data.dataset import EvalSet
from recgen.data.interactions import Interactions
from recgen.errors import ConfigError, DataFormatError, NotFittedError
from recgen.models.base import Recommender
from recgen.models.config import config_to_dict, require
from recgen.models.registry import get_model_class, register

log = logging.getLogger(__name__)

#: query rows per chunk of the (chunk × n_train_users) similarity block
SIM_CHUNK = 1024


@dataclass(frozen=True)
class LatentKNNConfig:
    """Latent kNN settings: the base autoencoder and its overrides, and the neighbourhood."""

    #: registered name of the base autoencoder (any model with ``encode(rows)``)
    base: str = "mult-vae"
    #: the base's config overrides as "key=value" strings, e.g. ("epochs=50", "latent_dim=64")
    base_overrides: tuple[str, ...] = ()
    #: neighbours per user
    k: int = 50
    #: similarity of latent vectors (cosine only, for now)
    similarity: str = "cosine"

    def validate(self) -> None:
        require(self.k >= 1, "k", self.k, "use a positive number of neighbours, e.g. 50.")
        require(self.similarity == "cosine", "similarity", self.similarity, "use cosine.")
        for item in self.base_overrides:
            require("=" in item, "base_overrides", self.base_overrides,
                    'write each override as "key=value", e.g. base_overrides=["epochs=50"].')

    def base_params(self) -> dict[str, str]:
        return dict(item.split("=", 1) for item in self.base_overrides)


def _unit_rows(z: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    return (z / np.maximum(norms, 1e-12)).astype(np.float32)


@register
class LatentKNN(Recommender):
    """User-kNN (Herlocker et al., SIGIR 1999: weighted sum of the k most similar users' rows) with
    users compared by the cosine of their latent vectors from an autoencoder (default Mult-VAE, Liang
    et al. 2018) instead of their raw item rows.

    ``fit`` trains the base autoencoder on ``train`` (``validation`` goes to it) and stores the unit-norm
    latent vectors of the training users; :meth:`from_model` wraps an already fitted base instead.
    ``score(rows)`` encodes the rows with the base, finds each row's ``k`` most similar training users
    and returns ``Σ_v max(sim(u, v), 0) · X_v`` over those neighbours (X the training matrix). A known user
    (``user_rows`` ≥ 0) is never their own neighbour. Users never seen in training are scored the same
    way from their history. Saving writes the base's state under the prefix ``base.`` beside the index.
    """

    name = "latent-knn"
    config_cls = LatentKNNConfig
    config: LatentKNNConfig

    # ------------------------------------------------------------------ fitting
    def _fit(self, train: Interactions, validation: EvalSet | None) -> None:
        c = self.config
        klass = get_model_class(c.base)
        if not hasattr(klass, "encode"):
            raise ConfigError(f"base={c.base!r} has no latent user representation (encode); use an autoencoder "
                              "such as mult-vae, mult-dae, recvae or cdae.")
        base = klass(**c.base_params())
        base.fit(train, validation)
        self._attach(base, train)

    @classmethod
    def from_model(cls, model: Recommender, train: Interactions | None = None, **config: Any) -> LatentKNN:
        """A latent kNN over an already fitted autoencoder ``model``; ``config`` sets ``k`` / ``similarity``.

        ``train`` gives the neighbours (default: the model's own training data). Saving rebuilds the base
        with the kNN's training data, so a base with per-user parameters (CDAE, I-AutoRec) must be given
        its own training data here to be saved and loaded.
        """
        if train is None and getattr(model, "is_fitted", False):
            train = Interactions(model.train_, model.users_, model.items_)
        if not getattr(model, "is_fitted", False):
            raise NotFittedError(f"model ({type(model).__name__}) is not fitted; fit it first or use fit().")
        if not hasattr(model, "encode"):
            raise ConfigError(f"model ({type(model).__name__}) has no encode(rows); wrap an autoencoder.")
        if not isinstance(train, Interactions) or train.n_items != model.n_items:
            raise DataFormatError(f"train must be Interactions over the model's {model.n_items} items; got "
                                  f"{getattr(train, 'n_items', type(train).__name__)} items.")
        knn = cls(base=model.name, **config)
        knn.items_, knn.users_, knn.train_ = train.items, train.users, train.matrix
        knn._attach(model, train)
        return knn

    def _attach(self, base: Recommender, train: Interactions) -> None:
        self.base_ = base
        self.latents_ = _unit_rows(base.encode(train.matrix))  # (n_train_users, d)

    # ------------------------------------------------------------------ scoring
    def neighbours(self, rows: Any, user_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Indices (n, k') of each row's nearest training users, best first, and their cosine similarities."""
        self._check_fitted()
        z = _unit_rows(self.base_.encode(rows))
        n_train = self.latents_.shape[0]
        k = min(self.config.k, n_train - 1 if user_rows is not None else n_train)
        k = max(k, 1)
        idx = np.empty((z.shape[0], k), dtype=np.int64)
        sims = np.empty((z.shape[0], k), dtype=np.float32)
        for start in range(0, z.shape[0], SIM_CHUNK):
            s = z[start:start + SIM_CHUNK] @ self.latents_.T                    # (chunk, n_train)
            if user_rows is not None:
                own = np.asarray(user_rows[start:start + SIM_CHUNK], dtype=np.int64)
                r = np.flatnonzero(own >= 0)
                s[r, own[r]] = -np.inf                                          # never one's own neighbour
            top = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < n_train else np.tile(np.arange(n_train), (len(s), 1))
            vals = np.take_along_axis(s, top, axis=1)
            order = np.argsort(-vals, axis=1, kind="stable")
            idx[start:start + len(s)] = np.take_along_axis(top, order, axis=1)
            sims[start:start + len(s)] = np.take_along_axis(vals, order, axis=1)
        return idx, sims

    def _score(self, rows: sp.csr_matrix, user_rows: np.ndarray | None) -> np.ndarray:
        if user_rows is not None:
            user_rows = np.asarray(user_rows, dtype=np.int64).ravel()
            if len(user_rows) != rows.shape[0] or (user_rows >= self.latents_.shape[0]).any():
                raise DataFormatError(f"user_rows must give one training-row index (or -1) per row; got "
                                      f"{len(user_rows)} values for {rows.shape[0]} rows.")
        idx, sims = self.neighbours(rows, user_rows)
        w = np.where(np.isfinite(sims), np.maximum(sims, 0.0), 0.0).astype(np.float32)
        n, k = idx.shape
        weights = sp.csr_matrix((w.ravel(), idx.ravel(), np.arange(0, n * k + 1, k)),
                                shape=(n, self.latents_.shape[0]))
        return np.asarray((weights @ self.train_).todense(), dtype=np.float32)

    def item_embeddings(self) -> np.ndarray:
        """The base model's item vectors."""
        self._check_fitted()
        return self.base_.item_embeddings()

    # ------------------------------------------------------------------ persistence
    def _state(self) -> dict[str, np.ndarray]:
        return {"index.latents": self.latents_, **{f"base.{k}": v for k, v in self.base_._state().items()}}

    def _extra_meta(self) -> dict[str, Any]:
        b = self.base_
        return {"base_model": b.name, "base_config": config_to_dict(b.config), "base_meta": b._extra_meta()}

    def _load_state(self, arrays: dict[str, np.ndarray]) -> None:
        # the base is rebuilt in _load_extra_meta, which runs next and knows its config
        self._pending = arrays

    def _load_extra_meta(self, meta: dict[str, Any]) -> None:
        arrays = self.__dict__.pop("_pending", {})
        klass = get_model_class(meta["base_model"])
        base = klass(**meta["base_config"])
        base.items_, base.users_, base.train_ = self.items_, self.users_, self.train_
        base._load_state({k[len("base."):]: v for k, v in arrays.items() if k.startswith("base.")})
        base._load_extra_meta(meta.get("base_meta") or {})
        self.base_ = base
        self.latents_ = np.asarray(arrays["index.latents"], dtype=np.float32)

