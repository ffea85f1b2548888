"""Small builders shared by the evaluation tests."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from recgen.data import EvalSet, Vocabulary


def csr(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    """CSR with a 1 at each listed item of each row."""
    r = np.repeat(np.arange(len(rows)), [len(x) for x in rows])
    c = np.array([i for x in rows for i in x], dtype=np.int64)
    return sp.csr_matrix((np.ones(len(c), dtype=np.float32), (r, c)), shape=(len(rows), n_items))


def random_evalset(n_users: int, n_items: int, p_target: float = 0.05, p_exclude: float = 0.1,
                   seed: int = 0) -> EvalSet:
    """Random disjoint target / exclude (= input) patterns; some users may have no target."""
    rng = np.random.default_rng(seed)
    u = rng.random((n_users, n_items))
    target = sp.csr_matrix((u < p_target).astype(np.float32))
    exclude = sp.csr_matrix(((u >= p_target) & (u < p_target + p_exclude)).astype(np.float32))
    return EvalSet(Vocabulary([f"u{i}" for i in range(n_users)]), exclude, target, exclude)


def naive_metrics(scores: np.ndarray, evalset, ks) -> dict[str, list[float]]:
    """Per-user Python reference: rank non-excluded items by (score desc, index asc), then the formulas."""
    out: dict[str, list[float]] = {}
    n_items = scores.shape[1]
    for u in range(evalset.n_users):
        target = set(evalset.target[u].indices.tolist())
        if not target:
            continue
        order = np.lexsort((np.arange(n_items), -scores[u]))  # score desc, then index asc
        ranked = order[~np.isin(order, evalset.exclude[u].indices)].tolist()
        for k in ks:
            rel = [1 if i in target else 0 for i in ranked[:k]]
            h, t = sum(rel), len(target)
            dcg = sum(r / math.log2(p + 2) for p, r in enumerate(rel))
            idcg = sum(1 / math.log2(p + 2) for p in range(min(t, k)))
            first = next((p for p, r in enumerate(rel) if r), None)
            ap = sum(sum(rel[:p + 1]) / (p + 1) for p, r in enumerate(rel) if r) / min(k, t)
            vals = {"recall": h / t, "trecall": h / min(k, t), "ndcg": dcg / idcg, "precision": h / k,
                    "hit": float(h > 0), "mrr": 0.0 if first is None else 1 / (first + 1), "map": ap}
            for m, v in vals.items():
                out.setdefault(f"{m}@{k}", []).append(v)
    return out
