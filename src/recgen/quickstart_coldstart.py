"""The quickstart's cold-start examples: one cold user and one new item, with readable titles.

A cheap :class:`~recgen.models.content.ContentKNN` (cosine neighbours of the item features) is fitted on the
quickstart's training users with the dataset's item features (MovieLens / MovieTweetings: genres, title
words, release decade via :func:`recgen.data.features_readers.movielens_item_features`; the synthetic data:
its planted genres) and, where the dataset has them (ML-100K), the user features (age, gender,
occupation). The held-out-users split keeps only items seen among training users, so the *new item* is a
catalogue item outside the split (no positive among the training users, e.g. dropped by the 5-core
filter; the newest such item): it is added as an empty column, so the model knows it only by its features.
:func:`recgen.models.coldstart.coldstart_examples` then gives the cold user's top items (with the fallback
chain that answered) and the new item's most similar items.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recgen.data.dataset import Split
from recgen.data.features import Features
from recgen.data.interactions import Interactions
from recgen.data.vocabulary import Vocabulary

log = logging.getLogger(__name__)

#: the cold user of each dataset with user features (raw values, as ``u.user`` spells them)
COLD_USER_FEATURES: dict[str, dict[str, Any]] = {
    "ml-100k": {"age": 25, "gender": "F", "occupation": "student"},
}


def _item_features(name: str, source: Path | None, item_info: pd.DataFrame) -> Features:
    if name in ("ml-100k", "movietweetings") and source is not None:
        from recgen.data.features_readers import movielens_item_features

        return movielens_item_features(source, "movielens" if name == "ml-100k" else "movietweetings")
    df = pd.DataFrame({"item": item_info["item"].astype(str), "genre": item_info["genres"].astype(str)})
    return Features.from_frame(df, "item", multi=["genre"])


def _user_features(name: str, source: Path | None) -> Features | None:
    if name != "ml-100k" or source is None:
        return None
    from recgen.data.features_readers import movielens_user_features

    return movielens_user_features(source)


def _new_item(train: Interactions, items: Features, item_info: pd.DataFrame) -> str | None:
    """The newest catalogue item outside ``train`` that has features (ties: richest feature row, then
    catalogue order), or None."""
    nnz = np.diff(items.matrix.indptr)
    outside = np.array([i not in train.items for i in items.ids.ids], dtype=bool)
    cands = np.flatnonzero(outside & (nnz > 0))
    if len(cands) == 0:
        return None
    years = dict(zip(item_info["item"].astype(str), pd.to_numeric(item_info.get("year"), errors="coerce"),
                     strict=False)) if "year" in item_info else {}
    year = np.array([years.get(str(items.ids.ids[c]), np.nan) for c in cands], dtype=np.float64)
    best = cands[np.lexsort((cands, -nnz[cands], -np.nan_to_num(year, nan=-np.inf)))[0]]
    return str(items.ids.ids[best])


def coldstart_demo(name: str, split: Split, item_info: pd.DataFrame, source: Path | None, *,
                   k: int = 5) -> dict[str, Any]:
    """Fit content-kNN with features on ``split.train`` (+ one new item) and return the two examples.

    Returns a JSON-able dict: ``model``, ``item_features`` / ``user_features`` (what was used),
    ``fit_seconds``, ``cold_user`` and ``new_item`` as :func:`~recgen.models.coldstart.coldstart_examples`
    gives them (``new_item`` is ``None`` with ``new_item_reason`` when the catalogue has no item outside
    the split).
    """
    from recgen.models.coldstart import coldstart_examples
    from recgen.models.content import ContentKNN

    t0 = time.perf_counter()
    items = _item_features(name, source, item_info)
    users = _user_features(name, source)
    train = split.train
    new_id = _new_item(train, items, item_info)
    if new_id is not None:
        m = sp.hstack([train.matrix, sp.csr_matrix((train.n_users, 1), dtype=np.float32)], format="csr")
        train = Interactions(m, train.users, Vocabulary([*train.items.ids, new_id]))
    model = ContentKNN().fit(train, item_features=items, user_features=users)
    fit_s = time.perf_counter() - t0
    titles = dict(zip(item_info["item"].astype(str), item_info["title"].astype(str), strict=False))
    features = COLD_USER_FEATURES.get(name, {}) if users is not None else {}
    out: dict[str, Any] = {
        "model": "content-knn",
        "item_features": sorted({f.name for f in items.fields}),
        "user_features": sorted({f.name for f in users.fields}) if users is not None else None,
        "fit_seconds": round(fit_s, 3),
    }
    if new_id is None:
        ex = coldstart_examples(model, titles, user_features=features, new_item=str(train.items.ids[0]), k=k)
        out.update(cold_user=ex["cold_user"], new_item=None,
                   new_item_reason="every catalogue item with features has training interactions")
    else:
        ex = coldstart_examples(model, titles, user_features=features, new_item=new_id, k=k)
        out.update(cold_user=ex["cold_user"], new_item=ex["new_item"])
    log.info("cold start: content-knn fitted in %.1f s; cold user answered by %s", fit_s, out["cold_user"]["source"])
    return out


def coldstart_lines(demo: dict[str, Any]) -> list[str]:
    """Human-readable lines of :func:`coldstart_demo`'s result (for the CLI)."""
    cu = demo["cold_user"]
    who = ", ".join(f"{a}={b}" for a, b in cu["features"].items()) or "no history and no user features"
    used = [c for c in cu["chain"] if c["used"]]
    why = f" ({used[-1]['reason']})" if used else ""
    lines = [f"  a cold user ({who}): answered by the '{cu['source']}' fallback{why}; chain: "
             + " -> ".join(f"{c['step']} {'used' if c['used'] else 'skipped'}" for c in cu["chain"])]
    lines += [f"    {r}. {x['title']}" for r, x in enumerate(cu["items"], start=1)]
    ni = demo.get("new_item")
    if ni is None:
        lines.append(f"  new item: none ({demo.get('new_item_reason', '')})")
    else:
        lines.append(f"  a new item, {ni['title']} ({ni['interactions']} training interactions; known only by "
                     f"its {', '.join(demo['item_features'])}): most similar items")
        lines += [f"    {r}. {x['title']}" for r, x in enumerate(ni["similar"], start=1)]
    return lines
