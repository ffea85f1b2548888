"""PureSVD (Cremonesi, Koren & Turrin, RecSys 2010): a truncated SVD of the interaction matrix."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds

from recgen.data.dataset import EvalSet
from recgen.data.interactions import Interactions
from recgen.errors import ConfigError
from recgen.models.base import Recommender, binary_rows
from recgen.models.config import require
from recgen.models.registry import register

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PureSVDConfig:
    """Hyperparameters of :class:`PureSVD`."""

    #: number of singular vectors kept (the rank of the approximation); must be < min(n_users, n_items)
    factors: int = 64
    #: seed of the ARPACK starting vector, so two fits give identical factors
    seed: int = 0
    #: binarise the training matrix and the scored rows (every interaction counts 1)
    implicit: bool = True

    def validate(self) -> None:
        require(self.factors >= 1, "factors", self.factors, "pass a positive rank such as factors=64.")


@register
class PureSVD(Recommender):
    """PureSVD, Cremonesi et al. (2010), "Performance of recommender algorithms on top-N recommendation
    tasks", RecSys.

    X ≈ U Σ Vᵀ with the top ``factors`` singular triplets of the training matrix (missing entries are
    zeros); a history row x_u is scored by folding it in: scores = x_u V Vᵀ, so users not seen in
    training are served. Deviation: the paper scores known users with the same formula
    (x_u V Vᵀ = U_u Σ Vᵀ for them), so nothing differs for training users.
    """

    name = "puresvd"
    config_cls = PureSVDConfig

    def _fit(self, train: Interactions, validation: EvalSet | None) -> None:
        cfg = self.config
        limit = min(train.n_users, train.n_items) - 1
        if cfg.factors > limit:
            raise ConfigError(
                f"factors={cfg.factors} is too large for {train.n_users} users × {train.n_items} items; "
                f"pass factors between 1 and {limit}."
            )
        x = binary_rows(train.matrix, self.config.implicit).astype(np.float64)
        rng = np.random.default_rng(cfg.seed)
        v0 = rng.uniform(-1.0, 1.0, size=min(x.shape))
        _, s, vt = svds(x, k=cfg.factors, v0=v0, solver="arpack", random_state=cfg.seed)
        order = np.argsort(-s, kind="stable")
        self.singular_values_: np.ndarray = s[order].astype(np.float32)
        #: item factors V (n_items, factors), columns by decreasing singular value
        self.item_factors_: np.ndarray = np.ascontiguousarray(vt[order].T, dtype=np.float32)
        log.info("PureSVD: rank %d, top singular value %.3f", cfg.factors, float(self.singular_values_[0]))

    def _score(self, rows: sp.csr_matrix, user_rows: np.ndarray | None) -> np.ndarray:
        v = self.item_factors_
        return np.asarray(binary_rows(rows, self.config.implicit) @ v) @ v.T

    def _state(self) -> dict[str, np.ndarray]:
        return {"item_factors": self.item_factors_, "singular_values": self.singular_values_}

    def _load_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.item_factors_ = arrays["item_factors"]
        self.singular_values_ = arrays["singular_values"]
