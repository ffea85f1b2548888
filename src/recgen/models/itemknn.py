"""ItemKNN: item-based collaborative filtering with shrunk cosine similarity (a heuristic baseline)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from recgen.data.dataset import EvalSet
from recgen.data.interactions import Interactions
from recgen.models.base import Recommender, binary_rows
from recgen.models.config import require
from recgen.models.registry import register

log = logging.getLogger(__name__)

#: bytes of dense similarity block computed at once (n_items × chunk float32)
_CHUNK_BYTES = 1 << 26


@dataclass(frozen=True)
class ItemKNNConfig:
    """Hyperparameters of :class:`ItemKNN`."""

    #: neighbours kept per item (the top-k most similar items of each target item); clipped to n_items − 1
    k: int = 100
    #: shrinkage added to the cosine denominator: sim = x_i·x_j / (‖x_i‖‖x_j‖ + shrink); damps rare pairs
    shrink: float = 10.0
    #: scale each item's kept neighbour similarities to sum to 1 (Deshpande & Karypis 2004), so an item's
    #: score is the share of its neighbourhood found in the history rather than favouring dense neighbourhoods
    normalize: bool = False
    #: reweight users before computing similarities: "none", "tfidf" (idf of each user over items) or "bm25"
    feature_weighting: Literal["none", "tfidf", "bm25"] = "none"
    #: binarise the training matrix and the scored rows (every interaction counts 1)
    implicit: bool = True

    def validate(self) -> None:
        require(self.k >= 1, "k", self.k, "pass a positive number of neighbours such as k=100.")
        require(self.shrink >= 0, "shrink", self.shrink, "pass a non-negative shrinkage such as shrink=10.")


def _weight_users(x: sp.csr_matrix, scheme: str) -> sp.csr_matrix:
    """Users are the features of an item: weight each user's entries by its idf (tfidf / bm25)."""
    if scheme == "none":
        return x
    n_users, n_items = x.shape
    activity = np.diff(x.indptr).astype(np.float64)  # items per user = document frequency of the "term"
    x = x.astype(np.float64)
    if scheme == "tfidf":
        idf = np.log(n_items / np.maximum(activity, 1.0))
        x.data *= np.repeat(idf, np.diff(x.indptr))
        return x
    # BM25 (k1 = 1.2, b = 0.75) with items as documents
    k1, b = 1.2, 0.75
    idf = np.log(n_items / np.maximum(activity, 1.0))
    doc_len = np.asarray(x.sum(axis=0)).ravel()  # length of each item "document"
    avg = doc_len.mean() if doc_len.size else 1.0
    cols = x.indices
    denom = x.data + k1 * (1.0 - b + b * doc_len[cols] / max(avg, 1e-12))
    x.data = x.data * (k1 + 1.0) / denom * np.repeat(idf, np.diff(x.indptr))
    return x


def knn_similarity(x: sp.csr_matrix, k: int, shrink: float, chunk: int | None = None) -> sp.csr_matrix:
    """Top-``k`` shrunk-cosine similarity S (n_items × n_items, CSR), column j holding j's neighbours.

    S[i, j] = x_i·x_j / (‖x_i‖‖x_j‖ + shrink) for the k largest i ≠ j of each column j (ties broken by
    the smaller item index); everything else is 0. Computed ``chunk`` columns at a time, so memory is
    O(n_items × chunk) for the block and O(n_items × k) for the result.
    """
    x = sp.csc_matrix(x, dtype=np.float64)
    n = x.shape[1]
    k = max(0, min(int(k), n - 1))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
    chunk = chunk or max(1, min(n, _CHUNK_BYTES // (8 * max(n, 1))))
    xt = x.T.tocsr()
    rows, cols, vals = [], [], []
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        block = np.asarray((xt @ x[:, start:stop]).todense())  # (n_items, stop-start) co-occurrence
        block /= norms[:, None] * norms[None, start:stop] + shrink + 1e-12 * (shrink == 0)
        local = np.arange(stop - start)
        block[start + local, local] = -np.inf  # no self-similarity
        if k == 0:
            continue
        # k largest per column, ties to the smaller index: stable sort on the negated values
        order = np.argsort(-block, axis=0, kind="stable")[:k]
        top_vals = np.take_along_axis(block, order, axis=0)
        keep = top_vals > 0
        rows.append(order[keep])
        cols.append(np.broadcast_to(start + local[None, :], order.shape)[keep])
        vals.append(top_vals[keep])
    if rows:
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    else:
        r = c = np.zeros(0, dtype=np.int64)
        v = np.zeros(0)
    s = sp.csr_matrix((v.astype(np.float32), (r, c)), shape=(n, n))
    s.sort_indices()
    return s


@register
class ItemKNN(Recommender):
    """Item-based k-nearest-neighbour CF — a heuristic baseline (Sarwar et al., WWW 2001; Deshpande &
    Karypis, TOIS 2004), with the shrunk cosine and top-k pruning of Ferrari Dacrema et al. (RecSys 2019).

    S[i, j] = x_i·x_j / (‖x_i‖‖x_j‖ + shrink), pruned to the k most similar items i of each item j;
    scores = X_u S. With ``normalize`` each column of S (an item's neighbourhood) is scaled to sum to 1,
    as in Deshpande & Karypis. Scores come from each row's history, so users not seen in training are
    served. Non-positive similarities are dropped.
    """

    name = "itemknn"
    config_cls = ItemKNNConfig

    def _fit(self, train: Interactions, validation: EvalSet | None) -> None:
        cfg = self.config
        x = _weight_users(binary_rows(train.matrix, self.config.implicit), cfg.feature_weighting)
        s = knn_similarity(x, cfg.k, cfg.shrink)
        if cfg.normalize:
            col_sums = np.asarray(s.sum(axis=0)).ravel()
            s = (s @ sp.diags(np.divide(1.0, col_sums, out=np.zeros_like(col_sums), where=col_sums > 0))).tocsr()
            s = sp.csr_matrix(s, dtype=np.float32)
            s.sort_indices()
        self.similarity_: sp.csr_matrix = s
        log.info("ItemKNN: %d items, %d similarities kept", train.n_items, self.similarity_.nnz)

    def _score(self, rows: sp.csr_matrix, user_rows: np.ndarray | None) -> np.ndarray:
        return np.asarray((binary_rows(rows, self.config.implicit) @ self.similarity_).todense(), dtype=np.float32)

    def _state(self) -> dict[str, np.ndarray]:
        s = self.similarity_
        return {"indptr": s.indptr.astype(np.int64), "indices": s.indices.astype(np.int32),
                "data": s.data.astype(np.float32)}

    def _load_state(self, arrays: dict[str, np.ndarray]) -> None:
        n = len(arrays["indptr"]) - 1
        self.similarity_ = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=(n, n))
