"""evaluate / evaluate_scores: chunking, exclusion, a naive per-user reference, EvalResult."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eval_helpers import naive_metrics, random_evalset

from recgen.errors import ConfigError, DataFormatError
from recgen.evaluation import EvalResult, PrecomputedScorer, evaluate, evaluate_scores


class PopularityScorer:
    """MostPopular-like: the same integer counts for every user (many ties), records its calls."""

    def __init__(self, counts: np.ndarray) -> None:
        self.counts = counts.astype(np.float32)
        self.calls: list[tuple[int, np.ndarray]] = []

    def score(self, rows, *, user_rows=None):
        self.calls.append((rows.shape[0], np.asarray(user_rows)))
        return np.tile(self.counts, (rows.shape[0], 1))


@pytest.fixture(scope="module")
def data():
    ev = random_evalset(90, 40, p_target=0.08, p_exclude=0.2, seed=1)
    counts = np.random.default_rng(2).integers(0, 6, size=40)  # integer counts: plenty of ties
    return ev, counts


def test_popularity_scorer_matches_naive_reference(data):
    ev, counts = data
    ks = (1, 5, 10)
    res = evaluate(PopularityScorer(counts), ev, ks=ks)
    ref = naive_metrics(np.tile(counts, (ev.n_users, 1)).astype(np.float32), ev, ks)
    assert res.n_users == len(ref["recall@1"]) and res.n_skipped == ev.n_users - res.n_users > 0
    for name, values in ref.items():
        np.testing.assert_allclose(res.per_user[name], values, rtol=1e-12, atol=1e-12, err_msg=name)
        assert res.summary[name] == pytest.approx(np.mean(values))


def test_random_precomputed_scores_match_naive_reference(data):
    ev, _ = data
    scores = np.random.default_rng(5).standard_normal((ev.n_users, ev.n_items)).astype(np.float32)
    res = evaluate_scores(scores, ev, ks=(3, 7))
    ref = naive_metrics(scores, ev, (3, 7))
    for name, values in ref.items():
        np.testing.assert_allclose(res.per_user[name], values, rtol=1e-12, atol=1e-12, err_msg=name)


def test_chunked_equals_unchunked_and_scorer_sees_rows(data):
    ev, counts = data
    scores = np.random.default_rng(6).standard_normal((ev.n_users, ev.n_items)).astype(np.float32)
    whole = evaluate_scores(scores, ev, ks=(5, 10))
    chunked = evaluate_scores(scores, ev, ks=(5, 10), batch_size=7)
    assert (whole.topk_items == chunked.topk_items).all()
    assert whole.summary == chunked.summary
    for k in whole.per_user:
        assert np.array_equal(whole.per_user[k], chunked.per_user[k])
    scorer = PopularityScorer(counts)
    evaluate(scorer, ev, ks=(5,), batch_size=16)
    assert max(n for n, _ in scorer.calls) <= 16
    assert all(len(r) == n and (r == -1).all() for n, r in scorer.calls)  # EvalSet.rows passed through


def test_excluded_items_never_recommended(data):
    ev, _ = data
    scores = np.zeros((ev.n_users, ev.n_items), dtype=np.float32)
    scores[ev.exclude.nonzero()] = 100.0  # the excluded items have by far the top scores
    res = evaluate_scores(scores, ev, ks=(10,))
    rows = ev.users.lookup(res.users)
    for r, items in zip(rows, res.topk_items, strict=True):
        assert not set(items.tolist()) & set(ev.exclude[r].indices.tolist())


def test_result_fields_json_and_ci(data):
    ev, counts = data
    res = evaluate(PopularityScorer(counts), ev, ks=20, item_popularity=counts)
    assert isinstance(res, EvalResult) and res.ks == (20,)
    assert res.topk_items.shape == (res.n_users, 20) and res.topk_items.dtype == np.int32
    assert {"coverage@20", "gini@20", "popularity@20"} <= set(res.summary)
    # every user gets the same list of 20 most popular non-excluded items -> popularity is their mean count
    assert res.summary["popularity@20"] == pytest.approx(np.nanmean(res.per_user["popularity@20"]))
    d = json.loads(json.dumps(res.to_dict(per_user=True)))
    assert d["n_users"] == res.n_users and len(d["users"]) == res.n_users
    assert d["per_user"]["ndcg@20"] == pytest.approx(res.per_user["ndcg@20"].tolist())
    assert "per_user" not in res.to_dict()
    mean, lo, hi = res.ci("ndcg@20", n_boot=200)
    assert lo <= mean <= hi and mean == pytest.approx(res["ndcg@20"])
    with pytest.raises(ConfigError, match="coverage@20"):
        res.ci("coverage@20")


def test_metric_selection_and_errors(data):
    ev, counts = data
    res = evaluate(PopularityScorer(counts), ev, ks=(5,), metrics=["ndcg", "coverage"])
    assert set(res.summary) == {"ndcg@5", "coverage@5"}
    with pytest.raises(ConfigError, match="item_popularity"):
        evaluate(PopularityScorer(counts), ev, metrics=["popularity"])
    with pytest.raises(ConfigError, match="ks=41"):
        evaluate(PopularityScorer(counts), ev, ks=(41,))
    with pytest.raises(DataFormatError, match=r"score\(rows"):
        evaluate(object(), ev)
    with pytest.raises(DataFormatError, match="one row per evalset user"):
        evaluate_scores(PrecomputedScorer(np.zeros((3, 40))).scores, ev)
    bad = PopularityScorer(np.zeros(39))
    with pytest.raises(DataFormatError, match=r"expected \(\d+, 40\)"):
        evaluate(bad, ev)


def test_torch_scores_and_float64_scores_give_the_same_result(data):
    import torch

    ev, _ = data
    scores = np.random.default_rng(8).standard_normal((ev.n_users, ev.n_items))
    a = evaluate_scores(scores.astype(np.float32), ev, ks=(5,))
    b = evaluate_scores(torch.from_numpy(scores.astype(np.float32)), ev, ks=(5,), batch_size=11)
    c = evaluate_scores(scores, ev, ks=(5,))  # float64 kept as float64: same order for these values
    assert (a.topk_items == b.topk_items).all() and (a.topk_items == c.topk_items).all()
    assert a.summary == b.summary
