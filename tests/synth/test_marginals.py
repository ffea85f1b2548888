"""Marginal and structure metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recgen.errors import DataFormatError
from recgen.synth.report_marginals import (
    cooccurrence,
    diversity,
    jensen_shannon,
    ks_statistic,
    marginals,
    singular_values,
    wasserstein,
)


def test_jensen_shannon_known_values():
    assert jensen_shannon([1, 0], [0, 1]) == pytest.approx(1.0)          # disjoint supports: log2(2)
    assert jensen_shannon([3, 3], [5, 5]) == pytest.approx(0.0)           # same after normalising
    # p = (½, ½), q = (1, 0), m = (¾, ¼): ½[½log2(⅔) + ½log2(2)] + ½ log2(4/3)
    expected = 0.5 * (0.5 * np.log2(0.5 / 0.75) + 0.5 * np.log2(2.0)) + 0.5 * np.log2(4 / 3)
    assert jensen_shannon([1, 1], [1, 0]) == pytest.approx(expected)
    assert expected == pytest.approx(0.311278, abs=1e-6)
    with pytest.raises(DataFormatError):
        jensen_shannon([0, 0], [1, 0])


def test_ks_and_wasserstein_known_values():
    assert ks_statistic([1, 2, 3], [2, 3, 4]) == pytest.approx(1 / 3)
    assert ks_statistic([1, 2, 3], [10, 11, 12]) == pytest.approx(1.0)
    assert wasserstein([1, 2, 3], [2, 3, 4]) == pytest.approx(1.0)


def test_marginals_gini_density_and_jsd_of_small_matrices():
    # item counts real: [2, 1, 1, 0] ; synthetic: [0, 0, 0, 2]
    real = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 1, 0]], dtype=np.float32))
    syn = sp.csr_matrix(np.array([[0, 0, 0, 1], [0, 0, 0, 1]], dtype=np.float32))
    m = marginals(real, syn)
    # Gini of [0, 1, 1, 2] sorted: Σ(2i−n−1)x = (−3)0 + (−1)1 + (1)1 + (3)2 = 6; / (4 · 4) = 0.375
    assert m["gini_real"] == pytest.approx(0.375)
    assert m["gini_synthetic"] == pytest.approx(0.75)                      # one item holds everything: (n−1)/n
    assert m["density_real"] == pytest.approx(4 / 8)
    assert m["popularity_jsd"] == pytest.approx(1.0)                        # disjoint item sets
    assert m["activity_ks"] == pytest.approx(1.0)                           # 2 items each vs 1 item each
    assert m["item_coverage_synthetic"] == pytest.approx(0.25)


def test_singular_values_of_a_known_matrix():
    x = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=np.float32))
    # X has singular values 2, 1, 0; the function scales by 1/√n_rows
    np.testing.assert_allclose(singular_values(x, k=2), np.array([2, 1]) / np.sqrt(3), rtol=1e-6)


def test_cooccurrence_is_perfect_for_a_copy_and_lift_is_flat_for_independent_items(planted):
    same = cooccurrence(planted.matrix, planted.matrix, top_items=40, n_pairs=200)
    assert same["rate_corr"] == pytest.approx(1.0) and same["lift_corr"] == pytest.approx(1.0)


def test_diversity_detects_collapse():
    rows = sp.csr_matrix(np.tile(np.array([[1, 1, 0, 0]], dtype=np.float32), (50, 1)))
    d = diversity(rows, n_pairs=200)
    assert d["distinct_rows"] == pytest.approx(1 / 50)
    assert d["mean_pair_jaccard"] == pytest.approx(1.0)
