"""Train / validation / test splits: held-out users, per-user random holdout, and given files.

Time-based splits (leave-last-k, global cutoff) live in :mod:`recgen.data.splits_time`.
Every split returns a :class:`~recgen.data.dataset.Split` whose ``meta`` records the protocol, every
parameter and the counts (users, interactions, users without a target, dropped interactions), so
that nothing a split throws away goes unreported. Randomness comes only from the ``seed`` argument.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recgen.data.dataset import EvalSet, Split
from recgen.data.interactions import DuplicatePolicy, Interactions, _factorize_ids
from recgen.errors import ConfigError, DataFormatError

log = logging.getLogger(__name__)

TRAIN, VAL, TEST, DROP = 0, 1, 2, -1


# ---------------------------------------------------------------------- helpers shared by the splits
def entry_rows(m: sp.csr_matrix) -> np.ndarray:
    """Row index of every stored entry of a CSR matrix (in storage order)."""
    return np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))


def mask_csr(m: sp.csr_matrix, mask: np.ndarray, data: np.ndarray | None = None) -> sp.csr_matrix:
    """The entries of ``m`` where ``mask`` is true (same shape); ``data`` replaces the values if given."""
    rows = entry_rows(m)[mask]
    indptr = np.zeros(m.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=m.shape[0]), out=indptr[1:])
    vals = (m.data if data is None else data)[mask]
    return sp.csr_matrix((vals, m.indices[mask], indptr), shape=m.shape)


def ones_like(m: sp.csr_matrix) -> sp.csr_matrix:
    """Same sparsity pattern, every value 1 (float32)."""
    out = sp.csr_matrix((np.ones(m.nnz, dtype=np.float32), m.indices.copy(), m.indptr.copy()), shape=m.shape)
    return out


def union_pattern(a: sp.csr_matrix, b: sp.csr_matrix) -> sp.csr_matrix:
    """Binary CSR of the entries present in ``a`` or ``b``."""
    out = (ones_like(a) + ones_like(b)).tocsr()
    out.data[:] = 1.0
    out.sort_indices()
    return out.astype(np.float32)


def evalset_counts(ev: EvalSet | None) -> dict[str, int] | None:
    """Users, users with ≥ 1 target item, and interaction counts of an :class:`EvalSet`."""
    if ev is None:
        return None
    n_target = np.diff(ev.target.indptr)
    return {
        "users": int(ev.n_users),
        "users_with_target": int((n_target > 0).sum()),
        "users_without_target": int((n_target == 0).sum()),
        "input_interactions": int(ev.input.nnz),
        "target_interactions": int(ev.target.nnz),
        "exclude_interactions": int(ev.exclude.nnz),
    }


def split_counts(split_train: Interactions, val: EvalSet | None, test: EvalSet) -> dict[str, Any]:
    return {
        "train": {"users": int(split_train.n_users), "items": int(split_train.n_items),
                  "interactions": int(split_train.nnz)},
        "val": evalset_counts(val),
        "test": evalset_counts(test),
    }


def check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= int(seed) < 2**32:
        raise ConfigError(f"seed={seed!r} must be an integer in [0, 2**32); pass e.g. seed=98765.")
    return int(seed)


def check_ratio(name: str, value: Any, *, allow_zero: bool = True) -> float:
    lo = "0" if allow_zero else "0 (exclusive)"
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value) \
            or value < 0 or value >= 1 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name}={value!r} is out of range; pass a fraction between {lo} and 1 (exclusive), "
                          "e.g. 0.1.")
    return float(value)


def split_from_labels(data: Interactions, labels: np.ndarray, *, has_val: bool, protocol: str,
                      params: dict[str, Any], keep_rows: np.ndarray | None = None,
                      extra: dict[str, Any] | None = None) -> Split:
    """Build a per-user :class:`Split` from one label per stored entry of ``data.matrix``.

    Labels: ``TRAIN`` (0), ``VAL`` (1), ``TEST`` (2), ``DROP`` (−1). ``keep_rows`` (default: every user)
    are the users kept, in order; the item universe is ``data.items``. Val: input = train row,
    target = val entries, exclude = train; test: input = train row, target = test entries,
    exclude = train ∪ val; ``rows`` = the user's train row.
    """
    m = data.matrix
    train_m = mask_csr(m, labels == TRAIN)
    train_t = mask_csr(data.times, labels == TRAIN) if data.times is not None else None
    val_m = mask_csr(m, labels == VAL)
    test_m = mask_csr(m, labels == TEST)
    users = data.users
    if keep_rows is not None:
        keep_rows = np.asarray(keep_rows, dtype=np.int64)
        train_m, val_m, test_m = train_m[keep_rows], val_m[keep_rows], test_m[keep_rows]
        train_t = train_t[keep_rows] if train_t is not None else None
        users = users.take(keep_rows)
    train = Interactions(train_m, users, data.items, train_t)
    train_m = train.matrix
    rows = np.arange(train.n_users, dtype=np.int64)
    train_ones = ones_like(train_m)
    val = None
    if has_val:
        val = EvalSet(users, train_m, Interactions(val_m, users, data.items).matrix, train_ones, rows)
    test = EvalSet(users, train_m, Interactions(test_m, users, data.items).matrix,
                   union_pattern(train_m, val_m), rows)
    meta: dict[str, Any] = {"protocol": protocol, "params": params, **(extra or {}),
                            "counts": split_counts(train, val, test)}
    return Split(train, val, test, meta)


# ---------------------------------------------------------------------- strong generalisation
def heldout_users_split(data: Interactions, n_val_users: int, n_test_users: int, fold_in: float = 0.8,
                        seed: int = 98765, min_target_items: int = 5) -> Split:
    """Strong generalisation (Liang et al., WWW 2018; the preprocessing of dawenl/vae_cf).

    1. Users (rows of ``data``, in vocabulary order) are permuted with
       ``np.random.RandomState(seed).permutation(n_users)``. As in vae_cf, the **first**
       ``n_users - n_val_users - n_test_users`` users of the permutation are training users, the
       **next** ``n_val_users`` are validation users and the **last** ``n_test_users`` are test users.
    2. The item universe is the set of items seen among training users (in ``data``'s item order);
       held-out users' interactions with other items are dropped and counted in
       ``meta["dropped_interactions"]``.
    3. Each held-out user with ≥ ``min_target_items`` items (after step 2) gets
       ``int(p * n)`` items, ``p = round(1 - fold_in, 12)``, drawn without replacement with
       ``RandomState.choice`` as the target; the rest are the fold-in input. Users with fewer items
       keep everything as fold-in and have no target (counted in ``meta["counts"]``; evaluation drops
       them with ``EvalSet.nonempty()``). As in vae_cf the generator is re-created from ``seed`` for the
       validation users and again for the test users, and users are visited in vocabulary order.
       (``round`` avoids ``1 - 0.8 = 0.19999…``, which would give ``int(0.999…) = 0`` at 5 items
       where vae_cf's literal ``0.2`` gives 1.)

    The permutation and the target draws equal vae_cf's exactly **only** when the user order and
    each user's item order match vae_cf's: users sorted by id (recgen sorts integer ids numerically,
    as pandas' ``groupby`` does) and each user's items in the order of the source rows (recgen visits
    them in item-vocabulary order, which matches ML-20M's ``ratings.csv``, sorted by user then movie).
    Any other filtering or ordering gives a different but equally valid random split.

    The training matrix holds the training users in vocabulary order (vae_cf renumbers them in
    permutation order; this only changes the order of rows). Val/test: input = fold-in items,
    target = the other items, exclude = fold-in items, ``rows = -1``.
    """
    seed = check_seed(seed)
    n = data.n_users
    for name, v in (("n_val_users", n_val_users), ("n_test_users", n_test_users),
                    ("min_target_items", min_target_items)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
            raise ConfigError(f"{name}={v!r} must be a non-negative integer; pass e.g. {name}=100.")
    if n_test_users < 1:
        raise ConfigError(f"n_test_users={n_test_users} must be at least 1; pass the number of test users, "
                          "e.g. 10% of the users.")
    if n_val_users + n_test_users >= n:
        raise ConfigError(
            f"n_val_users={n_val_users} + n_test_users={n_test_users} leaves no training users: the data has "
            f"{n} users after filtering; pass smaller values (e.g. {max(1, n // 10)} each).")
    if isinstance(fold_in, bool) or not isinstance(fold_in, int | float) or not 0 < fold_in < 1:
        raise ConfigError(f"fold_in={fold_in!r} must be a fraction strictly between 0 and 1; "
                          "pass e.g. fold_in=0.8 (80% of a held-out user's items are the input).")
    perm = np.random.RandomState(seed).permutation(n)
    n_train = n - n_val_users - n_test_users
    train_rows = np.sort(perm[:n_train])
    val_rows = np.sort(perm[n_train:n_train + n_val_users])
    test_rows = np.sort(perm[n_train + n_val_users:])

    train_all = data.select_users(train_rows)
    universe = np.flatnonzero(train_all.item_counts() > 0)
    train = train_all.select_items(universe)
    col_map = np.full(data.n_items, -1, dtype=np.int64)
    col_map[universe] = np.arange(len(universe))
    target_prop = round(1.0 - float(fold_in), 12)

    dropped: dict[str, int] = {}
    sets: dict[str, EvalSet] = {}
    for role, rows in (("val", val_rows), ("test", test_rows)):
        sub = data.matrix[rows]
        keep = col_map[sub.indices] >= 0
        dropped[role] = int((~keep).sum())
        sub = mask_csr(sub, keep)
        sub = sp.csr_matrix((sub.data, col_map[sub.indices], sub.indptr), shape=(len(rows), len(universe)))
        sub.sort_indices()
        is_target = np.zeros(sub.nnz, dtype=bool)
        rng = np.random.RandomState(seed)
        for r in range(len(rows)):
            lo, hi = int(sub.indptr[r]), int(sub.indptr[r + 1])
            if hi - lo >= min_target_items:
                pick = rng.choice(hi - lo, size=int(target_prop * (hi - lo)), replace=False)
                is_target[lo + pick.astype(np.int64)] = True
        fold = mask_csr(sub, ~is_target)
        sets[role] = EvalSet(data.users.take(rows), fold, mask_csr(sub, is_target), ones_like(fold),
                             np.full(len(rows), -1, dtype=np.int64))
    val = sets["val"] if n_val_users > 0 else None
    meta = {
        "protocol": "heldout-users",
        "params": {"n_val_users": int(n_val_users), "n_test_users": int(n_test_users), "fold_in": float(fold_in),
                   "seed": seed, "min_target_items": int(min_target_items)},
        "items_dropped_from_universe": int(data.n_items - len(universe)),
        "dropped_interactions": dropped if n_val_users > 0 else {"test": dropped["test"]},
        "counts": split_counts(train, val, sets["test"]),
    }
    log.info("held-out users split: %d train / %d val / %d test users, %d items",
             n_train, n_val_users, n_test_users, len(universe))
    return Split(train, val, sets["test"], meta)


# ---------------------------------------------------------------------- per-user random holdout
def _round_half_up(x: np.ndarray) -> np.ndarray:
    # the small epsilon makes 0.1 * 15 = 1.4999… count as 1.5
    return np.floor(x + 0.5 + 1e-9).astype(np.int64)


def random_split(data: Interactions, val_ratio: float = 0.1, test_ratio: float = 0.2, seed: int = 98765) -> Split:
    """Per-user random holdout of interactions (weak generalisation; CFGAN / AutoRec style).

    Each user's ``n`` items are put in a random order (``numpy.random.default_rng(seed)``). Then
    ``n_test = min(round(test_ratio * n), n - 1)`` items go to test and
    ``n_val = min(round(val_ratio * n), n - 1 - n_test)`` to validation, where ``round`` rounds halves
    up (``0.1 * 5 = 0.5 → 1``); the rest (always ≥ 1 item) are training. A user with one item is
    training only. Every user is kept in ``train`` (rows = train row index). ``val_ratio=0`` gives no
    validation set (``split.val is None``).
    """
    seed = check_seed(seed)
    val_ratio = check_ratio("val_ratio", val_ratio)
    test_ratio = check_ratio("test_ratio", test_ratio, allow_zero=False)
    if val_ratio + test_ratio >= 1:
        raise ConfigError(f"val_ratio={val_ratio} + test_ratio={test_ratio} must be below 1 to leave training "
                          "items; lower one of them.")
    m = data.matrix
    n = np.diff(m.indptr)
    n_test = np.minimum(_round_half_up(test_ratio * n), np.maximum(n - 1, 0))
    n_val = np.minimum(_round_half_up(val_ratio * n), np.maximum(n - 1 - n_test, 0))
    rows = entry_rows(m)
    keys = np.random.default_rng(seed).integers(0, 2**32, m.nnz, dtype=np.int64)
    order = np.argsort((rows << 32) | keys, kind="stable")  # by row, then random key (one int64 sort)
    rank = np.empty(m.nnz, dtype=np.int64)
    rank[order] = np.arange(m.nnz) - m.indptr[rows[order]]
    labels = np.full(m.nnz, TRAIN, dtype=np.int64)
    labels[rank < n_test[rows]] = TEST
    labels[(rank >= n_test[rows]) & (rank < (n_test + n_val)[rows])] = VAL
    params = {"val_ratio": val_ratio, "test_ratio": test_ratio, "seed": seed}
    return split_from_labels(data, labels, has_val=val_ratio > 0, protocol="random", params=params)


# ---------------------------------------------------------------------- given files
def given_split(train: pd.DataFrame, valid: pd.DataFrame | None, test: pd.DataFrame, *,
                duplicates: DuplicatePolicy = "error", source: str = "given") -> Split:
    """A split fixed by the data's publisher: frames with columns ``user, item[, rating][, time]``.

    Users and items get one shared vocabulary: the union over the three frames (so the item universe
    is every item in any file). Users missing from a file simply have empty rows there. Every user is
    a row of ``train`` (possibly empty) and of both evaluation sets. Ratings are kept when the
    ``train`` frame has a ``rating`` column (targets keep theirs too); times likewise for ``train``.
    ``meta`` records how many valid/test items never occur in train and how many valid/test pairs
    repeat a train (or valid) pair — such a test item is also in ``exclude`` and cannot be hit.
    """
    frames = {"train": train, "valid": valid, "test": test}
    present = {k: f for k, f in frames.items() if f is not None}
    for name, f in present.items():
        missing = [c for c in ("user", "item") if c not in f.columns]
        if missing:
            raise DataFormatError(f"{source}: the {name} frame lacks column(s) {missing}; it has {list(f.columns)}. "
                                  "Rename the columns to user, item[, rating][, time].")
    if len(train) == 0 or len(test) == 0:
        empty = "train" if len(train) == 0 else "test"
        raise DataFormatError(f"{source}: the {empty} part is empty; a given split needs train and test interactions.")
    u_codes, users = _factorize_ids(pd.concat([f["user"] for f in present.values()], ignore_index=True))
    i_codes, items = _factorize_ids(pd.concat([f["item"] for f in present.values()], ignore_index=True))
    mats: dict[str, Interactions] = {}
    start = 0
    for name, f in present.items():
        stop = start + len(f)
        vals = (pd.to_numeric(f["rating"], errors="coerce").to_numpy(np.float64) if "rating" in train.columns
                and "rating" in f.columns else np.ones(len(f)))
        if not np.isfinite(vals).all():
            raise DataFormatError(f"{source}: the {name} part has non-numeric ratings; fix or drop those rows.")
        ts = f["time"].to_numpy(np.float64) if name == "train" and "time" in f.columns else None
        mats[name] = Interactions._from_codes(u_codes[start:stop], i_codes[start:stop], vals, ts, users, items,
                                              duplicates=duplicates, source=f"{source} ({name})")
        start = stop
    tr = mats["train"]
    train_items = tr.item_counts() > 0
    tr_ones = ones_like(tr.matrix)
    rows = np.arange(tr.n_users, dtype=np.int64)
    extra: dict[str, Any] = {"n_users": len(users), "n_items": len(items)}
    val = None
    seen = tr_ones
    for name in ("valid", "test"):
        if name not in mats:
            continue
        t = mats[name].matrix
        overlap = int(ones_like(t).multiply(seen).nnz)  # pattern only: a 0 rating still counts
        not_in_train = ~train_items[t.indices]
        extra[name] = {"interactions": int(t.nnz),
                       "items_not_in_train": int(len(np.unique(t.indices[not_in_train]))),
                       "interactions_on_items_not_in_train": int(not_in_train.sum()),
                       "pairs_already_in_earlier_parts": overlap}
        if overlap:
            log.warning("%s: %d %s pairs also occur in earlier parts; they are excluded from the ranking",
                        source, overlap, name)
        if name == "valid":
            val = EvalSet(users, tr.matrix, t, tr_ones, rows)
            seen = union_pattern(tr.matrix, t)
    test_set = EvalSet(users, tr.matrix, mats["test"].matrix, seen, rows)
    meta = {"protocol": "given", "params": {"duplicates": duplicates}, **extra,
            "counts": split_counts(tr, val, test_set)}
    return Split(tr, val, test_set, meta)
