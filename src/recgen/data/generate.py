"""Synthetic interactions with planted structure, for tests, demos and sanity checks of models.

The generator plants three properties seen in real recommender data:

- **item popularity** follows a power law: the item of popularity rank ``r`` (1-based) has base weight
  ``r ** -popularity_exponent`` (ranks are shuffled over item ids);
- **user activity** is log-normal (a long tail of heavy users) with mean ``mean_items_per_user``;
- **taste clusters**: every user and item belongs to one of ``n_clusters``; a user draws a share
  ``cluster_strength`` of the probability mass from items of their own cluster (popularity-weighted) and the rest
  from the whole catalogue.

A user's items are drawn without replacement (Gumbel top-k over log-probabilities, chunked over users, so
the user × item matrix is never built whole). Every interaction has a timestamp: each user is active from a
random start day, with exponential gaps between events. All randomness comes from ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recgen.data.interactions import Interactions
from recgen.data.vocabulary import Vocabulary
from recgen.errors import ConfigError

_START = 1_577_836_800  # 2020-01-01T00:00:00Z
_DAY = 86_400


@dataclass(frozen=True)
class GeneratedTruth:
    """The planted structure: cluster labels by user / item index and the items' base popularity weights."""

    user_cluster: np.ndarray
    item_cluster: np.ndarray
    item_weight: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    def item_info(self) -> pd.DataFrame:
        """Item metadata in the :func:`recgen.data.read_item_info` layout, clearly labelled synthetic."""
        n = len(self.item_cluster)
        return pd.DataFrame({
            "item": pd.Series([str(i) for i in range(n)], dtype=object),
            "title": pd.Series([f"Synthetic item {i} (taste cluster {c})" for i, c in enumerate(self.item_cluster)],
                               dtype=object),
            "genres": pd.Series([f"cluster-{c}" for c in self.item_cluster], dtype=object),
            "year": pd.array([pd.NA] * n, dtype="Int64"),
        })


def generate_interactions(n_users: int = 2000, n_items: int = 1000, n_clusters: int = 8,
                          mean_items_per_user: float = 30.0, popularity_exponent: float = 1.0,
                          cluster_strength: float = 0.8, activity_sigma: float = 1.0,
                          seed: int = 0) -> tuple[Interactions, GeneratedTruth]:
    """Implicit (all-ones) interactions with timestamps, and the structure planted in them.

    User and item ids are ``"0" .. str(n-1)`` and equal their row / column index (items nobody drew stay as
    empty columns so that ``truth.item_cluster[j]`` describes column ``j``).
    """
    for name, v, lo in (("n_users", n_users, 1), ("n_items", n_items, 2), ("n_clusters", n_clusters, 1)):
        if not isinstance(v, int | np.integer) or v < lo:
            raise ConfigError(f"{name}={v!r} must be an integer ≥ {lo}.")
    if n_clusters > n_items:
        raise ConfigError(f"n_clusters={n_clusters} exceeds n_items={n_items}; use fewer clusters.")
    if not 0.0 <= cluster_strength <= 1.0:
        raise ConfigError(f"cluster_strength={cluster_strength!r} must lie in [0, 1].")
    if not 1.0 <= mean_items_per_user <= n_items / 2:
        raise ConfigError(f"mean_items_per_user={mean_items_per_user!r} must lie in [1, n_items / 2 = {n_items / 2}].")
    rng = np.random.default_rng(seed)

    item_cluster = rng.permutation(np.arange(n_items) % n_clusters)
    ranks = rng.permutation(n_items) + 1
    weight = ranks.astype(np.float64) ** -popularity_exponent
    weight /= weight.sum()
    user_cluster = rng.integers(0, n_clusters, size=n_users)

    mu = np.log(mean_items_per_user) - activity_sigma**2 / 2
    counts = np.clip(np.rint(rng.lognormal(mu, activity_sigma, size=n_users)), 1, n_items // 2).astype(np.int64)

    # per-cluster item distribution: strength × (own-cluster popularity) + (1 − strength) × popularity
    onehot = item_cluster[None, :] == np.arange(n_clusters)[:, None]
    own = np.where(onehot, weight[None, :], 0.0)
    own /= own.sum(axis=1, keepdims=True)
    log_p = np.log(cluster_strength * own + (1 - cluster_strength) * weight[None, :] + 1e-300)

    rows, cols = [], []
    chunk = max(1, 2_000_000 // n_items)
    for start in range(0, n_users, chunk):
        uc = user_cluster[start:start + chunk]
        keys = log_p[uc] + rng.gumbel(size=(len(uc), n_items))
        order = np.argsort(-keys, axis=1)
        k = counts[start:start + chunk]
        take = np.arange(n_items)[None, :] < k[:, None]
        rows.append(np.repeat(np.arange(start, start + len(uc)), k))
        cols.append(order[take])
    r, c = np.concatenate(rows), np.concatenate(cols)

    # timestamps: user start within the first year, then exponential gaps of ~2 days in random item order
    begin = _START + rng.integers(0, 365, size=n_users) * _DAY
    gaps = rng.exponential(2 * _DAY, size=len(r))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    cum = np.cumsum(gaps)
    offset = cum - np.repeat(cum[starts] - gaps[starts], counts)
    times = np.floor(begin[r] + offset)

    shape = (n_users, n_items)
    m = sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=shape)
    t = sp.csr_matrix((times, (r, c)), shape=shape)
    data = Interactions(m, Vocabulary.range(n_users), Vocabulary.range(n_items), t)
    params = {"n_users": n_users, "n_items": n_items, "n_clusters": n_clusters,
              "mean_items_per_user": mean_items_per_user, "popularity_exponent": popularity_exponent,
              "cluster_strength": cluster_strength, "activity_sigma": activity_sigma, "seed": seed}
    return data, GeneratedTruth(user_cluster, item_cluster, weight, params)
