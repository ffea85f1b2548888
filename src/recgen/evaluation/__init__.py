"""Full-ranking evaluation: deterministic top-k, ranking and beyond-accuracy metrics, breakdowns,
bootstrap intervals and paired tests, rating metrics, and result tables.

Depends only on :mod:`recgen.data`; a scorer is anything with ``score(rows, user_rows=None)``.
"""

from recgen.evaluation.beyond import coverage, exposure, exposure_gini, gini, recommended_popularity
from recgen.evaluation.breakdown import Group, breakdown_by_activity, breakdown_by_popularity, head_items
from recgen.evaluation.evaluate import (
    EvalResult,
    PrecomputedScorer,
    Scorer,
    auto_batch_size,
    evaluate,
    evaluate_scores,
)
from recgen.evaluation.metrics import (
    ALL_METRICS,
    RANKING_METRICS,
    hits_matrix,
    metrics_from_topk,
    ranking_metrics,
)
from recgen.evaluation.rating import RatingPredictor, RatingResult, evaluate_ratings, mae, rmse
from recgen.evaluation.stats import PairedTestResult, bootstrap_ci, compare, paired_test
from recgen.evaluation.tables import results_table, rich_table
from recgen.evaluation.topk import topk

__all__ = [
    "ALL_METRICS", "RANKING_METRICS", "EvalResult", "Group", "PairedTestResult", "PrecomputedScorer",
    "RatingPredictor", "RatingResult", "Scorer", "auto_batch_size", "bootstrap_ci", "breakdown_by_activity",
    "breakdown_by_popularity", "compare", "coverage", "evaluate", "evaluate_ratings", "evaluate_scores",
    "exposure", "exposure_gini", "gini", "head_items", "hits_matrix", "mae", "metrics_from_topk", "paired_test",
    "ranking_metrics", "recommended_popularity", "results_table", "rich_table", "rmse", "topk",
]
