"""Cold-start protocols: new items (held out entirely), new users given their first n interactions, and
feature-only users (n = 0).

- :func:`cold_items_split`: ``item_share`` of the items (seeded) lose every interaction in ``train`` (their
  columns stay in the item universe, so their features stay aligned). Test users are those with at least one
  interaction on a cold item: input = their training row, target = their cold items, exclude = every warm
  item, so the ranking is over the new items only ("rank the new items for users").
- :func:`cold_users_split`: ``user_share`` of the users with more than ``max(ns)`` interactions (seeded)
  are held out; ``train`` holds the others. For each ``n`` in ``ns``, an :class:`EvalSet` gives each held-out
  user their first ``n`` interactions (by time when the data has times, else in a seeded random order) as
  input and the rest as target, with the input excluded; ``n = 0`` is the feature-only case (empty input).
  The same users appear for every ``n``, so a curve over ``n`` compares like with like.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from recgen.data.dataset import EvalSet, Split
from recgen.data.interactions import Interactions
from recgen.data.splits import check_ratio, check_seed, evalset_counts, mask_csr, ones_like
from recgen.errors import ConfigError, DataFormatError

log = logging.getLogger(__name__)


def _cold_evalset(data: Interactions, train: Interactions, cold: np.ndarray) -> EvalSet:
    """Users with an interaction on a ``cold`` item: input = train row, target = those items, exclude = the rest."""
    target_all = mask_csr(data.matrix, cold[data.matrix.indices])
    users = np.flatnonzero(np.diff(target_all.indptr) > 0)
    if len(users) == 0:
        raise DataFormatError("no user interacted with the cold items; the data is too small for this split.")
    other = np.flatnonzero(~cold)
    exclude = sp.csr_matrix((np.ones(len(users) * len(other), dtype=np.float32), np.tile(other, len(users)),
                             np.arange(len(users) + 1) * len(other)), shape=(len(users), data.n_items))
    return EvalSet(data.users.take(users), train.matrix[users], ones_like(target_all[users]), exclude,
                   users.astype(np.int64))


def cold_items_split(data: Interactions, item_share: float = 0.2, seed: int = 98765, *,
                     val_share: float = 0.0) -> Split:
    """Hold out ``item_share`` of the items entirely (see the module docstring); ``meta["cold_items"]`` lists them.

    With ``val_share > 0`` another share of the items is held out the same way as validation cold items
    (``split.val`` ranks only those), e.g. to choose a neural model's epoch without touching the test items.
    """
    share = check_ratio("item_share", item_share, allow_zero=False)
    vshare = check_ratio("val_share", val_share)
    seed = check_seed(seed)
    n_cold, n_val = int(round(share * data.n_items)), int(round(vshare * data.n_items))
    if n_cold < 1 or n_cold + n_val >= data.n_items or (vshare > 0 and n_val < 1):
        raise ConfigError(f"item_share={item_share} (val_share={val_share}) holds out {n_cold} (+{n_val}) of "
                          f"{data.n_items} items; pass shares that leave at least one cold and one warm item.")
    perm = np.random.default_rng(seed).permutation(data.n_items)
    cold = np.zeros(data.n_items, dtype=bool)
    cold[perm[:n_cold]] = True
    val_cold = np.zeros(data.n_items, dtype=bool)
    val_cold[perm[n_cold:n_cold + n_val]] = True
    keep = ~(cold | val_cold)[data.matrix.indices]
    times = mask_csr(data.times, keep) if data.times is not None else None
    train = Interactions(mask_csr(data.matrix, keep), data.users, data.items, times)
    test = _cold_evalset(data, train, cold)
    val = _cold_evalset(data, train, val_cold) if n_val else None
    meta: dict[str, Any] = {
        "protocol": "cold-items", "params": {"item_share": share, "val_share": vshare, "seed": seed},
        "cold_items": data.items.ids[cold].tolist(), "val_cold_items": data.items.ids[val_cold].tolist(),
        "counts": {"items": int(data.n_items), "cold_items": int(n_cold), "val_cold_items": int(n_val),
                   "train_interactions": int(train.nnz), "val": evalset_counts(val), "test": evalset_counts(test)},
    }
    log.info("cold-items split: %d of %d items cold (+%d validation), %d test users", n_cold, data.n_items, n_val,
             test.n_users)
    return Split(train, val, test, meta)


@dataclass(frozen=True)
class ColdUserSplits:
    """``train`` (users kept) and one :class:`EvalSet` per number of known interactions ``n`` (``by_n``)."""

    train: Interactions
    by_n: dict[int, EvalSet]
    heldout: np.ndarray  # row indices of the held-out users in the original data
    meta: dict[str, Any] = field(default_factory=dict)


def _first_n_order(data: Interactions, rows: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Column indices of each row's interactions, earliest first (ties and no times: seeded random order)."""
    out = []
    for r in rows:
        lo, hi = data.matrix.indptr[r], data.matrix.indptr[r + 1]
        cols = data.matrix.indices[lo:hi].astype(np.int64)
        noise = rng.random(len(cols))
        if data.times is not None:
            t = data.times.data[lo:hi]
            order = np.lexsort((noise, t))
        else:
            order = np.argsort(noise, kind="stable")
        out.append(cols[order])
    return out


