"""Splits: invariants on random small data (hypothesis), hand-computed cases, vae_cf parity, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recgen.data import Interactions
from recgen.data.splits import given_split, heldout_users_split, random_split
from recgen.data.splits_time import leave_last_k_split, time_cutoff_split
from recgen.errors import ConfigError, DataFormatError

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_data(seed: int, n_users: int, n_items: int, density: float, timed: bool = True) -> Interactions:
    rng = np.random.default_rng(seed)
    dense = rng.random((n_users, n_items)) < density
    dense[np.arange(n_users), rng.integers(0, n_items, n_users)] = True  # every user has an item
    m = sp.csr_matrix(dense.astype(np.float32) * rng.integers(1, 6, dense.shape).astype(np.float32))
    times = None
    if timed:  # few distinct times, so ties happen
        times = m.copy().astype(np.float64)
        times.data = rng.integers(0, 8, m.nnz).astype(np.float64) * 100.0
    return Interactions(m, times=times)


data_params = st.tuples(st.integers(0, 2**31), st.integers(6, 30), st.integers(2, 25), st.floats(0.05, 0.7))


def pairs(m: sp.csr_matrix, users, items) -> set[tuple[str, str]]:
    c = m.tocoo()
    return set(zip(users.ids[c.row], items.ids[c.col], strict=True))


def pairs_values(m: sp.csr_matrix, users, items) -> dict[tuple[str, str], float]:
    c = m.tocoo()
    return dict(zip(zip(users.ids[c.row], items.ids[c.col], strict=True), c.data.tolist(), strict=True))


def same_csr(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    return a.shape == b.shape and all(np.array_equal(x, y) for x, y in
                                      ((a.indptr, b.indptr), (a.indices, b.indices), (a.data, b.data)))


def same_split(a, b) -> bool:
    if not same_csr(a.train.matrix, b.train.matrix) or a.train.users != b.train.users:
        return False
    for ea, eb in ((a.val, b.val), (a.test, b.test)):
        if (ea is None) != (eb is None):
            return False
        if ea is not None and not (ea.users == eb.users and all(same_csr(getattr(ea, n), getattr(eb, n))
                                                                for n in ("input", "target", "exclude"))):
            return False
    return True


# ---------------------------------------------------------------------- held-out users
@FAST
@given(data_params, st.floats(0.5, 0.9), st.integers(1, 6))
def test_heldout_users_invariants(p, fold_in, min_target):
    data = make_data(*p, timed=False)
    n = data.n_users
    n_val, n_test = max(1, n // 5), max(1, n // 4)
    s = heldout_users_split(data, n_val, n_test, fold_in=fold_in, seed=p[0] % 1000, min_target_items=min_target)
    tr, va, te = set(s.train.users.ids), set(s.val.users.ids), set(s.test.users.ids)
    assert len(tr) == n - n_val - n_test and len(va) == n_val and len(te) == n_test
    assert not (tr & va or tr & te or va & te) and tr | va | te == set(data.users.ids)
    # item universe = items seen among training users
    train_rows = data.users.lookup(s.train.users.ids)
    assert set(s.items.ids) == set(data.items.ids[np.flatnonzero(data.matrix[train_rows].getnnz(axis=0))])
    assert pairs(s.train.matrix, s.train.users, s.items) == pairs(data.matrix[train_rows], s.train.users, data.items)
    universe = set(s.items.ids)
    prop = round(1 - fold_in, 12)
    for ev, role in ((s.val, "val"), (s.test, "test")):
        assert (ev.rows == -1).all() and same_csr(ev.exclude, (ev.input > 0).astype(np.float32).tocsr())
        dropped = 0
        for r, u in enumerate(ev.users.ids):
            own = set(data.items.ids[data.matrix[data.users.lookup([u])[0]].indices])
            dropped += len(own - universe)
            fold = set(s.items.ids[ev.input[r].indices])
            target = set(s.items.ids[ev.target[r].indices])
            assert not fold & target and fold | target == own & universe
            m = len(own & universe)
            assert len(target) == (int(prop * m) if m >= min_target else 0)
        assert s.meta["dropped_interactions"][role] == dropped
    c = s.meta["counts"]["test"]
    assert c["users_without_target"] == int((np.diff(s.test.target.indptr) == 0).sum())


def test_heldout_users_determinism_and_seed():
    data = make_data(3, 60, 30, 0.3, timed=False)
    a = heldout_users_split(data, 10, 10, seed=1)
    assert same_split(a, heldout_users_split(data, 10, 10, seed=1))
    assert not same_split(a, heldout_users_split(data, 10, 10, seed=2))


def _vae_cf_reference(df: pd.DataFrame, n_heldout: int, seed: int = 98765):
    """dawenl/vae_cf's preprocessing written with pandas (global np.random replaced by RandomState)."""
    user_activity = df.groupby("userId").size()
    unique_uid = user_activity.index
    idx_perm = np.random.RandomState(seed).permutation(unique_uid.size)
    unique_uid = unique_uid[idx_perm]
    n_users = unique_uid.size
    tr_users = unique_uid[:(n_users - n_heldout * 2)]
    vd_users = unique_uid[(n_users - n_heldout * 2):(n_users - n_heldout)]
    te_users = unique_uid[(n_users - n_heldout):]
    train_plays = df.loc[df["userId"].isin(tr_users)]
    unique_sid = pd.unique(train_plays["movieId"])

    def split_prop(data, test_prop=0.2):
        rs = np.random.RandomState(seed)
        tr_list, te_list = [], []
        for _, group in data.groupby("userId"):
            n_items_u = len(group)
            if n_items_u >= 5:
                idx = np.zeros(n_items_u, dtype="bool")
                idx[rs.choice(n_items_u, size=int(test_prop * n_items_u), replace=False).astype("int64")] = True
                tr_list.append(group[np.logical_not(idx)])
                te_list.append(group[idx])
            else:
                tr_list.append(group)
        return pd.concat(tr_list), pd.concat(te_list)

    out = {}
    for role, users in (("val", vd_users), ("test", te_users)):
        plays = df.loc[df["userId"].isin(users) & df["movieId"].isin(unique_sid)]
        out[role] = split_prop(plays)
    return set(tr_users), set(unique_sid), out


