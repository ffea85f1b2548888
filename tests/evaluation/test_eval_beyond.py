"""Coverage, exposure Gini, recommended popularity, and the breakdowns, on hand-made lists."""

from __future__ import annotations

import numpy as np
import pytest
from eval_helpers import csr, random_evalset

from recgen.data import EvalSet, Vocabulary
from recgen.evaluation import (
    breakdown_by_activity,
    breakdown_by_popularity,
    coverage,
    evaluate_scores,
    exposure_gini,
    gini,
    head_items,
    recommended_popularity,
)


def test_coverage_counts_distinct_recommended_items():
    lists = np.array([[0, 1], [1, 2], [1, -1]])
    assert coverage(lists, 2, 5) == pytest.approx(3 / 5)  # {0, 1, 2} of 5
    assert coverage(lists, 1, 5) == pytest.approx(2 / 5)  # {0, 1}


def test_gini_by_hand():
    assert gini(np.full(10, 3.0)) == 0.0
    # sorted x = 1,2,3,4: sum (2i-n-1) x_i = -3 - 2 + 3 + 12 = 10; / (n * sum x) = 10 / 40
    assert gini(np.array([4, 1, 3, 2])) == pytest.approx(0.25)
    assert gini(np.array([0, 0, 0, 5])) == pytest.approx(3 / 4)  # (n-1)/n
    # every item exposed to exactly one user -> uniform exposure
    assert exposure_gini(np.array([[0, 1], [2, 3]]), 2, 4) == 0.0
    # both users get item 0 only; item 1 never shown: exposure (2, 0) -> (-1*0 + 1*2) / (2*2)
    assert exposure_gini(np.array([[0], [0]]), 1, 2) == pytest.approx(0.5)


def test_recommended_popularity_ignores_empty_slots():
    pop = np.array([10.0, 0.0, 4.0])
    out = recommended_popularity(np.array([[0, 2], [1, -1]]), 2, pop)
    assert out.tolist() == [7.0, 0.0]


def test_activity_breakdown_groups_by_quantile():
    # 8 users with activity 1,1,2,3,4,5,6,7; two groups split at the median 3.5
    acts = [1, 1, 2, 3, 4, 5, 6, 7]
    inp = csr([list(range(a)) for a in acts], 10)
    target = csr([[9]] * 8, 10)
    ev = EvalSet(Vocabulary([f"u{i}" for i in range(8)]), inp, target, inp)
    scores = np.zeros((8, 10), dtype=np.float32)
    scores[4:, 9] = 1.0  # only the four most active users get their target at rank 1
    res = evaluate_scores(scores, ev, ks=(1,))
    groups = breakdown_by_activity(res, ev, n_groups=2, metrics=["hit@1"])
    assert [(g.low, g.high, g.n_users) for g in groups] == [(1, 3, 4), (4, 7, 4)]
    assert [g.means["hit@1"] for g in groups] == [0.0, 1.0]


def test_activity_breakdown_sizes_sum_to_n_and_ties_share_a_group():
    ev = random_evalset(200, 30, p_target=0.1, p_exclude=0.15, seed=4)
    res = evaluate_scores(np.random.default_rng(0).random((200, 30)), ev, ks=(5,))
    groups = breakdown_by_activity(res, ev, n_groups=4)
    assert sum(g.n_users for g in groups) == res.n_users
    assert all(a.high < b.low for a, b in zip(groups, groups[1:], strict=False))
    counts = np.arange(res.n_users) % 3  # heavy ties: at most 3 non-empty groups
    g2 = breakdown_by_activity(res, counts=counts, n_groups=4)
    assert sum(g.n_users for g in g2) == res.n_users and len(g2) <= 3


def test_head_definitions():
    pop = np.array([5.0, 50, 10, 30, 5])
    assert head_items(pop, 0.4).tolist() == [False, True, False, True, False]  # 2 of 5 items
    # interactions: 50 alone is 50 % of 100; 60 % needs 50 + 30
    assert np.flatnonzero(head_items(pop, 0.5, "interactions")).tolist() == [1]
    assert np.flatnonzero(head_items(pop, 0.6, "interactions")).tolist() == [1, 3]


def test_popularity_breakdown_head_vs_tail_by_hand():
    pop = np.arange(10, 0, -1).astype(float)  # item 0 most popular; head (20 %) = items 0, 1
    target = csr([[0, 5, 6], [7]], 10)
    ev = EvalSet(Vocabulary(["a", "b"]), csr([[], []], 10), target, csr([[], []], 10))
    scores = np.zeros((2, 10), dtype=np.float32)
    scores[0, [0, 5, 9]] = [3, 2, 1]  # user a: list 0, 5, 9 -> head target 0 hit, tail 5 hit, 6 missed
    res = evaluate_scores(scores, ev, ks=(3,))  # user b: list 0, 1, 2 -> misses its only (tail) target 7
    head, tail = breakdown_by_popularity(res, ev, pop, head_share=0.2)
    assert (head.label, head.n_users, head.means["recall@3"]) == ("head", 1, 1.0)
    assert tail.n_users == 2
    assert tail.means["recall@3"] == pytest.approx((1 / 2 + 0) / 2)
    # user a, tail targets {5, 6}: hit at rank 2 -> (1/log2 3) / (1 + 1/log2 3)
    assert tail.means["ndcg@3"] == pytest.approx((1 / np.log2(3)) / (1 + 1 / np.log2(3)) / 2)
