"""Full-ranking evaluation: chunked scoring, exclusion, one deterministic top-k, every metric at every k.

``evaluate(scorer, evalset)`` never ranks against sampled negatives: each user's scores over the whole
item universe are ranked, with the items in ``evalset.exclude`` removed (train items, and for a given
split's test set also validation items). Users without target items are skipped (``n_skipped``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
import torch

from recgen.data.dataset import EvalSet
from recgen.errors import ConfigError, DataFormatError, check_k
from recgen.evaluation import beyond
from recgen.evaluation.metrics import RANKING_METRICS, check_metrics, hits_matrix, n_relevant, ranking_metrics
from recgen.evaluation.stats import bootstrap_ci
from recgen.evaluation.topk import apply_exclude, as_float_tensor, topk_tensor

log = logging.getLogger(__name__)

#: target size of one chunk's dense score block
CHUNK_BYTES = 256 * 2**20


class Scorer(Protocol):
    """Anything that scores all items from users' histories (every recgen model does)."""

    def score(self, rows: sp.csr_matrix, *, user_rows: np.ndarray | None = None) -> Any: ...


class PrecomputedScorer:
    """Wraps a dense score matrix aligned with an EvalSet's users (row ``i`` = user ``i``).

    Used by :func:`evaluate_scores`; ``score`` returns the rows of the chunk being evaluated.
    """

    def __init__(self, scores: np.ndarray | torch.Tensor) -> None:
        if scores.ndim != 2:
            raise DataFormatError(f"scores must be 2-d (n_users, n_items); got shape {tuple(scores.shape)}.")
        self.scores = scores

    def rows(self, idx: np.ndarray) -> np.ndarray | torch.Tensor:
        if len(idx) and idx[-1] - idx[0] == len(idx) - 1:  # contiguous users: a view, no copy
            return self.scores[int(idx[0]):int(idx[-1]) + 1]
        if isinstance(self.scores, torch.Tensor):
            return self.scores[torch.from_numpy(idx)]
        return self.scores[idx]


@dataclass(frozen=True, eq=False)
class EvalResult:
    """Metrics of one model on one EvalSet.

    Attributes
    ----------
    summary : dict[str, float]
        Mean over evaluated users of every per-user metric (``"recall@20"``...), plus list-level
        metrics ``coverage@k`` and ``gini@k``.
    per_user : dict[str, numpy.ndarray]
        Per-user values, aligned with ``users``.
    users : numpy.ndarray
        Raw ids of the evaluated users (those with at least one target item).
    n_users : int
        Number of evaluated users; ``n_skipped`` users had no target item.
    ks : tuple[int, ...]
    topk_items : numpy.ndarray (n_users, max(ks)) int32
        Recommended item indices, best first (``-1`` = empty slot).
    n_items : int
        Catalogue size the lists rank.
    """

    summary: dict[str, float]
    per_user: dict[str, np.ndarray]
    users: np.ndarray
    n_users: int
    ks: tuple[int, ...]
    topk_items: np.ndarray
    n_items: int = 0
    n_skipped: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, metric: str) -> float:
        return self.summary[metric]

    def ci(self, metric: str, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05) -> tuple[float, float, float]:
        """(mean, low, high) percentile-bootstrap interval of a per-user metric over users."""
        if metric not in self.per_user:
            raise ConfigError(
                f"metric={metric!r} has no per-user values; choose one of {', '.join(self.per_user)}."
            )
        return bootstrap_ci(self.per_user[metric], n_boot=n_boot, alpha=alpha, seed=seed)

    def to_dict(self, per_user: bool = False) -> dict[str, Any]:
        """JSON-able dict: summary, counts, ks; per-user values and user ids when ``per_user``."""
        out: dict[str, Any] = {
            "summary": {k: float(v) for k, v in self.summary.items()},
            "n_users": int(self.n_users),
            "n_skipped": int(self.n_skipped),
            "n_items": int(self.n_items),
            "ks": [int(k) for k in self.ks],
            "meta": dict(self.meta),
        }
        if per_user:
            out["users"] = [str(u) for u in self.users]
            out["per_user"] = {k: [float(x) for x in v] for k, v in self.per_user.items()}
        return out