def test_heldout_users_matches_vae_cf_reference():
    rng = np.random.default_rng(0)
    rows = [(u, i) for u in range(1, 81) for i in sorted(rng.choice(np.arange(1, 60), rng.integers(2, 25),
                                                                     replace=False))]
    df = pd.DataFrame(rows, columns=["userId", "movieId"])  # sorted by user, then movie, like ratings.csv
    data = Interactions.from_frame(df, user="userId", item="movieId")
    s = heldout_users_split(data, 15, 15, fold_in=0.8, seed=98765)
    tr_users, sids, ref = _vae_cf_reference(df, 15)
    assert set(s.train.users.ids) == {str(u) for u in tr_users}
    assert set(s.items.ids) == {str(i) for i in sids}
    for role, ev in (("val", s.val), ("test", s.test)):
        ref_tr, ref_te = ref[role]
        assert pairs(ev.input, ev.users, s.items) == {(str(u), str(i)) for u, i in ref_tr.itertuples(index=False)}
        assert pairs(ev.target, ev.users, s.items) == {(str(u), str(i)) for u, i in ref_te.itertuples(index=False)}


def test_heldout_users_errors():
    data = make_data(0, 10, 8, 0.4, timed=False)
    with pytest.raises(ConfigError, match=r"n_val_users=5 \+ n_test_users=5 .*10 users"):
        heldout_users_split(data, 5, 5)
    with pytest.raises(ConfigError, match="fold_in=1.2"):
        heldout_users_split(data, 2, 2, fold_in=1.2)
    with pytest.raises(ConfigError, match="n_test_users=0"):
        heldout_users_split(data, 2, 0)
    with pytest.raises(ConfigError, match="seed=-1"):
        heldout_users_split(data, 2, 2, seed=-1)
    s = heldout_users_split(data, 0, 2)
    assert s.val is None and "val" not in s.meta["dropped_interactions"]


