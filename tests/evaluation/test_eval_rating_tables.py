"""RMSE / MAE and evaluate_ratings by hand; Markdown and rich result tables."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from eval_helpers import random_evalset

from recgen.data import EvalSet, Vocabulary
from recgen.errors import DataFormatError
from recgen.evaluation import evaluate_ratings, evaluate_scores, mae, results_table, rich_table, rmse


def test_rmse_mae_by_hand():
    assert rmse([1, 2, 3], [1, 3, 5]) == pytest.approx(math.sqrt((0 + 1 + 4) / 3))
    assert mae([1, 2, 3], [1, 3, 5]) == pytest.approx((0 + 1 + 2) / 3)
    with pytest.raises(DataFormatError, match="pred has 2 values and true has 3"):
        rmse([1, 2], [1, 2, 3])


class UserMean:
    """Predicts each user's mean input rating at every requested position."""

    def predict(self, rows, targets, *, user_rows=None):
        means = np.asarray(rows.sum(axis=1)).ravel() / np.maximum(np.diff(rows.indptr), 1)
        return np.repeat(means, np.diff(targets.indptr))


def test_evaluate_ratings_with_user_mean_predictor():
    inp = sp.csr_matrix(np.array([[4, 2, 0, 0], [0, 0, 5, 0], [1, 0, 0, 0]], dtype=np.float32))
    tgt = sp.csr_matrix(np.array([[0, 0, 5, 1], [3, 0, 0, 0], [0, 0, 0, 0]], dtype=np.float32))
    ev = EvalSet(Vocabulary(["a", "b", "c"]), inp, tgt, inp)
    res = evaluate_ratings(UserMean(), ev, batch_size=2)
    # user a mean 3 -> errors (3-5, 3-1); user b mean 5 -> error (5-3); user c has no target
    assert res.rmse == pytest.approx(math.sqrt((4 + 4 + 4) / 3))
    assert res.mae == pytest.approx(2.0)
    assert (res.n_ratings, res.n_users) == (3, 2)
    clipped = evaluate_ratings(UserMean(), ev, clip=(1.0, 4.0))  # b's 5 -> 4: errors 2, 2, 1
    assert clipped.mae == pytest.approx(5 / 3)

    class Wrong:
        def predict(self, rows, targets, *, user_rows=None):
            return np.zeros(1)

    with pytest.raises(DataFormatError, match="one prediction per stored target entry"):
        evaluate_ratings(Wrong(), ev)


@pytest.fixture(scope="module")
def two_results():
    ev = random_evalset(60, 30, p_target=0.1, seed=7)
    rng = np.random.default_rng(0)
    good = rng.random((60, 30)) + 2 * ev.target.toarray()
    return {"good": evaluate_scores(good, ev, ks=(5,)), "random": evaluate_scores(rng.random((60, 30)), ev, ks=(5,))}


def test_markdown_table_marks_recall_definition_and_shows_intervals(two_results):
    md = results_table(two_results, metrics=["recall@5", "trecall@5", "ndcg@5", "coverage@5"], n_boot=100)
    lines = md.splitlines()
    assert lines[0] == "| model | users | recall@5 (std) | trecall@5 (trunc) | ndcg@5 | coverage@5 |"
    good = lines[2].split(" | ")
    assert good[0] == "| good" and good[1] == str(two_results["good"].n_users)
    assert good[2].startswith(f"{two_results['good']['recall@5']:.4f} [")  # mean [low, high]
    assert "[" not in lines[2].rsplit("|", 2)[1]  # coverage: list-level, no interval
    assert "hits@k / min(k, |target|)" in md and "bootstrap" in md
    assert "[" not in results_table(two_results, metrics=["ndcg@5"], ci=False).splitlines()[2]


def test_rich_table_has_same_columns(two_results):
    t = rich_table(two_results, metrics=["recall@5", "trecall@5"], ci=False)
    assert [c.header for c in t.columns] == ["model", "users", "recall@5 (std)", "trecall@5 (trunc)"]
    assert t.row_count == 2
