"""Pure preprocessing steps on :class:`Interactions`; each returns ``(Interactions, StepReport)``.

Timestamps (``Interactions.times``) are carried through every step. A step that would leave no
interactions raises :class:`~recgen.errors.DataFormatError` naming the step, the counts and what to relax.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recgen.data.interactions import DUPLICATE_POLICIES, Interactions
from recgen.errors import ConfigError, DataFormatError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepReport:
    """What one preprocessing step did: its name, parameters and the sizes before and after."""

    step: str
    params: dict[str, Any] = field(default_factory=dict)
    rows_before: int = 0
    users_before: int = 0
    items_before: int = 0
    rows_after: int = 0
    users_after: int = 0
    items_after: int = 0

    @property
    def rows_dropped(self) -> int:
        return self.rows_before - self.rows_after

    def __str__(self) -> str:
        return (f"{self.step}({', '.join(f'{k}={v!r}' for k, v in self.params.items())}): "
                f"{self.rows_before} → {self.rows_after} interactions, {self.users_before} → {self.users_after} users, "
                f"{self.items_before} → {self.items_after} items")


def _report(step: str, params: dict[str, Any], before: Interactions, after: Interactions) -> StepReport:
    rep = StepReport(step, params, before.nnz, before.n_users, before.n_items, after.nnz, after.n_users, after.n_items)
    logger.info("%s", rep)
    return rep


def _check_nonempty(step: str, params: dict[str, Any], before: Interactions, after: Interactions,
                    relax: str) -> None:
    if after.nnz == 0:
        raise DataFormatError(
            f"{step}({', '.join(f'{k}={v!r}' for k, v in params.items())}) left no interactions "
            f"(before: {before.nnz} interactions, {before.n_users} users, {before.n_items} items); {relax}."
        )


def _keep_entries(data: Interactions, keep: np.ndarray) -> Interactions:
    """Same users and items, only the entries where ``keep`` (aligned with ``matrix.data``) is true."""
    m = data.matrix.tocoo()
    rows, cols = m.row[keep], m.col[keep]
    new = sp.csr_matrix((m.data[keep], (rows, cols)), shape=data.shape)
    t = None
    if data.times is not None:
        t = sp.csr_matrix((data.times.tocoo().data[keep], (rows, cols)), shape=data.shape)
    return Interactions(new, data.users, data.items, t)


def _drop_empty(data: Interactions) -> Interactions:
    rows = np.flatnonzero(data.user_counts() > 0)
    cols = np.flatnonzero(data.item_counts() > 0)
    out = data
    if len(rows) < data.n_users:
        out = out.select_users(rows)
    if len(cols) < data.n_items:
        out = out.select_items(cols)
    return out


def binarize(data: Interactions, min_rating: float | None = None) -> tuple[Interactions, StepReport]:
    """Keep entries with value ``>= min_rating`` (inclusive) as 1.0 and drop the rest.

    ``min_rating=None`` turns every observed entry into 1. Users and items left without entries are dropped.
    """
    params = {"min_rating": min_rating}
    if min_rating is None:
        out = data.with_values(np.ones(data.nnz, dtype=np.float32))
    else:
        if not np.isfinite(min_rating):
            raise ConfigError(f"min_rating={min_rating!r} must be a finite number or None (keep everything).")
        keep = data.matrix.data >= np.float32(min_rating)
        out = _keep_entries(data, keep)
        out = _drop_empty(out.with_values(np.ones(out.nnz, dtype=np.float32)))
        vals = data.matrix.data
        _check_nonempty("binarize", params, data, out,
                        f"ratings range from {vals.min() if len(vals) else 'n/a'} to {vals.max() if len(vals) else 'n/a'}"
                        "; lower min_rating")
    return out, _report("binarize", params, data, out)


def drop_items_without_users(data: Interactions) -> tuple[Interactions, StepReport]:
    """Drop empty users (rows) and empty items (columns)."""
    out = _drop_empty(data)
    _check_nonempty("drop_empty", {}, data, out, "the input has no interactions")
    return out, _report("drop_empty", {}, data, out)


def kcore(data: Interactions, *, min_user: int = 1, min_item: int = 1,
          max_iter: int = 100) -> tuple[Interactions, StepReport]:
    """Iteratively drop users with < ``min_user`` and items with < ``min_item`` interactions until stable.

    The result is the largest sub-matrix where every user has ≥ ``min_user`` and every item ≥ ``min_item``
    entries (a fixed point). Users and items left empty are removed.
    """
    for name, v in (("min_user", min_user), ("min_item", min_item)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
            raise ConfigError(f"{name}={v!r} must be a non-negative integer (1 keeps everyone).")
    params = {"min_user": int(min_user), "min_item": int(min_item)}
    m = data.matrix
    user_ok = np.ones(data.n_users, dtype=bool)
    item_ok = np.ones(data.n_items, dtype=bool)
    # an entry survives while both its user and its item survive
    rows = np.repeat(np.arange(data.n_users), np.diff(m.indptr))
    cols = m.indices
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        alive = user_ok[rows] & item_ok[cols]
        uc = np.bincount(rows[alive], minlength=data.n_users)
        ic = np.bincount(cols[alive], minlength=data.n_items)
        new_u = user_ok & (uc >= min_user)
        new_i = item_ok & (ic >= min_item)
        if np.array_equal(new_u, user_ok) and np.array_equal(new_i, item_ok):
            break
        user_ok, item_ok = new_u, new_i
    else:
        logger.warning("kcore did not reach a fixed point in %d iterations", max_iter)
    params["iterations"] = n_iter
    out = data.select_users(np.flatnonzero(user_ok)).select_items(np.flatnonzero(item_ok))
    out = _drop_empty(out)
    _check_nonempty("kcore", {"min_user": min_user, "min_item": min_item}, data, out,
                    f"the most active user has {int(data.user_counts().max(initial=0))} and the most popular item "
                    f"{int(data.item_counts().max(initial=0))} interactions; lower min_user / min_item")
    return out, _report("kcore", params, data, out)


def deduplicate(df: pd.DataFrame, policy: str = "last", *, user: str = "user", item: str = "item",
                rating: str | None = "rating", time: str | None = "time") -> pd.DataFrame:
    """Merge repeated (user, item) rows of a frame, the pure-frame twin of ``from_frame(duplicates=...)``.

    ``policy`` is ``"sum"``, ``"max"``, ``"mean"`` (of ``rating``), ``"first"`` or ``"last"`` (by ``time`` when
    present, else by row order). The merged row keeps the latest time of its group.
    """
    if policy not in DUPLICATE_POLICIES or policy == "error":
        raise ConfigError(f"policy={policy!r} is not a merge policy; choose one of {DUPLICATE_POLICIES[1:]}.")
    rating = rating if rating in df.columns else None
    time = time if time in df.columns else None
    d = df.sort_values(time, kind="stable") if time else df
    g = d.groupby([user, item], sort=False)
    if policy in ("first", "last"):
        out = g.nth(0 if policy == "first" else -1)
        if time:
            out = out.drop(columns=[time]).join(g[time].max(), on=[user, item])
        return out.reset_index(drop=True)
    agg: dict[str, str] = {}
    if rating:
        agg[rating] = policy
    if time:
        agg[time] = "max"
    if not agg:
        return d.drop_duplicates([user, item]).reset_index(drop=True)
    return g.agg(agg).reset_index()


def preprocess(data: Interactions, *, min_rating: float | None = None, min_user: int = 1,
               min_item: int = 1) -> tuple[Interactions, list[StepReport]]:
    """Binarize (when ``min_rating`` is given) then k-core filter; returns the data and one report per step."""
    reports: list[StepReport] = []
    if min_rating is not None:
        data, rep = binarize(data, min_rating)
        reports.append(rep)
    if min_user > 1 or min_item > 1:
        data, rep = kcore(data, min_user=min_user, min_item=min_item)
        reports.append(rep)
    return data, reports