# ---------------------------------------------------------------------- per-user common checks
def check_per_user(data: Interactions, s, *, complete: bool = True) -> None:
    """train ∪ val ∪ test = data (values too) and disjoint; input/exclude/rows follow DEVELOPERS.md."""
    u, it = s.train.users, s.items
    tr = pairs_values(s.train.matrix, u, it)
    va = pairs_values(s.val.target, u, it) if s.val is not None else {}
    te = pairs_values(s.test.target, u, it)
    assert not (tr.keys() & va.keys() or tr.keys() & te.keys() or va.keys() & te.keys())
    if complete:
        assert {**tr, **va, **te} == pairs_values(data.matrix, data.users, data.items)
    ones = (s.train.matrix > 0).astype(np.float32).tocsr()
    for ev in (s.val, s.test):
        if ev is None:
            continue
        assert ev.users == u and np.array_equal(ev.rows, np.arange(len(u)))
        assert same_csr(ev.input, s.train.matrix)
        assert (ev.exclude.multiply(ev.input > 0)).nnz == ev.input.nnz  # exclude ⊇ input
    assert pairs(s.test.exclude, u, it) == tr.keys() | va.keys()
    if s.val is not None:
        assert same_csr(s.val.exclude, ones)


# ---------------------------------------------------------------------- random
@FAST
@given(data_params, st.floats(0.0, 0.4), st.floats(0.05, 0.5))
def test_random_split_invariants(p, val_ratio, test_ratio):
    data = make_data(*p)
    s = random_split(data, val_ratio=val_ratio, test_ratio=test_ratio, seed=p[0] % 997)
    check_per_user(data, s)
    assert (s.val is None) == (val_ratio == 0)
    n = data.user_counts()
    n_test = np.diff(s.test.target.indptr)
    n_val = np.diff(s.val.target.indptr) if s.val is not None else np.zeros_like(n)
    assert (s.train.user_counts() >= 1).all()
    exp_test = np.minimum(np.floor(test_ratio * n + 0.5 + 1e-9), n - 1)
    assert np.array_equal(n_test, exp_test)
    assert np.array_equal(n_val, np.minimum(np.floor(val_ratio * n + 0.5 + 1e-9), n - 1 - exp_test))


def test_random_split_hand_counts_and_seed():
    sizes = [10, 5, 3, 2, 1]
    dense = np.zeros((5, 12), dtype=np.float32)
    for r, k in enumerate(sizes):
        dense[r, :k] = 1
    data = Interactions(sp.csr_matrix(dense))
    s = random_split(data, val_ratio=0.1, test_ratio=0.2, seed=5)
    assert np.diff(s.test.target.indptr).tolist() == [2, 1, 1, 0, 0]
    assert np.diff(s.val.target.indptr).tolist() == [1, 1, 0, 0, 0]
    assert s.train.user_counts().tolist() == [7, 3, 2, 2, 1]
    big = make_data(1, 40, 30, 0.4)
    assert same_split(random_split(big, seed=3), random_split(big, seed=3))
    assert not same_split(random_split(big, seed=3), random_split(big, seed=4))
    for bad in ({"val_ratio": -0.1}, {"test_ratio": 1.0}, {"test_ratio": 0}, {"val_ratio": 0.5, "test_ratio": 0.5}):
        with pytest.raises(ConfigError, match=f"{next(iter(bad))}="):
            random_split(big, **bad)


# ---------------------------------------------------------------------- leave-last-k
def _times_of(s_mat: sp.csr_matrix, data: Interactions, users) -> dict[tuple[str, str], float]:
    return {k: v for k, v in pairs_values(data.times, data.users, data.items).items()
            if k in pairs(s_mat, users, data.items)}


