"""Latent kNN: planted blocks recovered through the latent space, from_model, neighbours, save/load;
similar_items on item embeddings."""

from __future__ import annotations

import numpy as np
import pytest
from testkit import planted_blocks

from recgen.errors import ConfigError, UnknownIdError
from recgen.models import load_model
from recgen.models.latentknn import LatentKNN
from recgen.models.multvae import MultVAE
from recgen.models.similar import similar_items

BASE = {"epochs": 20, "batch_size": 32, "lr": 1e-2, "hidden_dims": (32,), "latent_dim": 8,
        "total_anneal_steps": 100, "show_progress": False, "num_threads": 1}


@pytest.fixture(scope="module")
def setup():
    data, ub, ib = planted_blocks(n_users=90, n_items=30, seed=2)
    base = MultVAE(**BASE).fit(data)
    return data, ub, ib, base


def test_fit_trains_the_base_and_equals_from_model(setup):
    data, ub, ib, base = setup
    overrides = tuple(f"{k}={list(v) if isinstance(v, tuple) else v}" for k, v in BASE.items())
    knn = LatentKNN(k=10, base_overrides=overrides).fit(data)
    wrapped = LatentKNN.from_model(base, data, k=10)
    assert knn.base_.config == base.config
    np.testing.assert_array_equal(knn.score(data.matrix[:9]), wrapped.score(data.matrix[:9]))


def test_neighbours_share_the_block_and_exclude_the_user(setup):
    data, ub, ib, base = setup
    knn = LatentKNN.from_model(base, data, k=5)
    rows = np.arange(12)
    idx, sims = knn.neighbours(data.matrix[rows], user_rows=rows)
    assert not (idx == rows[:, None]).any()                       # never one's own neighbour
    assert (ub[idx] == ub[rows, None]).mean() >= 0.95
    assert np.all(np.diff(sims, axis=1) <= 1e-6)                  # best first
    # without user_rows (an unseen user with the same history) the user is its own nearest neighbour
    idx_new, sims_new = knn.neighbours(data.matrix[rows])
    np.testing.assert_array_equal(idx_new[:, 0], rows)
    np.testing.assert_allclose(sims_new[:, 0], 1.0, rtol=1e-5)


def test_scores_are_similarity_weighted_neighbour_rows(setup):
    data, ub, ib, base = setup
    knn = LatentKNN.from_model(base, data, k=4)
    idx, sims = knn.neighbours(data.matrix[:3], user_rows=np.arange(3))
    expected = np.stack([(np.maximum(s, 0)[:, None] * data.matrix[i].toarray()).sum(0) for i, s in zip(idx, sims,
                                                                                                     strict=True)])
    np.testing.assert_allclose(knn.score(data.matrix[:3], user_rows=np.arange(3)), expected, rtol=1e-5, atol=1e-6)
    s = LatentKNN.from_model(base, data, k=10).score(data.matrix, user_rows=np.arange(data.n_users))
    s[data.matrix.nonzero()] = -np.inf
    best = np.argmax(s, axis=1)                                   # (users have as few as 1 unseen own item)
    assert (ib[best] == ub).mean() >= 0.95


def test_save_load_restores_base_and_index(setup, tmp_path):
    data, ub, ib, base = setup
    knn = LatentKNN.from_model(base, data, k=7)
    loaded = load_model(knn.save(tmp_path / "knn"))
    assert isinstance(loaded, LatentKNN) and isinstance(loaded.base_, MultVAE)
    assert loaded.base_.config == base.config and loaded.config.k == 7
    np.testing.assert_array_equal(loaded.latents_, knn.latents_)
    np.testing.assert_array_equal(loaded.score(data.matrix[:10]), knn.score(data.matrix[:10]))
    np.testing.assert_array_equal(loaded.base_.score(data.matrix[:10]), base.score(data.matrix[:10]))


def test_base_without_latent_space_is_rejected(setup):
    data = setup[0]
    with pytest.raises(ConfigError, match="base='ease'"):
        LatentKNN(base="ease").fit(data)


def test_similar_items_cosine_of_item_embeddings(setup):
    data, ub, ib, base = setup
    ids, sims = similar_items(base, ["0", "1"], k=5)
    assert [len(x) for x in ids] == [5, 5] and "0" not in ids[0] and "1" not in ids[1]
    emb = base.item_embeddings()
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    cos = unit @ unit[0]
    cos[0] = -np.inf
    np.testing.assert_allclose(sims[0], np.sort(cos)[::-1][:5], rtol=1e-5)
    assert all(ib[int(i)] == ib[0] for i in ids[0])                # same planted block
    assert np.all(np.diff(sims, axis=1) <= 0)
    with pytest.raises(UnknownIdError):
        similar_items(base, ["no-such-item"], k=3)
    with pytest.raises(ConfigError, match="k="):
        similar_items(base, ["0"], k=data.n_items)


def test_similar_items_needs_embeddings(setup):
    from recgen.models.ease import EASE

    data = setup[0]
    with pytest.raises(ConfigError, match="no item embeddings"):
        similar_items(EASE().fit(data), ["0"], k=3)
