"""Choosing a model's settings on validation users: fit each candidate, keep the best by NDCG@k."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from recgen.data.dataset import EvalSet
from recgen.data.interactions import Interactions
from recgen.errors import ConfigError
from recgen.evaluation import evaluate
from recgen.models.base import Recommender
from recgen.models.registry import create_model


def select_on_validation(name: str, base: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]],
                         train: Interactions, validation: EvalSet, *, k: int = 20
                         ) -> tuple[Recommender, dict[str, Any], list[dict[str, Any]]]:
    """Fit ``name`` with ``base`` updated by each candidate and keep the one with the best validation NDCG@k.

    Every fit gets ``validation`` too, so a neural model stops early / restores its best epoch on it.
    Ties keep the earlier candidate. Returns the fitted best model, its record, and one record per
    candidate (the best one among them): ``{"settings", "val_ndcg", "best_epoch"}`` (``best_epoch`` None
    for models that are not trained in epochs).
    """
    best: tuple[Recommender, dict[str, Any]] | None = None
    tried: list[dict[str, Any]] = []
    for candidate in candidates:
        est = create_model(name, **{**base, **candidate}).fit(train, validation=validation)
        score = float(evaluate(est, validation, ks=(k,), metrics=("ndcg",))[f"ndcg@{k}"])
        tried.append({"settings": dict(candidate), "val_ndcg": score, "best_epoch": getattr(est, "best_epoch_", None)})
        if best is None or score > best[1]["val_ndcg"]:
            best = (est, tried[-1])
    if best is None:
        raise ConfigError("candidates=[] is empty; pass at least one settings mapping (e.g. [{}]).")
    return best[0], best[1], tried
