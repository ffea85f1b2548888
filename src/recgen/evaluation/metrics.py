"""Per-user ranking metrics from top-k index lists and a target CSR, fully vectorised.

All metrics use binary relevance: an item is relevant iff it is stored in the user's ``target`` row.
With ``h_i`` = 1 when the item at rank ``i`` (1-based) is relevant, ``T`` = number of target items:

- ``recall@k``    (standard; CFGAN, RecBole):  Σ_{i≤k} h_i / T
- ``trecall@k``   (truncated; Liang et al. 2018): Σ_{i≤k} h_i / min(k, T)
- ``ndcg@k``      DCG = Σ_{i≤k} h_i / log2(i + 1); IDCG = Σ_{i≤min(k,T)} 1 / log2(i + 1)
- ``precision@k`` Σ_{i≤k} h_i / k
- ``hit@k``       1 if any h_i = 1 (i ≤ k), else 0
- ``mrr@k``       1 / (rank of the first hit) if it is ≤ k, else 0
- ``map@k``       AP@k = Σ_{i≤k} P@i · h_i / min(k, T)

Users with ``T = 0`` get NaN (they cannot be evaluated) and are left out of means.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from recgen.errors import ConfigError, DataFormatError, suggest

#: accuracy metrics, in the order tables show them
RANKING_METRICS: tuple[str, ...] = ("recall", "trecall", "ndcg", "precision", "hit", "mrr", "map")
#: beyond-accuracy metrics computed from the recommendation lists (see :mod:`recgen.evaluation.beyond`)
BEYOND_METRICS: tuple[str, ...] = ("coverage", "gini", "popularity")
ALL_METRICS: tuple[str, ...] = RANKING_METRICS + BEYOND_METRICS


def check_metrics(metrics: Iterable[str] | None, *, allowed: Sequence[str] = ALL_METRICS) -> tuple[str, ...]:
    """Validate metric base names (``"recall"``, not ``"recall@20"``); ``None`` means all of ``allowed``."""
    if metrics is None:
        return tuple(allowed)
    if isinstance(metrics, str):
        metrics = [metrics]
    out = []
    for m in metrics:
        if m not in allowed:
            raise ConfigError(
                f"metrics contains unknown metric {m!r}; choose from {', '.join(allowed)} "
                f"(without the '@k' suffix).{suggest(m, allowed)}"
            )
        if m not in out:
            out.append(m)
    if not out:
        raise ConfigError(f"metrics is empty; pass at least one of {', '.join(allowed)}.")
    return tuple(out)


def hits_matrix(topk_items: np.ndarray, target: sp.spmatrix) -> np.ndarray:
    """Boolean (n, K): ``hits[u, r]`` is True iff item ``topk_items[u, r]`` is in ``target`` row ``u``.

    One ``searchsorted`` over the sorted keys ``row * n_items + item`` of the target entries; index
    ``-1`` (an empty slot) never hits.
    """
    tgt = sp.csr_matrix(target)
    n, kmax = topk_items.shape
    if tgt.shape[0] != n:
        raise DataFormatError(f"target has {tgt.shape[0]} rows but topk_items has {n}; pass the same users.")
    if not tgt.has_sorted_indices:
        tgt = tgt.sorted_indices()
    m = np.int64(tgt.shape[1])
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(tgt.indptr))
    keys = rows * m + tgt.indices.astype(np.int64)
    if len(keys) == 0:
        return np.zeros((n, kmax), dtype=bool)
    items = np.asarray(topk_items, dtype=np.int64)
    query = np.arange(n, dtype=np.int64)[:, None] * m + items
    pos = np.searchsorted(keys, query)
    pos = np.minimum(pos, len(keys) - 1)
    return (keys[pos] == query) & (items >= 0)


def n_relevant(target: sp.spmatrix) -> np.ndarray:
    """Number of target items per row (int64)."""
    return np.diff(sp.csr_matrix(target).indptr).astype(np.int64)


def ranking_metrics(hits: np.ndarray, n_target: np.ndarray, ks: Sequence[int],
                    metrics: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Per-user metric values at every ``k`` in ``ks`` from a hits matrix (n, K ≥ max(ks)).

    Returns ``{"recall@20": array (n,), ...}`` float64, NaN where ``n_target == 0``.
    """
    names = check_metrics(metrics, allowed=RANKING_METRICS)
    hits = np.asarray(hits, dtype=bool)
    n, kmax = hits.shape
    if max(ks) > kmax:
        raise ConfigError(f"ks contains {max(ks)} but the lists only have {kmax} items; compute top-{max(ks)}.")
    t = np.asarray(n_target, dtype=np.float64)
    valid = t > 0
    safe_t = np.where(valid, t, 1.0)
    h = hits.astype(np.float64)
    cum = np.cumsum(h, axis=1)                                   # hits within the first r ranks
    ranks = np.arange(1, kmax + 1, dtype=np.float64)
    disc = 1.0 / np.log2(ranks + 1.0)
    out: dict[str, np.ndarray] = {}
    if "ndcg" in names:
        dcg = np.cumsum(h * disc, axis=1)
        ideal = np.cumsum(disc)
    if "map" in names:
        ap = np.cumsum(h * cum / ranks, axis=1)                   # Σ P@i · h_i
    if "mrr" in names:
        any_hit = hits.any(axis=1)
        first = np.where(any_hit, hits.argmax(axis=1), kmax)      # 0-based rank of the first hit
    for k in ks:
        c = cum[:, k - 1]
        denom_trunc = np.minimum(safe_t, k)
        vals: dict[str, np.ndarray] = {}
        if "recall" in names:
            vals["recall"] = c / safe_t
        if "trecall" in names:
            vals["trecall"] = c / denom_trunc
        if "ndcg" in names:
            idcg = ideal[np.minimum(safe_t, k).astype(np.int64) - 1]
            vals["ndcg"] = dcg[:, k - 1] / idcg
        if "precision" in names:
            vals["precision"] = c / k
        if "hit" in names:
            vals["hit"] = (c > 0).astype(np.float64)
        if "mrr" in names:
            vals["mrr"] = np.where(first < k, 1.0 / (first + 1.0), 0.0)
        if "map" in names:
            vals["map"] = ap[:, k - 1] / denom_trunc
        for name in names:
            out[f"{name}@{k}"] = np.where(valid, vals[name], np.nan)
    return out


def metrics_from_topk(topk_items: np.ndarray, target: sp.spmatrix, ks: Sequence[int],
                      metrics: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Per-user metrics from top-k index lists (n, K) and the target CSR (n, n_items)."""
    return ranking_metrics(hits_matrix(topk_items, target), n_relevant(target), ks, metrics)