def cold_users_split(data: Interactions, ns: Sequence[int] = (0, 1, 3, 5, 10), user_share: float = 0.2,
                     seed: int = 98765) -> ColdUserSplits:
    """New users given their first ``n`` interactions, for each ``n`` in ``ns`` (see the module docstring)."""
    ns = tuple(int(n) for n in ns)
    if not ns or any(n < 0 for n in ns) or len(set(ns)) != len(ns):
        raise ConfigError(f"ns={list(ns)!r} must be distinct non-negative counts, e.g. 0,1,3,5,10.")
    share = check_ratio("user_share", user_share, allow_zero=False)
    seed = check_seed(seed)
    if data.times is not None and data.times.nnz != data.matrix.nnz:
        raise DataFormatError("data.times does not match data.matrix entry for entry; rebuild the Interactions.")
    counts = data.user_counts()
    eligible = np.flatnonzero(counts > max(ns))
    n_held = int(round(share * len(eligible)))
    if n_held < 1:
        raise ConfigError(f"user_share={user_share} of the {len(eligible)} users with more than {max(ns)} "
                          "interactions holds out nobody; pass a larger share or smaller ns.")
    rng = np.random.default_rng(seed)
    held = np.sort(rng.permutation(eligible)[:n_held])
    keep = np.setdiff1d(np.arange(data.n_users), held)
    train = data.select_users(keep)
    orders = _first_n_order(data, held, rng)
    users = data.users.take(held)
    by_n: dict[int, EvalSet] = {}
    for n in ns:
        def rows(parts: list[np.ndarray]) -> sp.csr_matrix:
            indptr = np.concatenate([[0], np.cumsum([len(p) for p in parts])])
            idx = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            m = sp.csr_matrix((np.ones(len(idx), dtype=np.float32), idx, indptr), shape=(len(parts), data.n_items))
            m.sort_indices()
            return m
        inp = rows([o[:n] for o in orders])
        tgt = rows([o[n:] for o in orders])
        by_n[n] = EvalSet(users, inp, tgt, inp.copy(), np.full(len(held), -1, dtype=np.int64))
    meta = {"protocol": "cold-users", "params": {"ns": list(ns), "user_share": share, "seed": seed},
            "order": "time" if data.times is not None else "random (no timestamps)",
            "counts": {"heldout_users": int(n_held), "eligible_users": int(len(eligible)),
                       "train_users": int(train.n_users), "train_interactions": int(train.nnz)}}
    return ColdUserSplits(train, by_n, held, meta)


__all__ = ["ColdUserSplits", "cold_items_split", "cold_users_split"]
