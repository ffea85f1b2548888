"""Content-based and hybrid models on planted data: cold items whose content decides who likes them are
recovered; warm items still work; features survive save / load; bad features fail clearly."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from cold_helpers import FAST, N_ITEMS, planted, without_items

from recgen.data.features import Features
from recgen.errors import DataFormatError
from recgen.models import available_models, load_model

MODELS = ["content-ae", "content-knn", "hybrid-ae"]
COLD = np.arange(N_ITEMS) % 5 == 0  # 18 cold items, 6 per block


@pytest.fixture(scope="module")
def data():
    full, ub, ib, item_f, user_f = planted()
    return {"full": full, "train": without_items(full, COLD), "ub": ub, "ib": ib, "item_f": item_f,
            "user_f": user_f}


_FITTED: dict[str, object] = {}


@pytest.fixture(params=MODELS)
def fitted(request, data):
    name = request.param
    if name not in _FITTED:
        _FITTED[name] = available_models()[name](**FAST[name]).fit(
            data["train"], item_features=data["item_f"], user_features=data["user_f"])
    return _FITTED[name]


def own_block_precision(scores: np.ndarray, allowed: np.ndarray, user_blocks: np.ndarray, item_blocks: np.ndarray,
                        top: int = 5) -> float:
    s = scores.copy()
    s[:, ~allowed] = -np.inf
    best = np.argsort(-s, axis=1, kind="stable")[:, :top]
    return float((item_blocks[best] == user_blocks[:, None]).mean())


def test_cold_items_are_ranked_for_the_users_whose_block_they_carry(fitted, data):
    """Cold items have zero training interactions; only their content (tag b<block>) tells who likes them."""
    assert data["train"].item_counts()[COLD].sum() == 0
    s = fitted.score(data["train"].matrix)
    assert np.isfinite(s).all()
    # ranking among the 18 cold items only: the top 5 must be the user's own block (6 candidates per block)
    assert own_block_precision(s, COLD, data["ub"], data["ib"]) >= 0.95, fitted.name


def test_warm_items_still_recovered_for_unseen_users(fitted, data):
    rng = np.random.default_rng(3)
    hist = data["train"].matrix[:30].tolil()
    for r, cols in enumerate(hist.rows):  # keep 2 items of each history
        keep = set(rng.choice(cols, size=2, replace=False).tolist())
        hist.rows[r] = [c for c in cols if c in keep]
        hist.data[r] = [1.0] * len(hist.rows[r])
    s = fitted.score(sp.csr_matrix(hist))
    s[sp.csr_matrix(hist).nonzero()] = -np.inf
    assert own_block_precision(s, ~COLD, data["ub"][:30], data["ib"]) >= 0.9, fitted.name


def test_save_load_keeps_features_and_scores(fitted, data, tmp_path):
    out = fitted.save(tmp_path / fitted.name)
    loaded = load_model(out)
    np.testing.assert_allclose(loaded.score(data["train"].matrix[:20]), fitted.score(data["train"].matrix[:20]),
                               rtol=1e-5, atol=1e-6)
    assert loaded.item_features_.columns == data["item_f"].columns
    assert loaded.user_features_.field_names == ["occupation", "gender", "age"]
    a = loaded.recommend_cold({"occupation": "job1"}, k=5)
    b = fitted.recommend_cold({"occupation": "job1"}, k=5)
    assert a.items == b.items and a.source == b.source == "feature-map"


def test_items_without_content_score_zero_in_content_ae(data):
    item_f = data["item_f"]
    keep = np.arange(len(item_f)) != 7
    partial = Features(item_f.ids.take(np.flatnonzero(keep)), item_f.matrix[keep], item_f.columns, item_f.fields,
                       item_f.idf, item_f.missing[keep])
    m = available_models()["content-ae"](**FAST["content-ae"]).fit(data["train"], item_features=partial)
    assert m.item_features_.missing[7].all()  # aligned: the absent item is flagged, not guessed
    assert np.all(m.score(data["train"].matrix[:5])[:, 7] == 0.0)


def test_bad_features_fail_clearly(data):
    model = available_models()["hybrid-ae"](**FAST["hybrid-ae"])
    with pytest.raises(DataFormatError, match="item_features must be recgen.data.Features"):
        model.fit(data["train"], item_features={"1": "b0"})
    item_f = data["item_f"]
    other = Features(item_f.ids.take(np.arange(len(item_f))), item_f.matrix, item_f.columns, item_f.fields,
                     item_f.idf, item_f.missing)
    other = Features(type(item_f.ids)([f"x{i}" for i in range(len(item_f))]), other.matrix, other.columns,
                     other.fields, other.idf, other.missing)
    with pytest.raises(DataFormatError, match="share no ids with the training items"):
        model.fit(data["train"], item_features=other)
