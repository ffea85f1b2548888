"""The generator plants what it says: taste clusters, heavy-tailed popularity, spread activity, seeded output."""

from __future__ import annotations

import numpy as np
import pytest

from recgen.data.generate import generate_interactions
from recgen.errors import ConfigError


@pytest.fixture(scope="module")
def generated():
    return generate_interactions(n_users=2000, n_items=1000, n_clusters=8, mean_items_per_user=30, seed=0)


def test_cluster_preference_is_measurable(generated):
    data, truth = generated
    coo = data.matrix.tocoo()
    own = truth.user_cluster[coo.row] == truth.item_cluster[coo.col]
    # planted: 80 % of the mass on the own cluster (+ 20 % / 8 spread); heavy users exhaust their cluster's
    # 125 items, so the realised share is lower (~0.67); chance level is 1/8
    assert 0.6 < own.mean() < 0.85
    # every cluster's users prefer their own cluster over any other one
    for c in range(8):
        rows = np.flatnonzero(truth.user_cluster == c)
        per_cluster = np.bincount(truth.item_cluster[data.matrix[rows].indices], minlength=8)
        assert per_cluster.argmax() == c


def test_popularity_heavy_tailed_and_follows_weights(generated):
    data, truth = generated
    counts = np.sort(data.item_counts())[::-1]
    top10 = counts[:100].sum() / counts.sum()
    assert top10 > 0.35  # uniform popularity would give 0.1
    cum = np.cumsum(np.sort(counts)) / counts.sum()
    gini = 1 - 2 * cum.mean() + 1 / len(counts)
    assert gini > 0.45
    rank_w = np.argsort(np.argsort(truth.item_weight))
    rank_c = np.argsort(np.argsort(data.item_counts()))
    assert np.corrcoef(rank_w, rank_c)[0, 1] > 0.8  # Spearman: more weight → more interactions


def test_user_activity_spread(generated):
    data, _ = generated
    act = data.user_counts()
    assert act.min() >= 1 and 27 < act.mean() < 33
    assert act.std() / act.mean() > 0.8  # log-normal sigma 1: CV ≈ 1.3 before clipping
    assert act.max() > 8 * np.median(act)


def test_timestamps_and_item_info(generated):
    data, truth = generated
    assert data.times is not None and data.times.nnz == data.nnz
    assert data.times.data.min() >= 1_577_836_800  # 2020-01-01
    info = truth.item_info()
    assert info.loc[17, "title"] == f"Synthetic item 17 (taste cluster {truth.item_cluster[17]})"
    assert list(info.columns) == ["item", "title", "genres", "year"]
    assert data.users.to_list()[:3] == ["0", "1", "2"] and data.n_items == 1000


def test_deterministic_by_seed():
    a, ta = generate_interactions(n_users=300, n_items=200, seed=5, mean_items_per_user=10)
    b, tb = generate_interactions(n_users=300, n_items=200, seed=5, mean_items_per_user=10)
    c, _ = generate_interactions(n_users=300, n_items=200, seed=6, mean_items_per_user=10)
    assert a.fingerprint() == b.fingerprint() and np.array_equal(ta.user_cluster, tb.user_cluster)
    assert a.fingerprint() != c.fingerprint()
    with pytest.raises(ConfigError, match="n_clusters=300 exceeds n_items=200"):
        generate_interactions(n_users=10, n_items=200, n_clusters=300)
