"""Time-based splits: leave-last-k per user, and a global time cutoff.

Both need timestamps (``Interactions.times``). Val and test follow the per-user convention
(input = train row, exclude = train for val and train ∪ val for test, ``rows`` = train row).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from recgen.data.dataset import Split
from recgen.data.interactions import Interactions
from recgen.data.splits import DROP, TEST, TRAIN, VAL, entry_rows, split_from_labels
from recgen.errors import ConfigError, DataFormatError


def _require_times(data: Interactions, fn: str) -> np.ndarray:
    if data.times is None:
        raise DataFormatError(
            f"{fn} needs timestamps but the data has none; load it with a time column "
            "(e.g. read_interactions(..., time='timestamp') or --time timestamp), or use random_split / "
            "heldout_users_split instead.")
    return data.times.data


def _check_count(name: str, v: Any, *, minimum: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < minimum:
        raise ConfigError(f"{name}={v!r} must be an integer ≥ {minimum}; pass e.g. {name}=1.")
    return int(v)


def leave_last_k_split(data: Interactions, k: int = 1, val_k: int = 1) -> Split:
    """Per user, the last ``k`` interactions by time are test and the ``val_k`` before them validation.

    Interactions are ordered by timestamp; equal timestamps are ordered by item index (the larger
    index counts as later), so the split is deterministic. Every user keeps ≥ 1 training
    interaction: a user with ``n`` items gets ``min(k, n - 1)`` test and ``min(val_k, n - 1 - n_test)``
    validation items (a user with one item is training only). ``val_k=0`` gives no validation set.
    """
    times = _require_times(data, "leave_last_k_split")
    k = _check_count("k", k, minimum=1)
    val_k = _check_count("val_k", val_k, minimum=0)
    m = data.matrix
    rows = entry_rows(m)
    n = np.diff(m.indptr)
    n_test = np.minimum(k, np.maximum(n - 1, 0))
    n_val = np.minimum(val_k, np.maximum(n - 1 - n_test, 0))
    # dense rank of each timestamp (equal times share a rank), then one stable int64 sort by (row, rank):
    # ties keep the storage order, i.e. ascending item index, so the larger index counts as later
    by_time = np.argsort(times)
    t_rank = np.empty(m.nnz, dtype=np.int64)
    t_rank[by_time] = np.cumsum(np.r_[False, np.diff(times[by_time]) != 0])
    order = np.argsort((rows << 32) | t_rank, kind="stable")
    pos = np.empty(m.nnz, dtype=np.int64)
    pos[order] = np.arange(m.nnz) - m.indptr[rows[order]]
    back = n[rows] - 1 - pos  # 0 = the user's latest interaction
    labels = np.full(m.nnz, TRAIN, dtype=np.int64)
    labels[back < n_test[rows]] = TEST
    labels[(back >= n_test[rows]) & (back < (n_test + n_val)[rows])] = VAL
    extra = {"users_without_test": int((n_test == 0).sum())}
    return split_from_labels(data, labels, has_val=val_k > 0, protocol="leave-last",
                             params={"k": k, "val_k": val_k}, extra=extra)


def time_cutoff_split(data: Interactions, test_from: float, val_from: float | None = None, *,
                      unit: Literal["seconds", "quantile"] = "quantile") -> Split:
    """A global cutoff: interactions at or after ``test_from`` are test, those in ``[val_from, test_from)``
    validation, the earlier ones training.

    ``unit="quantile"`` (default): the cutoffs are fractions in (0, 1) of the interaction-time
    distribution (``np.quantile(times, q)``, linear interpolation), e.g. ``test_from=0.9`` puts roughly
    the latest 10% of interactions in test. ``unit="seconds"``: they are unix timestamps (a timestamp
    passed with the default unit is rejected with a message, never misread). The resolved cutoffs are
    recorded in ``meta["cutoffs"]``.

    Only users with ≥ 1 training interaction are kept (a model needs history to rank from); the
    later interactions of users who start after the cutoff are dropped and counted in
    ``meta["dropped"]``. The item universe is every item in ``data``, including items that only
    appear after the cutoff (``meta["test_items_not_in_train"]`` counts them; they can't be hit).
    """
    times = _require_times(data, "time_cutoff_split")
    if unit not in ("seconds", "quantile"):
        raise ConfigError(f"unit={unit!r} is not a cutoff unit; pass 'seconds' or 'quantile'.")
    resolved: dict[str, float] = {}
    for name, v in (("test_from", test_from), ("val_from", val_from)):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int | float | np.number) or not np.isfinite(v):
            raise ConfigError(f"{name}={v!r} must be a number ({'a fraction' if unit == 'quantile' else 'unix seconds'}).")
        if unit == "quantile":
            if not 0 < v < 1:
                raise ConfigError(f"{name}={v!r} is not a quantile; with unit='quantile' pass a fraction in (0, 1), "
                                  "e.g. 0.9, or pass unix seconds with unit='seconds'.")
            resolved[name] = float(np.quantile(times, v))
        else:
            resolved[name] = float(v)
    if "val_from" in resolved and resolved["val_from"] >= resolved["test_from"]:
        raise ConfigError(f"val_from={val_from!r} must be earlier than test_from={test_from!r}; swap or lower it.")
    start = resolved.get("val_from", resolved["test_from"])
    labels = np.where(times < start, TRAIN, np.where(times < resolved["test_from"], VAL, TEST)).astype(np.int64)
    m = data.matrix
    rows = entry_rows(m)
    has_history = np.bincount(rows[labels == TRAIN], minlength=data.n_users) > 0
    if not has_history.any():
        raise ConfigError(f"test_from={test_from!r}{f', val_from={val_from!r}' if val_from is not None else ''} "
                          "leaves no training interactions; move the cutoff later.")
    no_hist = ~has_history[rows]
    dropped = {"users_without_history": int((~has_history & (np.diff(m.indptr) > 0)).sum()),
               "val_interactions": int((no_hist & (labels == VAL)).sum()),
               "test_interactions": int((no_hist & (labels == TEST)).sum())}
    labels[no_hist] = DROP
    train_items = np.bincount(m.indices[labels == TRAIN], minlength=data.n_items) > 0
    test_items = np.unique(m.indices[labels == TEST])
    extra = {"cutoffs": resolved, "dropped": dropped,
             "test_items_not_in_train": int((~train_items[test_items]).sum())}
    params = {"test_from": float(test_from), "val_from": None if val_from is None else float(val_from), "unit": unit}
    if (labels == TEST).sum() == 0:
        raise ConfigError(f"test_from={test_from!r} leaves no test interactions from users with history; "
                          "move the cutoff earlier.")
    return split_from_labels(data, labels, has_val=val_from is not None, protocol="time", params=params,
                             keep_rows=np.flatnonzero(has_history), extra=extra)
