"""select_on_validation: the candidate with the best validation NDCG@k wins, ties keep the first."""

from __future__ import annotations

import pytest
from testkit import holdout, planted_blocks

from recgen.errors import ConfigError
from recgen.evaluation import evaluate
from recgen.models import create_model
from recgen.models.selection import select_on_validation


def test_best_candidate_is_the_argmax_of_validation_ndcg():
    train, val = holdout(planted_blocks(p_out=0.05, seed=3)[0], per_user=2, seed=1)
    candidates = [{"k": 1}, {"k": 30}, {"k": 5}]
    model, best, tried = select_on_validation("itemknn", {"shrink": 0.0}, candidates, train, val, k=10)
    scores = [float(evaluate(create_model("itemknn", shrink=0.0, **c).fit(train), val, ks=(10,),
                             metrics=("ndcg",))["ndcg@10"]) for c in candidates]
    assert [t["val_ndcg"] for t in tried] == pytest.approx(scores)
    assert best is tried[scores.index(max(scores))] and model.config.k == best["settings"]["k"]
    assert all(t["best_epoch"] is None for t in tried)  # closed-form / neighbourhood: no epochs


def test_ties_keep_the_first_candidate_and_empty_is_refused():
    train, val = holdout(planted_blocks(seed=2)[0], per_user=2, seed=1)
    _, best, tried = select_on_validation("most-popular", {}, [{}, {}], train, val)
    assert tried[0]["val_ndcg"] == tried[1]["val_ndcg"] and best is tried[0]
    with pytest.raises(ConfigError, match="candidates=\\[\\] is empty"):
        select_on_validation("most-popular", {}, [], train, val)