@FAST
@given(data_params, st.integers(1, 3), st.integers(0, 2))
def test_leave_last_k_invariants(p, k, val_k):
    data = make_data(*p)
    s = leave_last_k_split(data, k=k, val_k=val_k)
    check_per_user(data, s)
    n = data.user_counts()
    n_test = np.minimum(k, n - 1)
    assert np.array_equal(np.diff(s.test.target.indptr), n_test)
    if val_k:
        assert np.array_equal(np.diff(s.val.target.indptr), np.minimum(val_k, n - 1 - n_test))
    t = pairs_values(data.times, data.users, data.items)
    key = {pair: (t[pair], int(data.items.lookup([pair[1]])[0])) for pair in t}  # (time, item index) order
    u, it = s.train.users, s.items
    for r in range(s.train.n_users):
        tr = [key[(u.ids[r], i)] for i in it.ids[s.train.matrix[r].indices]]
        va = [key[(u.ids[r], i)] for i in it.ids[s.val.target[r].indices]] if s.val is not None else []
        te = [key[(u.ids[r], i)] for i in it.ids[s.test.target[r].indices]]
        assert all(a < b for a in tr + va for b in te) and all(a < b for a in tr for b in va)


def test_leave_last_ties_by_item_index_and_no_times_error():
    m = sp.csr_matrix(np.ones((1, 4), dtype=np.float32))
    times = m.copy().astype(np.float64)
    times.data = np.array([5.0, 9.0, 9.0, 1.0])
    s = leave_last_k_split(Interactions(m, times=times), k=1, val_k=1)
    assert s.test.target.indices.tolist() == [2] and s.val.target.indices.tolist() == [1]
    assert s.train.matrix.indices.tolist() == [0, 3]
    assert np.array_equal(s.train.times.data, [5.0, 1.0])
    with pytest.raises(DataFormatError, match="needs timestamps.*time column"):
        leave_last_k_split(make_data(0, 5, 5, 0.5, timed=False))
    with pytest.raises(ConfigError, match="k=0"):
        leave_last_k_split(make_data(0, 5, 5, 0.5), k=0)


# ---------------------------------------------------------------------- global time cutoff
@FAST
@given(data_params, st.floats(0.3, 0.9), st.booleans())
def test_time_cutoff_invariants(p, q, with_val):
    data = make_data(*p)
    times = data.times.data
    tq = float(np.quantile(times, q))
    vq = float(np.quantile(times, q - 0.2)) if with_val else None
    if (times < (vq if vq is not None else tq)).sum() == 0 or (with_val and vq >= tq) or (times >= tq).sum() == 0:
        return  # degenerate cutoffs are checked in the error test
    rows_hist = np.flatnonzero(np.bincount(np.repeat(np.arange(data.n_users), data.user_counts())[
        times < (vq if vq is not None else tq)], minlength=data.n_users))
    if not np.isin(np.repeat(np.arange(data.n_users), data.user_counts())[times >= tq], rows_hist).any():
        with pytest.raises(ConfigError, match="no test interactions"):
            time_cutoff_split(data, q, q - 0.2 if with_val else None, unit="quantile")
        return
    s = time_cutoff_split(data, q, q - 0.2 if with_val else None, unit="quantile")
    assert s.meta["cutoffs"]["test_from"] == tq
    kept = data.select_users(rows_hist)
    check_per_user(kept, s, complete=False)
    tv = pairs_values(data.times, data.users, data.items)
    u, it = s.train.users, s.items
    assert all(tv[pr] >= tq for pr in pairs(s.test.target, u, it))
    assert all(tv[pr] < (vq if vq is not None else tq) for pr in pairs(s.train.matrix, u, it))
    if s.val is not None:
        assert all(vq <= tv[pr] < tq for pr in pairs(s.val.target, u, it))
    assert (s.train.user_counts() > 0).all()
    all_kept = pairs(s.train.matrix, u, it) | pairs(s.test.target, u, it) | (
        pairs(s.val.target, u, it) if s.val is not None else set())
    d = s.meta["dropped"]
    assert len(tv) - len(all_kept) == d["val_interactions"] + d["test_interactions"]


