"""The data-imbalance view: metrics per user-activity group and on head vs tail items.

- :func:`breakdown_by_activity`: users are grouped by activity (number of input items, or counts you
  pass) at activity quantiles; users with equal activity always share a group, so groups can differ in
  size and empty groups are dropped. Each group reports its activity bounds, size and metric means.
- :func:`breakdown_by_popularity`: each user's target is split into *head* and *tail* items and
  recall / trecall / ndcg are computed against each part separately, using the same recommendation
  list (``EvalResult.topk_items``). Head is defined by ``head_by``:

  - ``"items"`` (default): the ``head_share`` (default 20 %) most popular items of the catalogue;
  - ``"interactions"``: the fewest most-popular items that together hold ``head_share`` of all
    interactions (e.g. 0.5 = the items making up half of the training interactions).

  Popularity ties are broken by lower item index. Users with no target item in a part are left out of
  that part's means (the counts are reported).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.sparse as sp

from recgen.data.dataset import EvalSet
from recgen.errors import ConfigError, DataFormatError
from recgen.evaluation.metrics import hits_matrix, n_relevant, ranking_metrics

if TYPE_CHECKING:
    from recgen.evaluation.evaluate import EvalResult


@dataclass(frozen=True)
class Group:
    """One row of a breakdown: a label, its bounds (inclusive), its user count and metric means."""

    label: str
    low: float
    high: float
    n_users: int
    means: dict[str, float]


def _align(result: EvalResult, evalset: EvalSet) -> np.ndarray:
    """Row of ``evalset`` for each user of ``result`` (raises if one is missing)."""
    rows = evalset.users.lookup(np.asarray(result.users), unknown="ignore")
    if np.any(rows < 0):
        raise DataFormatError(
            f"{int(np.sum(rows < 0))} users of the result are not in evalset; pass the EvalSet it was computed on."
        )
    return rows


def breakdown_by_activity(result: EvalResult, evalset: EvalSet | None = None, n_groups: int = 4, *,
                          counts: np.ndarray | None = None, metrics: Sequence[str] | None = None) -> list[Group]:
    """Per activity-quantile group means of ``result.per_user`` metrics.

    Activity is the number of input items of each user in ``evalset``; or pass ``counts`` aligned
    with ``result.users``. Group edges are the ``j / n_groups`` quantiles of activity; a user with
    activity ``a`` goes to the group whose edges bracket it (upper edge inclusive only for the last).
    Group sizes sum to ``result.n_users``.
    """
    if n_groups < 1:
        raise ConfigError(f"n_groups={n_groups} must be >= 1; 4 gives quartiles.")
    if counts is None:
        if evalset is None:
            raise ConfigError("pass evalset (activity = number of input items) or counts=... aligned with users.")
        act = n_relevant(evalset.input)[_align(result, evalset)].astype(np.float64)
    else:
        act = np.asarray(counts, dtype=np.float64).ravel()
        if len(act) != result.n_users:
            raise DataFormatError(f"counts has {len(act)} entries for {result.n_users} users; align it with result.users.")
    names = list(result.per_user) if metrics is None else list(metrics)
    for m in names:
        if m not in result.per_user:
            raise ConfigError(f"metrics contains {m!r}, which has no per-user values; choose from {', '.join(result.per_user)}.")
    edges = np.quantile(act, np.linspace(0, 1, n_groups + 1)) if len(act) else np.zeros(n_groups + 1)
    group = np.searchsorted(edges[1:-1], act, side="right")
    out: list[Group] = []
    for g in range(n_groups):
        sel = group == g
        if not np.any(sel):
            continue
        lo, hi = float(act[sel].min()), float(act[sel].max())
        means = {m: float(np.mean(result.per_user[m][sel])) for m in names}
        out.append(Group(f"Q{g + 1} ({lo:g}–{hi:g})", lo, hi, int(sel.sum()), means))
    return out


def head_items(item_popularity: np.ndarray, head_share: float = 0.2,
               head_by: Literal["items", "interactions"] = "items") -> np.ndarray:
    """Boolean mask of head items (see the module docstring for the two definitions)."""
    pop = np.asarray(item_popularity, dtype=np.float64).ravel()
    if not 0 < head_share < 1:
        raise ConfigError(f"head_share={head_share} must be in (0, 1); e.g. 0.2.")
    order = np.lexsort((np.arange(len(pop)), -pop))  # popularity desc, index asc
    if head_by == "items":
        n_head = max(1, int(round(head_share * len(pop))))
    elif head_by == "interactions":
        total = pop.sum()
        if total <= 0:
            raise DataFormatError("item_popularity sums to 0; pass training interaction counts.")
        n_head = int(np.searchsorted(np.cumsum(pop[order]) / total, head_share - 1e-12) + 1)
    else:
        raise ConfigError(f"head_by={head_by!r} is unknown; choose 'items' or 'interactions'.")
    mask = np.zeros(len(pop), dtype=bool)
    mask[order[:n_head]] = True
    return mask


def breakdown_by_popularity(result: EvalResult, evalset: EvalSet, item_popularity: np.ndarray, *,
                            head_share: float = 0.2, head_by: Literal["items", "interactions"] = "items",
                            metrics: Sequence[str] = ("recall", "trecall", "ndcg")) -> list[Group]:
    """Metrics against head targets only and tail targets only (same recommendation lists).

    Returns two :class:`Group` rows (``head``, ``tail``); ``low``/``high`` are the popularity range of the
    part's items and ``n_users`` the number of users with at least one target item in it. Means use the
    keys ``"recall@k"`` etc. for every ``k`` in ``result.ks``.
    """
    if len(item_popularity) != result.n_items:
        raise DataFormatError(
            f"item_popularity has {len(item_popularity)} entries for {result.n_items} items; one count per item."
        )
    head = head_items(item_popularity, head_share, head_by)
    target = sp.csr_matrix(evalset.target[_align(result, evalset)])
    pop = np.asarray(item_popularity, dtype=np.float64)
    out = []
    for label, part in (("head", head), ("tail", ~head)):
        t = target.copy()
        t.data = part[t.indices].astype(np.float32)
        t.eliminate_zeros()
        n_t = n_relevant(t)
        vals = ranking_metrics(hits_matrix(result.topk_items, t), n_t, result.ks, metrics)
        ok = n_t > 0
        means = {k: float(np.mean(v[ok])) if ok.any() else float("nan") for k, v in vals.items()}
        lo, hi = (float(pop[part].min()), float(pop[part].max())) if part.any() else (np.nan, np.nan)
        out.append(Group(label, lo, hi, int(ok.sum()), means))
    return out
