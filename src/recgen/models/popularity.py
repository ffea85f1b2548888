"""MostPopular: the simplest baseline every model must beat."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recgen.data.dataset import EvalSet
from recgen.data.interactions import Interactions
from recgen.models.base import Recommender
from recgen.models.registry import register


@dataclass(frozen=True)
class MostPopularConfig:
    """MostPopular has no hyperparameters but the counting rule."""

    #: count users (binary) rather than summing interaction values
    binary: bool = True


@register
class MostPopular(Recommender):
    """A heuristic baseline: scores every item by the number of training users who interacted with it
    (the same ranking for all users)."""

    name = "most-popular"
    config_cls = MostPopularConfig

    def _fit(self, train: Interactions, validation: EvalSet | None) -> None:
        m = train.matrix
        if self.config.binary:
            counts = np.bincount(m.indices, minlength=train.n_items).astype(np.float32)
        else:
            counts = np.asarray(m.sum(axis=0)).ravel().astype(np.float32)
        self.popularity_ = counts

    def _score(self, rows: sp.csr_matrix, user_rows: np.ndarray | None) -> np.ndarray:
        return np.broadcast_to(self.popularity_, (rows.shape[0], self.n_items)).copy()

    def _state(self) -> dict[str, np.ndarray]:
        return {"popularity": self.popularity_}

    def _load_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.popularity_ = arrays["popularity"]