def auto_batch_size(n_items: int, budget_bytes: int = CHUNK_BYTES) -> int:
    """Rows per chunk so that a float32 (rows × n_items) block stays within ``budget_bytes``."""
    return max(1, budget_bytes // (4 * max(1, n_items)))


def _check_ks(ks: int | Iterable[int], n_items: int) -> tuple[int, ...]:
    if isinstance(ks, int | np.integer):
        ks = (int(ks),)
    out = sorted({check_k(k, n_items, name="ks") for k in ks})
    if not out:
        raise ConfigError("ks is empty; pass cut-offs such as ks=(20, 50, 100).")
    return tuple(out)


def _run(get_scores: Any, evalset: EvalSet, ks: int | Iterable[int], metrics: Iterable[str] | None,
         batch_size: int | None, item_popularity: np.ndarray | None, show_progress: bool) -> EvalResult:
    if not isinstance(evalset, EvalSet):
        raise DataFormatError(f"evalset must be recgen.data.EvalSet, got {type(evalset).__name__}.")
    n_items = evalset.n_items
    ks_t = _check_ks(ks, n_items)
    names = check_metrics(metrics)
    if "popularity" in names and item_popularity is None:
        if metrics is not None:
            raise ConfigError("metrics includes 'popularity' but item_popularity is None; pass training item counts.")
        names = tuple(m for m in names if m != "popularity")
    if item_popularity is not None and len(item_popularity) != n_items:
        raise DataFormatError(
            f"item_popularity has {len(item_popularity)} entries for {n_items} items; pass one count per item."
        )
    ranking = tuple(m for m in names if m in RANKING_METRICS)
    n_t_all = n_relevant(evalset.target)
    keep = np.flatnonzero(n_t_all > 0)
    n_skipped = evalset.n_users - len(keep)
    if n_skipped:
        log.info("%d of %d users have no target items and are not evaluated.", n_skipped, evalset.n_users)
    if batch_size is None:
        batch_size = auto_batch_size(n_items)
    elif batch_size < 1:
        raise ConfigError(f"batch_size={batch_size} must be >= 1, or None to size chunks automatically.")
    kmax = ks_t[-1]
    topk_items = np.full((len(keep), kmax), -1, dtype=np.int32)
    parts: list[dict[str, np.ndarray]] = []
    starts = range(0, len(keep), batch_size)
    if show_progress:
        from rich.progress import track

        starts = track(starts, description="evaluating", total=len(starts))
    t0 = time.perf_counter()
    for start in starts:
        idx = keep[start:start + batch_size]
        s = get_scores(idx)
        s, _ = as_float_tensor(s)  # a private copy: exclusion writes -inf into it
        if tuple(s.shape) != (len(idx), n_items):
            raise DataFormatError(
                f"scorer returned scores of shape {tuple(s.shape)} for {len(idx)} users; expected "
                f"({len(idx)}, {n_items}) (one column per item of the split's universe)."
            )
        apply_exclude(s, evalset.exclude[idx])
        top, _ = topk_tensor(s, kmax)
        del s
        top_np = top.cpu().numpy()
        topk_items[start:start + len(idx)] = top_np
        part: dict[str, np.ndarray] = {}
        if ranking:
            part.update(ranking_metrics(hits_matrix(top_np, evalset.target[idx]), n_t_all[idx], ks_t, ranking))
        if "popularity" in names:
            for k in ks_t:
                part[f"popularity@{k}"] = beyond.recommended_popularity(top_np, k, item_popularity)
        parts.append(part)
    if not parts:
        log.warning("no user of the evalset has a target item; nothing to evaluate.")
    per_user = {k: np.concatenate([p[k] for p in parts]) for k in (parts[0] if parts else {})}
    summary = {k: float(np.nanmean(v)) if len(v) else float("nan") for k, v in per_user.items()}
    for k in ks_t:
        if "coverage" in names:
            summary[f"coverage@{k}"] = beyond.coverage(topk_items, k, n_items)
        if "gini" in names:
            summary[f"gini@{k}"] = beyond.exposure_gini(topk_items, k, n_items)
    elapsed = time.perf_counter() - t0
    log.info("evaluated %d users x %d items in %.2fs", len(keep), n_items, elapsed)
    return EvalResult(summary=summary, per_user=per_user, users=evalset.users.ids[keep], n_users=len(keep),
                      ks=ks_t, topk_items=topk_items, n_items=n_items, n_skipped=n_skipped,
                      meta={"seconds": round(elapsed, 4), "batch_size": int(batch_size)})


def evaluate(scorer: Scorer, evalset: EvalSet, ks: int | Sequence[int] = (20,), *,
             metrics: Iterable[str] | None = None, batch_size: int | None = None,
             item_popularity: np.ndarray | None = None, show_progress: bool = False) -> EvalResult:
    """Full-ranking top-k evaluation of ``scorer`` on ``evalset``.

    Users are processed in chunks of ``batch_size`` (default: as many as keep a float32 score block
    within ~256 MB). For each chunk: ``scorer.score(evalset.input[chunk], user_rows=evalset.rows[chunk])``,
    excluded items set to ``-inf``, one deterministic top-``max(ks)`` (ties → lower item index), then
    every metric at every ``k``.

    ``metrics``: base names from ``recall, trecall, ndcg, precision, hit, mrr, map, coverage, gini,
    popularity`` (default: all; ``popularity`` only when ``item_popularity`` is given).
    """
    if not hasattr(scorer, "score"):
        raise DataFormatError(
            f"scorer must have a score(rows, user_rows=None) method; got {type(scorer).__name__}. For a "
            "precomputed matrix use evaluate_scores(scores, evalset)."
        )

    def get(idx: np.ndarray) -> Any:
        return scorer.score(evalset.input[idx], user_rows=evalset.rows[idx])

    return _run(get, evalset, ks, metrics, batch_size, item_popularity, show_progress)


def evaluate_scores(scores: np.ndarray | torch.Tensor, evalset: EvalSet, ks: int | Sequence[int] = (20,), *,
                    metrics: Iterable[str] | None = None, batch_size: int | None = None,
                    item_popularity: np.ndarray | None = None, show_progress: bool = False) -> EvalResult:
    """:func:`evaluate` for a precomputed dense score matrix (n_users, n_items) aligned with ``evalset``."""
    pre = PrecomputedScorer(scores)
    if tuple(scores.shape) != (evalset.n_users, evalset.n_items):
        raise DataFormatError(
            f"scores have shape {tuple(scores.shape)} but evalset has {evalset.n_users} users x "
            f"{evalset.n_items} items; pass one row per evalset user."
        )
    return _run(pre.rows, evalset, ks, metrics, batch_size, item_popularity, show_progress)
