"""Cold users: every step of the fallback chain (history → feature-map → segment-popularity → popularity),
hand-computed segment popularity and ridge map, and clear errors for bad or missing features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from cold_helpers import FAST, planted

from recgen.data import Interactions
from recgen.data.features import Features
from recgen.errors import ConfigError, UnknownIdError
from recgen.models import available_models
from recgen.models.coldstart import SegmentPopularity, coldstart_examples, ridge_map


@pytest.fixture(scope="module")
def setup():
    full, ub, ib, item_f, user_f = planted()
    model = available_models()["hybrid-ae"](**FAST["hybrid-ae"]).fit(full, item_features=item_f, user_features=user_f)
    return {"model": model, "full": full, "ub": ub, "ib": ib, "user_f": user_f}


@pytest.mark.parametrize("block", [0, 1, 2])
def test_user_known_only_by_a_planted_segment_gets_that_segments_items(setup, block):
    res = setup["model"].recommend_cold({"occupation": f"job{block}"}, k=10)
    assert res.source == "feature-map"
    idx = setup["full"].items.lookup(res.items)
    assert (setup["ib"][idx] == block).all()
    assert [c["step"] for c in res.chain] == ["history", "feature-map"] and not res.chain[0]["used"]


@pytest.mark.parametrize("name", ["content-ae", "content-knn"])
def test_feature_map_of_content_models_also_finds_the_segment(setup, name):
    full, ib = setup["full"], setup["ib"]
    _, _, _, item_f, user_f = planted()
    model = available_models()[name](**FAST[name]).fit(full, item_features=item_f, user_features=user_f)
    res = model.recommend_cold({"occupation": "job2", "gender": "F"}, k=10)
    assert res.source == "feature-map" and (ib[full.items.lookup(res.items)] == 2).mean() >= 0.9


def test_history_step_wins_and_excludes_the_history(setup):
    full, ib = setup["full"], setup["ib"]
    hist = full.items.ids[[0, 3, 6]].tolist()  # block-0 items
    res = setup["model"].recommend_cold({"occupation": "job1"}, items=hist, k=8)
    assert res.source == "history" and not set(hist) & set(res.items)
    assert (ib[full.items.lookup(res.items)] == 0).all()  # history beats the job1 features
    with pytest.raises(UnknownIdError, match="unknown item"):
        setup["model"].recommend_cold(items=["nope"])
    res = setup["model"].recommend_cold({"occupation": "job1"}, items=["nope"], unknown="ignore")
    assert res.source == "feature-map" and res.chain[0]["reason"] == "no known items in the history"


def test_segment_popularity_step_and_dropping_fields(setup):
    model, full, ub = setup["model"], setup["full"], setup["ub"]
    steps = ("history", "segment-popularity", "popularity")
    res = model.recommend_cold({"occupation": "job0", "gender": "F"}, k=5, steps=steps)
    assert res.source == "segment-popularity" and res.segment == {"occupation": "job0", "gender": "F"}
    # hand-computed: counts over training users with occupation job0 and gender F
    uf = setup["user_f"]
    members = [u for u in range(full.n_users) if {"occupation=job0", "gender=F"} <= set(uf.describe(u))]
    counts = np.asarray(full.matrix[members].sum(axis=0)).ravel()
    top = full.items.ids[np.lexsort((np.arange(full.n_items), -counts))[:5]].tolist()
    assert res.items == top and np.allclose(res.scores, np.sort(counts)[::-1][:5])
    assert all(ub[m] == 0 for m in members)
    # age 50 + job0 + F: the full segment is tiny → fields dropped from the end (age) until ≥ min users
    small = available_models()["hybrid-ae"](**{**FAST["hybrid-ae"], "min_segment_users": 12})
    small.fit(full, item_features=None, user_features=uf)
    res = small.recommend_cold({"occupation": "job0", "gender": "F", "age": 50}, k=5, steps=steps)
    n_full = sum({"occupation=job0", "gender=F", "age=[45,inf)"} <= set(uf.describe(u)) for u in range(full.n_users))
    assert n_full < 12 and res.segment == {"occupation": "job0", "gender": "F"}
    assert "training users share occupation=job0,gender=F" in res.chain[-1]["reason"]


def test_popularity_is_the_last_resort(setup):
    model, full = setup["model"], setup["full"]
    res = model.recommend_cold(k=5)  # nothing known about the user
    counts = full.item_counts()
    assert res.source == "popularity" and np.allclose(res.scores, np.sort(counts)[::-1][:5])
    assert [(c["step"], c["used"]) for c in res.chain] == [("history", False), ("feature-map", False),
                                                          ("segment-popularity", False), ("popularity", True)]
    huge = available_models()["content-knn"](k=10, min_segment_users=10_000).fit(full, user_features=setup["user_f"])
    res = huge.recommend_cold({"gender": "F"}, steps=("segment-popularity", "popularity"))
    assert res.source == "popularity" and "fewer than 10000" in res.chain[0]["reason"]
    with pytest.raises(ConfigError, match="include 'popularity'"):
        huge.recommend_cold({"gender": "F"}, steps=("segment-popularity",))


def test_unknown_and_missing_features_are_explicit(setup):
    model = setup["model"]
    with pytest.raises(ConfigError, match=r"unknown feature field 'occupaton'.*Did you mean 'occupation'"):
        model.recommend_cold({"occupaton": "job1"})
    with pytest.raises(ConfigError, match=r"occupation='astronaut' is not a known value.*job0, job1, job2"):
        model.recommend_cold({"occupation": "astronaut"})
    res = model.recommend_cold({"occupation": "astronaut", "gender": "M"}, unknown="ignore")
    assert res.source == "feature-map" and res.chain[0] == {"step": "features", "used": False,
                                                            "reason": "ignored unknown occupation=astronaut"}
    res = model.recommend_cold({"occupation": "astronaut"}, unknown="ignore")
    assert res.source == "popularity"  # nothing usable left: the chain says so
    plain = available_models()["content-knn"](k=10).fit(setup["full"])
    with pytest.raises(ConfigError, match="fitted without user features"):
        plain.recommend_cold({"gender": "F"})
    with pytest.raises(ConfigError, match="steps="):
        model.recommend_cold(steps=("magic",))


def test_segment_popularity_and_ridge_by_hand():
    x = Interactions(sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1]], dtype=np.float32)))
    uf = Features.from_frame(pd.DataFrame({"u": x.users.ids, "g": ["a", "a", "b", "b"]}), "u", categorical=["g"])
    seg = SegmentPopularity(min_users=2).fit(x, uf)
    counts, segment, size = seg.scores(uf.encode([{"g": "b"}])[0])
    assert counts.tolist() == [0, 1, 2] and segment == {"g": "b"} and size == 2
    counts, segment, _ = SegmentPopularity(min_users=3).fit(x, uf).scores(uf.encode([{"g": "b"}])[0])
    assert counts.tolist() == [2, 2, 2] and segment is None
    with pytest.raises(ConfigError, match="min_segment_users=0"):
        SegmentPopularity(0)
    # ridge map: z = 2·φ0 − φ1 + 3 exactly → recovered with a tiny penalty
    phi = sp.csr_matrix(np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=np.float32))
    z = (phi @ np.array([[2.0], [-1.0]]) + 3.0).astype(np.float32)
    np.testing.assert_allclose(ridge_map(phi, z, 1e-9), [[2.0], [-1.0], [3.0]], atol=1e-5)


def test_coldstart_examples_are_readable(setup):
    _, _, ib, item_f, user_f = planted()
    full = setup["full"]
    cold = np.arange(full.n_items) == 4
    from cold_helpers import without_items

    model = available_models()["content-knn"](k=20, min_segment_users=5).fit(
        without_items(full, cold), item_features=item_f, user_features=user_f)
    titles = {i: f"Film {i}" for i in full.items.ids}
    ex = coldstart_examples(model, titles, user_features={"occupation": "job1"}, k=3)
    assert ex["cold_user"]["source"] == "feature-map" and ex["cold_user"]["items"][0]["title"].startswith("Film ")
    assert ex["new_item"]["item"] == "4" and ex["new_item"]["interactions"] == 0
    # content-knn's item vectors are the unit feature rows: neighbours = top cosines, ties to the lower index
    f = item_f.matrix.toarray()
    f /= np.linalg.norm(f, axis=1, keepdims=True)
    cos = f @ f[4]
    cos[4] = -np.inf
    expected = full.items.ids[np.lexsort((np.arange(len(cos)), -cos))[:3]].tolist()
    assert [r["item"] for r in ex["new_item"]["similar"]] == expected