def test_time_cutoff_seconds_hand_example_and_errors():
    df = pd.DataFrame({"user": [1, 1, 1, 2, 2, 3], "item": [1, 2, 3, 1, 4, 2],
                       "time": [10.0, 20.0, 30.0, 15.0, 40.0, 35.0]})
    data = Interactions.from_frame(df, time="time")
    s = time_cutoff_split(data, test_from=30, val_from=20, unit="seconds")
    assert s.train.users.to_list() == ["1", "2"]  # user 3 starts after the cutoff
    assert pairs(s.train.matrix, s.train.users, s.items) == {("1", "1"), ("2", "1")}
    assert pairs(s.val.target, s.val.users, s.items) == {("1", "2")}
    assert pairs(s.test.target, s.test.users, s.items) == {("1", "3"), ("2", "4")}
    assert pairs(s.test.exclude, s.test.users, s.items) == {("1", "1"), ("2", "1"), ("1", "2")}
    assert s.meta["dropped"] == {"users_without_history": 1, "val_interactions": 0, "test_interactions": 1}
    assert s.meta["test_items_not_in_train"] == 2  # items 3 and 4
    with pytest.raises(ConfigError, match="val_from=30 must be earlier than test_from=20"):
        time_cutoff_split(data, 20, 30, unit="seconds")
    with pytest.raises(ConfigError, match="test_from=1.5 is not a quantile.*unit='seconds'"):
        time_cutoff_split(data, 1.5)
    with pytest.raises(ConfigError, match="test_from=5 leaves no training"):
        time_cutoff_split(data, 5, unit="seconds")
    with pytest.raises(ConfigError, match="unit='days'"):
        time_cutoff_split(data, 5, unit="days")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- given
def test_given_split_shared_vocabulary_and_exclude():
    train = pd.DataFrame({"user": [0, 0, 1, 2], "item": [10, 11, 10, 12]})
    valid = pd.DataFrame({"user": [0, 1], "item": [12, 13]})
    test = pd.DataFrame({"user": [0, 1, 3], "item": [14, 11, 10]})
    s = given_split(train, valid, test)
    assert s.train.users.to_list() == ["0", "1", "2", "3"]
    assert s.items.to_list() == ["10", "11", "12", "13", "14"]
    assert s.train.user_counts().tolist() == [2, 1, 1, 0]
    check_per_user(Interactions.from_frame(pd.concat([train, valid, test])), s)
    assert s.meta["valid"]["items_not_in_train"] == 1 and s.meta["test"]["items_not_in_train"] == 1
    assert s.meta["test"]["interactions_on_items_not_in_train"] == 1
    assert s.meta["counts"]["val"]["users_with_target"] == 2
    no_val = given_split(train, None, test)
    assert no_val.val is None and no_val.items.to_list() == ["10", "11", "12", "14"]
    dup = pd.DataFrame({"user": [0, 0], "item": [10, 10]})
    with pytest.raises(DataFormatError, match="duplicates="):
        given_split(dup, None, test)
    with pytest.raises(DataFormatError, match="lacks column"):
        given_split(train.rename(columns={"item": "movie"}), None, test)


def test_given_split_counts_repeated_pairs_even_with_zero_ratings():
    train = pd.DataFrame({"user": ["a", "a", "b"], "item": ["x", "y", "x"], "rating": [0.0, 4.0, 5.0]})
    valid = pd.DataFrame({"user": ["a"], "item": ["z"], "rating": [3.0]})
    test = pd.DataFrame({"user": ["a", "b"], "item": ["x", "z"], "rating": [2.0, 0.0]})  # (a, x) is in train
    s = given_split(train, valid, test)
    assert s.meta["test"]["pairs_already_in_earlier_parts"] == 1
    assert s.meta["valid"]["pairs_already_in_earlier_parts"] == 0
    assert pairs_values(s.test.target, s.test.users, s.items) == {("a", "x"): 2.0, ("b", "z"): 0.0}
    assert pairs_values(s.train.matrix, s.train.users, s.items)[("a", "x")] == 0.0  # ratings kept as given
    assert pairs(s.test.exclude, s.test.users, s.items) == {("a", "x"), ("a", "y"), ("b", "x"), ("a", "z")}
