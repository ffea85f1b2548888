"""Augmentation bookkeeping: real rows and real test users are never changed."""

from __future__ import annotations

import numpy as np
import pytest

from recgen.data import random_split
from recgen.synth import augment_sparse_users, augment_with_users, augmentation_experiment


def test_augment_with_users_appends_after_the_real_rows(fitted_gan, planted_split):
    train = planted_split.train
    fake = fitted_gan.sample(50, seed=0)
    aug = augment_with_users(train, fake)
    assert aug.n_users == train.n_users + 50 and aug.items == train.items
    assert (aug.matrix[:train.n_users] != train.matrix).nnz == 0
    assert (aug.matrix[train.n_users:] != fake.matrix).nnz == 0
    assert list(aug.users.ids[:train.n_users]) == list(train.users.ids)
    assert all(u.startswith("synth:") for u in aug.users.ids[train.n_users:])


def test_augment_sparse_users_only_adds_items_to_sparse_users(fitted_gan, planted_split):
    train = planted_split.train
    aug, info = augment_sparse_users(train, fitted_gan, seed=0)
    counts, new = train.user_counts(), aug.user_counts()
    sparse = counts <= info["max_activity"]
    assert info["users_augmented"] == int(sparse.sum()) > 0
    assert np.all(new[sparse] == info["target_activity"])
    assert np.array_equal(new[~sparse], counts[~sparse])
    assert train.matrix.multiply(aug.matrix).nnz == train.nnz          # every real interaction kept
    assert info["interactions_added"] == aug.nnz - train.nnz
    assert list(aug.users.ids) == list(train.users.ids)


def test_experiment_leaves_the_test_users_untouched_and_pairs_users(fitted_gan, planted):
    split = random_split(planted, val_ratio=0.0, test_ratio=0.2, seed=0)
    test_before = (split.test.input.copy(), split.test.target.copy(), split.test.exclude.copy())
    gan = fitted_gan  # fitted on other users of the same item set: enough for bookkeeping
    assert gan.items_ == split.train.items
    conditions = {"+users": augment_with_users(split.train, gan.sample(100, seed=1)),
                  "+copy": split.train}
    res = augmentation_experiment(split.train, split.test, conditions, {"ease": {"l2": 50.0}}, n_groups=2)
    for before, after in zip(test_before, (split.test.input, split.test.target, split.test.exclude), strict=True):
        assert (before != after).nnz == 0
    rows = res["models"]["ease"]
    # training on an identical copy of the real data changes nothing: Δ = 0 exactly, p = 1
    assert rows["+copy"]["delta"] == 0.0 and rows["+copy"]["p_value"] == 1.0
    assert sum(g["users"] for g in rows["+users"]["groups"]) == res["n_test_users"]
    assert rows["+users"]["ndcg"] == pytest.approx(rows["real"]["ndcg"] + rows["+users"]["delta"])
