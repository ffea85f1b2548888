"""Privacy metrics: exact copies, DCR, and the membership-inference AUC."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recgen.data import generate_interactions
from recgen.synth.report_privacy import auc_from_scores, exact_copy_rate, nearest_jaccard_distance, privacy


def test_auc_from_scores_by_ranks():
    assert auc_from_scores([3, 4], [1, 2]) == 1.0
    assert auc_from_scores([1, 2], [3, 4]) == 0.0
    assert auc_from_scores([1, 1], [1, 1]) == 0.5                       # ties count one half
    assert auc_from_scores([1, 3], [2, 0]) == pytest.approx(0.75)       # 3 of 4 pairs ordered


def test_nearest_jaccard_distance_hand_values():
    q = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 1, 1]], dtype=np.float32))
    r = sp.csr_matrix(np.array([[1, 1, 1, 0], [0, 0, 0, 1]], dtype=np.float32))
    # row 0: |{0,1}∩{0,1,2}| / |∪| = 2/3 → 1/3 ; row 1: vs {3}: 1/2, vs {0,1,2}: 1/4 → 1/2
    np.testing.assert_allclose(nearest_jaccard_distance(q, r), [1 / 3, 1 / 2])


def test_exact_copy_rate_counts_copied_rows(planted):
    train = planted.matrix[:100]
    other, _ = generate_interactions(n_users=20, n_items=planted.n_items, mean_items_per_user=12.0, seed=99)
    syn = sp.vstack([train[[5, 17, 42]], other.matrix[:7]], format="csr")
    assert exact_copy_rate(syn, train) == pytest.approx(0.3)


def test_mia_auc_is_half_for_an_independent_sample_and_one_for_a_copy():
    # one population, three disjoint groups of users: members, non-members, and an independent sample
    pop, _ = generate_interactions(n_users=900, n_items=150, n_clusters=4, mean_items_per_user=12.0, seed=5)
    train, holdout, indep = pop.matrix[:300], pop.matrix[300:600], pop.matrix[600:]
    p_indep = privacy(indep, train, holdout, seed=0)
    assert abs(p_indep["mia_auc"] - 0.5) < 0.08
    assert p_indep["mia_auc_ci"][0] < p_indep["mia_auc"] < p_indep["mia_auc_ci"][1]
    # tiny users (1–2 items) coincide by chance; an independent sample copies train no more than holdout
    assert abs(p_indep["exact_copy_rate"] - p_indep["exact_copy_rate_holdout"]) < 0.03
    assert abs(p_indep["share_closer_to_train"] - 0.5) < 0.1
    p_copy = privacy(train, train, holdout, seed=0)
    assert p_copy["mia_auc"] > 0.99        # < 1 only because a few tiny held-out users equal a train row
    assert p_copy["exact_copy_rate"] == pytest.approx(1.0)
    assert p_copy["dcr_train_median"] == 0.0 and p_copy["dcr_holdout_median"] > 0.3


def test_mia_auc_full_scores_every_member_and_non_member_hand_values():
    # synthetic {0,1}; members {0,1}, {0,1,2}, {3} are at Jaccard distance 0, 1/3, 1; non-members {0}, {2,3}
    # at 1/2, 1. Scores −d: 6 member/non-member pairs, 4 won, (−1 vs −1/2) lost, (−1 vs −1) tied → 4.5 / 6.
    def rows(sets):
        return sp.csr_matrix(np.array([[i in s for i in range(4)] for s in sets], dtype=np.float32))

    p = privacy(rows([{0, 1}]), rows([{0, 1}, {0, 1, 2}, {3}]), rows([{0}, {2, 3}]), seed=0)
    assert p["mia_auc_full"] == pytest.approx(0.75)
    assert (p["n_members_full"], p["n_nonmembers_full"]) == (3, 2)
    assert p["mia_auc_full_ci"][0] <= p["mia_auc_full"] <= p["mia_auc_full_ci"][1]
    p_cap = privacy(rows([{0, 1}]), rows([{0, 1}, {0, 1, 2}, {3}]), rows([{0}, {2, 3}]), max_members=1, seed=0)
    assert (p_cap["n_members_full"], p_cap["n_nonmembers_full"]) == (1, 1)
