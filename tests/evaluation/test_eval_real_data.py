"""On MovieLens 100K: the vectorised evaluation equals the per-user reference for a popularity model."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from eval_helpers import naive_metrics
from testkit import shared_path

from recgen.data import EvalSet, Vocabulary
from recgen.evaluation import breakdown_by_activity, breakdown_by_popularity, evaluate

pytestmark = pytest.mark.shared_data


class Popularity:
    def __init__(self, train: sp.csr_matrix) -> None:
        self.counts = np.diff(train.tocsc().indptr).astype(np.float32)  # users per item, integer ties

    def score(self, rows, *, user_rows=None):
        return np.tile(self.counts, (rows.shape[0], 1))


@pytest.fixture(scope="module")
def ml100k():
    raw = np.loadtxt(shared_path("ml-100k/u.data"), dtype=np.int64)
    users, u = np.unique(raw[:, 0], return_inverse=True)
    items, i = np.unique(raw[:, 1], return_inverse=True)
    test = np.random.default_rng(0).random(len(raw)) < 0.2  # per-rating random 80/20
    shape = (len(users), len(items))
    ones = np.ones(len(raw), dtype=np.float32)
    train = sp.csr_matrix((ones[~test], (u[~test], i[~test])), shape=shape)
    target = sp.csr_matrix((ones[test], (u[test], i[test])), shape=shape)
    ev = EvalSet(Vocabulary(users), train, target, train, rows=np.arange(len(users)))
    return train, ev


def test_popularity_on_ml100k_matches_reference(ml100k):
    train, ev = ml100k
    model = Popularity(train)
    res = evaluate(model, ev, ks=(5, 20), batch_size=300, item_popularity=model.counts)
    ref = naive_metrics(np.tile(model.counts, (ev.n_users, 1)), ev, (5, 20))
    assert res.n_users == len(ref["recall@5"]) and res.n_users + res.n_skipped == ev.n_users == 943
    for name, values in ref.items():
        np.testing.assert_allclose(res.per_user[name], values, rtol=1e-12, atol=1e-12, err_msg=name)
    # popularity bias shows up as expected: higher metrics for the head than the tail, high exposure Gini
    head, tail = breakdown_by_popularity(res, ev, model.counts, head_share=0.2)
    assert head.means["recall@20"] > 5 * tail.means["recall@20"]
    assert res["gini@20"] > 0.9 and res["coverage@20"] < 0.1
    groups = breakdown_by_activity(res, ev, n_groups=4)
    assert sum(g.n_users for g in groups) == res.n_users
