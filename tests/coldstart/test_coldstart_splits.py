"""Cold-start protocols: cold items held out entirely, new users' first n interactions by time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cold_helpers import planted

from recgen.data import Interactions
from recgen.data.splits_cold import cold_items_split, cold_users_split
from recgen.errors import ConfigError
from recgen.evaluation import evaluate


def test_cold_items_split_invariants():
    full = planted()[0]
    split = cold_items_split(full, item_share=0.2, seed=5)
    cold = full.items.lookup(split.meta["cold_items"])
    assert len(cold) == 18 and split.meta["counts"]["cold_items"] == 18
    assert split.train.item_counts()[cold].sum() == 0  # every interaction of a cold item is gone
    assert split.train.items == full.items  # ... but the columns stay (features stay aligned)
    t = split.test
    assert set(np.unique(t.target.indices)) <= set(cold)
    warm = np.setdiff1d(np.arange(full.n_items), cold)
    # exclude = every warm item for every test user → only the cold items are ranked
    assert all(np.array_equal(t.exclude[r].indices, warm) for r in range(t.n_users))
    # train + held-out target reproduce the data exactly
    rows = full.users.lookup(t.users.ids)
    np.testing.assert_array_equal((split.train.matrix[rows] + t.target).toarray(), full.matrix[rows].toarray())
    assert cold_items_split(full, 0.2, seed=5).meta["cold_items"] == split.meta["cold_items"]
    with pytest.raises(ConfigError, match="item_share"):
        cold_items_split(full, item_share=1.5)


def test_cold_items_evaluation_ranks_only_new_items():
    full, ub, ib, _, _ = planted()
    split = cold_items_split(full, 0.2, seed=1)
    cold = full.items.lookup(split.meta["cold_items"])

    class Oracle:  # planted truth: score 1 on the user's block
        def score(self, rows, user_rows=None):
            return (ib[None, :] == ub[user_rows][:, None]).astype(np.float32)

    res = evaluate(Oracle(), split.test, ks=(5,))
    assert res.topk_items.size and np.isin(res.topk_items, cold).all()
    # ties go to the lower index: each user's list is the first 5 cold items of their block
    t = split.test
    expected = [np.sort(cold[ib[cold] == ub[r]])[:5] for r in t.rows]
    np.testing.assert_array_equal(res.topk_items[:, :5], np.array(expected))
    hits = [len(set(e) & set(t.target[i].indices)) / 5 for i, e in enumerate(expected)]
    assert res["precision@5"] == pytest.approx(np.mean(hits))


def test_cold_users_first_n_by_time_hand_checked():
    # user "0": items a..f at times 6,5,4,3,2,1 → first items f, e, d ...; other users fill train
    rows = [("0", it, t) for it, t in zip("abcdef", [6, 5, 4, 3, 2, 1], strict=True)]
    rows += [(str(u), it, u) for u in range(1, 6) for it in "abcdef"[: 2 + u % 3]]
    df = pd.DataFrame(rows, columns=["user", "item", "time"])
    data = Interactions.from_frame(df, user="user", item="item", time="time")
    sp_ = cold_users_split(data, ns=(0, 1, 3), user_share=0.5, seed=0)
    assert "0" in sp_.heldout.astype(str).tolist() or data.users.ids[sp_.heldout].tolist().count("0") == 1
    held = data.users.ids[sp_.heldout].tolist()
    assert set(held) & set(sp_.train.users.ids) == set()
    r = held.index("0")
    names = data.items.ids
    assert sp_.by_n[0].input[r].nnz == 0 and sp_.by_n[0].target[r].nnz == 6
    assert names[sp_.by_n[1].input[r].indices].tolist() == ["f"]
    assert sorted(names[sp_.by_n[3].input[r].indices].tolist()) == ["d", "e", "f"]
    assert sorted(names[sp_.by_n[3].target[r].indices].tolist()) == ["a", "b", "c"]
    for ev in sp_.by_n.values():  # same users for every n; the input is excluded
        assert ev.users.ids.tolist() == held and (ev.exclude != ev.input).nnz == 0
    assert sp_.meta["order"] == "time"
    with pytest.raises(ConfigError, match="ns="):
        cold_users_split(data, ns=(1, 1))


def test_cold_items_validation_items_are_disjoint_and_also_cold():
    full = planted()[0]
    split = cold_items_split(full, item_share=0.2, val_share=0.1, seed=2)
    test_cold = full.items.lookup(split.meta["cold_items"])
    val_cold = full.items.lookup(split.meta["val_cold_items"])
    assert len(val_cold) == 9 and not set(val_cold) & set(test_cold)
    assert split.train.item_counts()[np.concatenate([val_cold, test_cold])].sum() == 0
    v = split.val
    assert set(np.unique(v.target.indices)) <= set(val_cold)
    others = np.setdiff1d(np.arange(full.n_items), val_cold)
    assert all(np.array_equal(v.exclude[r].indices, others) for r in range(v.n_users))
    assert split.meta["cold_items"] != cold_items_split(full, 0.2, seed=2).meta["val_cold_items"]
