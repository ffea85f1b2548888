"""Augmentation: train a recommender on real + synthetic data and measure the change on real test users.

Two ways to add synthetic data to the real training interactions (the real test users, their
fold-in / input rows and their targets are never changed):

- :func:`augment_with_users`: whole synthetic users appended **after** the real rows (real rows keep
  their indices, so ``EvalSet.rows`` stays valid); synthetic user ids get a prefix.
- :func:`augment_sparse_users`: the data-imbalance case: every real training user with at most
  ``max_activity`` items gets new items from the generator's :meth:`BehaviourGAN.complete` (decoded
  from that user's own code, never an item they already have) until they reach ``target_activity``.

:func:`augmentation_experiment` trains each model on real-only, real + users and real + sparse
completion, evaluates all on the same :class:`EvalSet`, and reports NDCG@k overall and per
user-activity quartile with bootstrap CIs of the paired difference and a paired t test against
real-only training.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from recgen.data.dataset import EvalSet
from recgen.data.interactions import Interactions
from recgen.data.vocabulary import Vocabulary
from recgen.errors import ConfigError, DataFormatError
from recgen.evaluation import bootstrap_ci, evaluate, paired_test
from recgen.models.registry import create_model

log = logging.getLogger(__name__)


def augment_with_users(train: Interactions, synthetic: Interactions, prefix: str = "synth:") -> Interactions:
    """Real rows first (unchanged, same order), then the synthetic users (binary), ids ``prefix + id``."""
    if synthetic.items != train.items:
        raise DataFormatError(f"synthetic users have {synthetic.n_items} items, the training data {train.n_items} "
                              "different ones; sample them from a generator fitted on this training data.")
    syn = synthetic.matrix.copy()
    syn.data[:] = 1.0
    users = Vocabulary([*train.users.ids, *(prefix + u for u in synthetic.users.ids)])
    return Interactions(sp.vstack([train.matrix, syn], format="csr"), users, train.items)


def augment_sparse_users(train: Interactions, generator: Any, *, max_activity: int | None = None,
                         target_activity: int | None = None, seed: int = 0) -> tuple[Interactions, dict[str, Any]]:
    """Complete the sparse real users' rows with generated items (see the module docstring).

    Defaults: ``max_activity`` = the 25th percentile of training activity, ``target_activity`` = the
    median. Returns the augmented data (same users, same order) and a summary of what was added.
    """
    counts = train.user_counts()
    lo = int(np.quantile(counts, 0.25)) if max_activity is None else int(max_activity)
    hi = int(np.median(counts)) if target_activity is None else int(target_activity)
    if hi <= lo:
        raise ConfigError(f"target_activity={hi} must exceed max_activity={lo}; pass a larger target_activity.")
    sparse = np.flatnonzero((counts <= lo) & (counts > 0))
    extra = np.zeros(train.n_users, dtype=np.int64)
    extra[sparse] = hi - counts[sparse]
    added = generator.complete(train.matrix[sparse], extra[sparse], seed=seed) if len(sparse) else None
    add = sp.csr_matrix(train.shape, dtype=np.float32)
    if added is not None:
        add = sp.csr_matrix((added.data, added.indices, added.indptr), shape=(len(sparse), train.n_items))
        rows = np.repeat(sparse, np.diff(add.indptr))
        add = sp.csr_matrix((np.ones(add.nnz, np.float32), (rows, add.indices)), shape=train.shape)
    out = train.matrix.copy()
    out.data[:] = 1.0
    out = (out + add).tocsr()
    out.data[:] = 1.0
    info = {"max_activity": lo, "target_activity": hi, "users_augmented": int(len(sparse)),
            "interactions_added": int(add.nnz)}
    return Interactions(out, train.users, train.items), info


def _groups(evalset: EvalSet, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    act = np.diff(evalset.input.indptr).astype(np.float64)
    edges = np.quantile(act, np.linspace(0, 1, n_groups + 1))
    return np.searchsorted(edges[1:-1], act, side="right"), edges


def augmentation_experiment(train: Interactions, test: EvalSet, conditions: Mapping[str, Interactions],
                            models: Mapping[str, Mapping[str, Any]], *, k: int = 20, n_groups: int = 4,
                            seed: int = 0) -> dict[str, Any]:
    """NDCG@k of each model trained on ``train`` (real only) and on each augmented training set.

    For each model and condition: the overall mean, the paired difference to real-only (bootstrap CI,
    t test p-value), and the same per activity group (quantiles of the test users' input counts).
    """
    test = test.nonempty()
    group, edges = _groups(test, n_groups)
    metric = f"ndcg@{k}"
    out: dict[str, Any] = {"k": k, "n_test_users": int(test.n_users), "group_edges": edges.tolist(), "models": {}}
    for name, overrides in models.items():
        per: dict[str, np.ndarray] = {}
        for cond, data in {"real": train, **conditions}.items():
            if data.items != train.items:
                raise DataFormatError(f"condition {cond!r} has another item vocabulary; augment the real data.")
            est = create_model(name, **dict(overrides)).fit(data)
            res = evaluate(est, test, ks=(k,), metrics=("ndcg",))
            per[cond] = res.per_user[metric]
            log.info("augment %s/%s: %s %.4f", name, cond, metric, per[cond].mean())
        rows: dict[str, Any] = {"real": {"ndcg": float(per["real"].mean())}}
        for cond in conditions:
            t = paired_test(per[cond], per["real"], method="t", seed=seed)
            groups = []
            for g in range(n_groups):
                sel = group == g
                if not sel.any():
                    continue
                diff = per[cond][sel] - per["real"][sel]
                mean, lo, hi = bootstrap_ci(diff, seed=seed)
                groups.append({"group": g + 1, "users": int(sel.sum()), "ndcg_real": float(per["real"][sel].mean()),
                               "ndcg_aug": float(per[cond][sel].mean()), "delta": mean, "ci": [lo, hi]})
            rows[cond] = {"ndcg": float(per[cond].mean()), "delta": t.mean_diff, "ci": list(t.ci),
                          "p_value": t.p_value, "groups": groups}
        out["models"][name] = rows
    return out


def augmentation_markdown(result: Mapping[str, Any]) -> str:
    """Markdown tables of :func:`augmentation_experiment`'s result."""
    k = result["k"]
    lines = [f"| model | condition | NDCG@{k} | Δ vs real | 95 % CI | p (paired t) |", "|---|---|---|---|---|---|"]
    for name, rows in result["models"].items():
        lines.append(f"| {name} | real only | {rows['real']['ndcg']:.4f} | | | |")
        for cond, r in rows.items():
            if cond != "real":
                lines.append(f"| {name} | {cond} | {r['ndcg']:.4f} | {r['delta']:+.4f} | "
                             f"[{r['ci'][0]:+.4f}, {r['ci'][1]:+.4f}] | {r['p_value']:.3g} |")
    lines += ["", f"Per activity quartile of the test users (Δ NDCG@{k} vs real-only, 95 % bootstrap CI):", "",
              "| model | condition | group | users | NDCG real | NDCG aug | Δ | CI |", "|---|---|---|---|---|---|---|---|"]
    for name, rows in result["models"].items():
        for cond, r in rows.items():
            if cond == "real":
                continue
            for g in r["groups"]:
                lines.append(f"| {name} | {cond} | Q{g['group']} | {g['users']} | {g['ndcg_real']:.4f} | "
                             f"{g['ndcg_aug']:.4f} | {g['delta']:+.4f} | [{g['ci'][0]:+.4f}, {g['ci'][1]:+.4f}] |")
    return "\n".join(lines) + "\n"
