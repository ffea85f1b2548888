"""ItemKNN: the shrunk-cosine similarity and top-k pruning against a hand-computed 4-item example."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recgen.data import Interactions
from recgen.models.itemknn import ItemKNN, knn_similarity

# users × items; item columns: x0 = {u0,u1,u3}, x1 = {u0,u1,u2}, x2 = {u1,u2}, x3 = {u3}
X = sp.csr_matrix(np.array([[1, 1, 0, 0],
                            [1, 1, 1, 0],
                            [0, 1, 1, 0],
                            [1, 0, 0, 1]], dtype=np.float32))
# co-occurrences 01:2, 02:1, 03:1, 12:2, 13:0, 23:0; norms √3, √3, √2, 1; shrink = 1
S01 = 2 / (3 + 1)
S02 = 1 / (np.sqrt(6) + 1)
S03 = 1 / (np.sqrt(3) + 1)
S12 = 2 / (np.sqrt(6) + 1)
FULL = np.array([[0, S01, S02, S03],
                 [S01, 0, S12, 0],
                 [S02, S12, 0, 0],
                 [S03, 0, 0, 0]])


def test_full_similarity_by_hand():
    s = knn_similarity(X, k=3, shrink=1.0).toarray()
    np.testing.assert_allclose(s, FULL, rtol=1e-6)


def test_top_k_pruning_keeps_each_items_best_neighbours():
    # k = 1: column j keeps its single most similar item
    want1 = np.zeros((4, 4))
    want1[1, 0] = S01        # item 0: 0.5 beats S03 ≈ 0.366 and S02 ≈ 0.290
    want1[2, 1] = S12        # item 1: S12 ≈ 0.580 beats S01 = 0.5
    want1[1, 2] = S12
    want1[0, 3] = S03        # item 3's only neighbour
    np.testing.assert_allclose(knn_similarity(X, k=1, shrink=1.0).toarray(), want1, rtol=1e-6)
    # k = 2: item 0 keeps 1 and 3 (drops 2); zero similarities are never stored
    s2 = knn_similarity(X, k=2, shrink=1.0)
    want2 = FULL.copy()
    want2[2, 0] = 0.0
    np.testing.assert_allclose(s2.toarray(), want2, rtol=1e-6)
    assert s2.nnz == 7
    # computed in chunks of one column, the answer is the same
    np.testing.assert_allclose(knn_similarity(X, k=2, shrink=1.0, chunk=1).toarray(), want2, rtol=1e-6)


def test_shrink_zero_is_plain_cosine():
    s = knn_similarity(X, k=3, shrink=0.0).toarray()
    assert np.isclose(s[0, 1], 2 / 3) and np.isclose(s[0, 3], 1 / np.sqrt(3)) and np.isclose(s[1, 2], 2 / np.sqrt(6))


def test_scores_aggregate_neighbourhoods_and_normalize():
    model = ItemKNN(k=1, shrink=1.0).fit(Interactions(X))
    hist = sp.csr_matrix(np.array([[1, 0, 1, 0]], dtype=np.float32))  # items 0 and 2
    # X_u S with the k=1 matrix: item1 ← S12 (from 2), item3 ← S03 (from 0), item0 ← S01 (not in history)
    np.testing.assert_allclose(model.score(hist), [[0, S12, 0, S03]], rtol=1e-6)
    norm = ItemKNN(k=2, shrink=1.0, normalize=True).fit(Interactions(X))
    # k=2 column 1 holds {0: S01, 2: S12}; normalised, history {0} gives item 1 the share S01 / (S01 + S12)
    got = norm.score(sp.csr_matrix(np.array([[1, 0, 0, 0]], dtype=np.float32)))
    np.testing.assert_allclose(got[0, 1], S01 / (S01 + S12), rtol=1e-6)
    np.testing.assert_allclose(got[0, 3], 1.0, rtol=1e-6)  # item 3's only neighbour is item 0


def test_tfidf_downweights_heavy_users():
    # with idf weighting, u1 (3 items) counts less than u0 (2 items) in the 0–1 co-occurrence
    plain = knn_similarity(X, k=3, shrink=0.0).toarray()
    weighted = ItemKNN(k=3, shrink=0.0, feature_weighting="tfidf").fit(Interactions(X)).similarity_.toarray()
    idf = np.log(4 / np.array([2, 3, 2, 2]))
    w = X.toarray() * idf[:, None]
    cos = (w.T @ w) / np.outer(np.linalg.norm(w, axis=0), np.linalg.norm(w, axis=0))
    np.fill_diagonal(cos, 0.0)
    np.testing.assert_allclose(weighted, np.where(cos > 0, cos, 0), rtol=1e-5)
    assert not np.allclose(weighted, plain)
