"""Item-to-item similarity for ``GET /items/{id}/similar``, from whatever the model learned about items.

Which representation is used, in order of preference:

1. ``model.item_embeddings()`` (autoencoders: one vector per item) → cosine similarity of the vectors;
2. EASE's weight matrix ``B`` (``model.weights_``, n_items × n_items): row ``i`` of B is exactly what a
   one-item history ``{i}`` adds to every other item's score, so ``B[i, :]`` ranks the items EASE
   recommends to someone who took ``i``;
3. ItemKNN's pruned similarity ``S`` (``model.similarity_``, column ``j`` holding ``j``'s neighbours);
4. otherwise cosine similarity of the training co-occurrence columns ``X[:, i]`` and ``X[:, j]``.

The method used is reported with every answer. Nothing here imports FastAPI.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

Method = Literal["embedding-cosine", "ease-weights", "knn-similarity", "cooccurrence-cosine"]


class ItemSimilarity:
    """Precomputed per-model state for fast ``similar(i, k)`` calls (built once when a model is loaded)."""

    def __init__(self, model: Any) -> None:
        self.n_items = len(model.items_)
        self._emb: np.ndarray | None = None
        self._dense: np.ndarray | None = None
        self._sparse_cols: sp.csc_matrix | None = None
        emb = _embeddings(model)
        weights = getattr(model, "weights_", None)
        knn = getattr(model, "similarity_", None)
        if emb is not None:
            norms = np.linalg.norm(emb, axis=1, keepdims=True)
            self._emb = emb / np.maximum(norms, 1e-12)
            self.method: Method = "embedding-cosine"
        elif isinstance(weights, np.ndarray) and weights.shape == (self.n_items, self.n_items):
            self._dense = weights
            self.method = "ease-weights"
        elif sp.issparse(knn) and knn.shape == (self.n_items, self.n_items):
            self._sparse_cols = sp.csc_matrix(knn)
            self.method = "knn-similarity"
        else:
            x = sp.csr_matrix(model.train_, dtype=np.float32)
            x.data = np.ones_like(x.data)  # co-occurrence counts, whatever the interaction values
            self._x_csc = x.tocsc()
            self._x_csr = x
            self._col_norms = np.sqrt(np.asarray(x.sum(axis=0)).ravel()).astype(np.float32)
            self.method = "cooccurrence-cosine"

    def scores(self, item: int) -> np.ndarray:
        """Similarity of item ``item`` to every item (float32, length n_items); its own entry is −inf."""
        if self._emb is not None:
            out = self._emb @ self._emb[item]
        elif self._dense is not None:
            out = np.array(self._dense[item], dtype=np.float32)
        elif self._sparse_cols is not None:
            out = np.zeros(self.n_items, dtype=np.float32)
            col = self._sparse_cols[:, item]
            out[col.indices] = col.data
        else:
            users = self._x_csc[:, item].indices  # users who took the item
            co = np.asarray(self._x_csr[users].sum(axis=0)).ravel().astype(np.float32)  # co-occurrence counts
            denom = self._col_norms * self._col_norms[item]
            out = np.divide(co, denom, out=np.zeros_like(co), where=denom > 0)
        out = np.asarray(out, dtype=np.float32).copy()
        out[item] = -np.inf
        return out


def _embeddings(model: Any) -> np.ndarray | None:
    """``model.item_embeddings()`` as float32 (n_items, d), or None when the model has none."""
    fn = getattr(model, "item_embeddings", None)
    if not callable(fn):
        return None
    try:
        emb = np.asarray(fn(), dtype=np.float32)
    except NotImplementedError:  # the neural base class declares it; not every model defines it
        return None
    n = len(model.items_)
    return emb if emb.ndim == 2 and emb.shape[0] == n and emb.shape[1] > 0 else None


def similar_items(model: Any, item_index: int, k: int) -> tuple[np.ndarray, np.ndarray, Method]:
    """The ``k`` items most similar to ``item_index`` (indices, scores, method), best first.

    Builds the per-model state each call; a server keeps one :class:`ItemSimilarity` per loaded model.
    """
    sim = ItemSimilarity(model)
    idx, vals = top_k(sim.scores(item_index), k)
    return idx, vals, sim.method


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest finite scores, best first, ties to the smaller index.

    Fewer than ``k`` come back when fewer entries are finite (−inf marks excluded items; NaN too).
    """
    s = np.where(np.isnan(scores), -np.inf, scores)
    n_ok = int(np.isfinite(s).sum())
    k = min(int(k), n_ok)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    part = np.argpartition(-s, k - 1)[:k] if k < len(s) else np.arange(len(s))
    # a tie at the boundary may leave out a smaller index: include every entry equal to the k-th value
    kth = s[part].min()
    cand = np.flatnonzero(s >= kth)
    order = np.lexsort((cand, -s[cand]))[:k]
    top = cand[order]
    return top.astype(np.int64), s[top].astype(np.float32)
