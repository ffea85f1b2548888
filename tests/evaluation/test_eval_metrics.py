"""Every ranking metric against values worked out by hand on tiny lists."""

from __future__ import annotations

import math

import numpy as np
import pytest
from eval_helpers import csr

from recgen.errors import ConfigError
from recgen.evaluation import hits_matrix, metrics_from_topk

L2 = math.log2
N_ITEMS = 20


@pytest.fixture
def case():
    # user A: 4 targets {0,1,2,3}, hits at ranks 1 and 3
    # user B: 8 targets {0..7}, hits at ranks 2, 4, 5 (8 > k = 5: standard and truncated recall differ)
    # user C: 1 target, no hit; user D: no target at all (NaN, left out of means)
    top = np.array([
        [0, 10, 1, 11, 12],
        [10, 0, 11, 1, 2],
        [10, 11, 12, 13, 14],
        [0, 1, 2, 3, 4],
    ])
    target = csr([[0, 1, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7], [5], []], N_ITEMS)
    return metrics_from_topk(top, target, ks=(3, 5))


def test_user_a_hits_at_ranks_1_and_3_of_4_targets(case):
    assert case["recall@5"][0] == pytest.approx(2 / 4)
    assert case["trecall@5"][0] == pytest.approx(2 / min(5, 4))
    assert case["ndcg@5"][0] == pytest.approx((1 + 1 / L2(4)) / (1 + 1 / L2(3) + 1 / L2(4) + 1 / L2(5)))
    assert case["precision@5"][0] == pytest.approx(2 / 5)
    assert case["hit@5"][0] == 1.0
    assert case["mrr@5"][0] == 1.0
    assert case["map@5"][0] == pytest.approx((1 / 1 + 2 / 3) / min(5, 4))
    # at k = 3 both hits are still inside the list; IDCG over min(4, 3) = 3 positions
    assert case["ndcg@3"][0] == pytest.approx((1 + 1 / L2(4)) / (1 + 1 / L2(3) + 1 / L2(4)))
    assert case["trecall@3"][0] == pytest.approx(2 / 3)
    assert case["recall@3"][0] == pytest.approx(2 / 4)


def test_user_b_truncated_and_standard_recall_differ_when_target_exceeds_k(case):
    assert case["recall@5"][1] == pytest.approx(3 / 8)
    assert case["trecall@5"][1] == pytest.approx(3 / 5)
    idcg5 = sum(1 / L2(i + 1) for i in range(1, 6))
    assert case["ndcg@5"][1] == pytest.approx((1 / L2(3) + 1 / L2(5) + 1 / L2(6)) / idcg5)
    assert case["precision@5"][1] == pytest.approx(3 / 5)
    assert case["mrr@5"][1] == pytest.approx(1 / 2)
    assert case["map@5"][1] == pytest.approx((1 / 2 + 2 / 4 + 3 / 5) / 5)
    assert case["recall@3"][1] == pytest.approx(1 / 8)
    assert case["trecall@3"][1] == pytest.approx(1 / 3)
    assert case["ndcg@3"][1] == pytest.approx((1 / L2(3)) / (1 + 1 / L2(3) + 1 / L2(4)))
    assert case["map@3"][1] == pytest.approx((1 / 2) / 3)
    assert case["precision@3"][1] == pytest.approx(1 / 3)


def test_user_without_hit_scores_zero_and_user_without_target_is_nan(case):
    for name, v in case.items():
        assert v[2] == 0.0, name
        assert np.isnan(v[3]), name
    assert set(case) == {f"{m}@{k}" for m in ("recall", "trecall", "ndcg", "precision", "hit", "mrr", "map")
                         for k in (3, 5)}


def test_mrr_is_zero_when_first_hit_is_beyond_k():
    top = np.array([[9, 8, 7, 0]])
    out = metrics_from_topk(top, csr([[0]], 10), ks=(3, 4))
    assert out["mrr@3"][0] == 0.0 and out["hit@3"][0] == 0.0
    assert out["mrr@4"][0] == pytest.approx(1 / 4) and out["hit@4"][0] == 1.0


def test_perfect_list_scores_one_and_empty_slots_never_hit():
    top = np.array([[2, 1, 0, -1]])
    out = metrics_from_topk(top, csr([[0, 1, 2]], 5), ks=(3, 4))
    for m in ("trecall", "ndcg", "map", "recall", "hit", "mrr"):
        assert out[f"{m}@3"][0] == pytest.approx(1.0), m
    assert out["precision@4"][0] == pytest.approx(3 / 4)
    assert hits_matrix(top, csr([[0, 1, 2]], 5)).tolist() == [[True, True, True, False]]


def test_hits_with_unsorted_target_indices():
    import scipy.sparse as sp

    t = sp.csr_matrix((np.ones(3), np.array([4, 1, 3]), np.array([0, 3])), shape=(1, 6))
    assert not t.has_sorted_indices
    assert hits_matrix(np.array([[3, 2, 1, 4]]), t).tolist() == [[True, False, True, True]]


def test_unknown_metric_is_named_with_a_suggestion():
    with pytest.raises(ConfigError, match="'ndgc'.*Did you mean 'ndcg'"):
        metrics_from_topk(np.array([[0]]), csr([[0]], 2), ks=(1,), metrics=["ndgc"])
