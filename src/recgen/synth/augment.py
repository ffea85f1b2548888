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
real-only training. A :class:`Control` adds a real-only run with changed settings (e.g. as many
updates as an augmented condition gives a fixed-epoch model) and compares the augmented condition with it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from recgen.data.dataset import EvalSet
from recgen.data.interactions import Interactions
from recgen.data.vocabulary import Vocabulary
from recgen.errors import ConfigError, DataFormatError
from recgen.evaluation import bootstrap_ci, evaluate, paired_test
from recgen.models.registry import create_model
from recgen.models.selection import select_on_validation

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


@dataclass(frozen=True)
class Control:
    """A real-only run of one model with changed settings, to tell an augmentation gain from a side effect.

    Example: a fixed-epoch model trained on real + 50 % synthetic users also makes 50 % more updates;
    ``Control("mult-vae", {"epochs": 45}, versus="+synthetic users")`` trains it on the real data only
    with as many updates and tests the augmented condition against that run (paired, same test users).
    """

    #: model name (a key of the experiment's ``models``)
    model: str
    #: settings that replace the model's experiment overrides for this run (e.g. ``{"epochs": 45}``)
    overrides: Mapping[str, Any] = field(default_factory=dict)
    #: the augmented condition (a key of ``conditions``) compared with this control
    versus: str = ""


def _groups(evalset: EvalSet, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    act = np.diff(evalset.input.indptr).astype(np.float64)
    edges = np.quantile(act, np.linspace(0, 1, n_groups + 1))
    return np.searchsorted(edges[1:-1], act, side="right"), edges


def _paired(a: np.ndarray, b: np.ndarray, group: np.ndarray, n_groups: int, seed: int) -> dict[str, Any]:
    """Mean of ``a``, the paired difference ``a − b`` (t test, bootstrap CI) overall and per activity group."""
    t = paired_test(a, b, method="t", seed=seed)
    groups = []
    for g in range(n_groups):
        sel = group == g
        if not sel.any():
            continue
        mean, lo, hi = bootstrap_ci(a[sel] - b[sel], seed=seed)
        groups.append({"group": g + 1, "users": int(sel.sum()), "ndcg_real": float(b[sel].mean()),
                       "ndcg_aug": float(a[sel].mean()), "delta": mean, "ci": [lo, hi]})
    return {"ndcg": float(a.mean()), "delta": t.mean_diff, "ci": list(t.ci), "p_value": t.p_value, "groups": groups}


def _fit_selected(name: str, settings: Mapping[str, Any], data: Interactions, validation: EvalSet | None,
                  grid: Sequence[Mapping[str, Any]] | None, k: int) -> tuple[Any, dict[str, Any]]:
    """Fit ``name`` on ``data``; with a grid, the candidate with the best validation NDCG@k (first on ties)."""
    if validation is None:
        return create_model(name, **dict(settings)).fit(data), {}
    est, best, tried = select_on_validation(name, settings, grid or [{}], data, validation, k=k)
    for t in tried:
        log.info("augment %s %s: validation ndcg@%d %.4f", name, t["settings"], k, t["val_ndcg"])
    return est, {"selected": best["settings"], "val_ndcg": best["val_ndcg"], "best_epoch": best["best_epoch"],
                 "candidates": tried}


def augmentation_experiment(train: Interactions, test: EvalSet, conditions: Mapping[str, Interactions],
                            models: Mapping[str, Mapping[str, Any]], *, k: int = 20, n_groups: int = 4,
                            seed: int = 0, controls: Mapping[str, Control] | None = None,
                            validation: EvalSet | None = None,
                            grids: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> dict[str, Any]:
    """NDCG@k of each model trained on ``train`` (real only) and on each augmented training set.

    For each model and condition: the overall mean, the paired difference to real-only (bootstrap CI,
    t test p-value), and the same per activity group (quantiles of the test users' input counts).
    Each :class:`Control` (keyed by its label) is trained on ``train`` with its overrides, reported like
    a condition, and its row's ``"versus"`` holds the paired difference *condition − control*
    (``ndcg_real`` in its groups is then the control's NDCG). ``fit_s`` / ``fit_cpu_s``: wall and process
    CPU seconds of each fit (all candidates of a grid together).

    With ``validation`` (real users only; its ``rows`` index the real training rows, which every condition
    keeps), every model is fitted with it, so neural models stop early / restore their best epoch on it
    **per condition** (give them ``patience``), and ``grids[model]`` lists candidate settings (each
    updating the model's overrides) of which the one with the best validation NDCG@k is evaluated on
    ``test``, again per condition; a row then records ``selected``, ``val_ndcg`` and ``best_epoch``.
    """
    controls = dict(controls or {})
    grids = dict(grids or {})
    if grids and validation is None:
        raise ConfigError(f"grids for {sorted(grids)} need a validation EvalSet to choose on; pass validation=.")
    for name, grid in grids.items():
        if name not in models or not grid:
            raise ConfigError(f"grids[{name!r}] must list candidate settings of an experiment model "
                              f"({sorted(models)}); got {grid!r}.")
    val = validation.nonempty() if validation is not None else None
    for label, c in controls.items():
        if c.model not in models:
            raise ConfigError(f"controls[{label!r}].model={c.model!r} is not an experiment model; use one of "
                              f"{sorted(models)}.")
        if c.versus not in conditions:
            raise ConfigError(f"controls[{label!r}].versus={c.versus!r} is not a condition; use one of "
                              f"{sorted(conditions)}.")
        if label == "real" or label in conditions:
            raise ConfigError(f"control label {label!r} clashes with a condition; give the control another name.")
    test = test.nonempty()
    group, edges = _groups(test, n_groups)
    metric = f"ndcg@{k}"
    out: dict[str, Any] = {"k": k, "n_test_users": int(test.n_users), "group_edges": edges.tolist(), "models": {}}
    for name, overrides in models.items():
        runs: list[tuple[str, Interactions, dict[str, Any]]] = [
            (cond, data, dict(overrides)) for cond, data in {"real": train, **conditions}.items()]
        runs += [(label, train, {**overrides, **c.overrides}) for label, c in controls.items() if c.model == name]
        per: dict[str, np.ndarray] = {}
        cost: dict[str, dict[str, float]] = {}
        for cond, data, settings in runs:
            if data.items != train.items:
                raise DataFormatError(f"condition {cond!r} has another item vocabulary; augment the real data.")
            t0, c0 = time.perf_counter(), time.process_time()
            est, chosen = _fit_selected(name, settings, data, val, grids.get(name), k)
            cost[cond] = {**chosen, "fit_s": time.perf_counter() - t0, "fit_cpu_s": time.process_time() - c0}
            res = evaluate(est, test, ks=(k,), metrics=("ndcg",))
            per[cond] = res.per_user[metric]
            log.info("augment %s/%s: %s %.4f", name, cond, metric, per[cond].mean())
        rows: dict[str, Any] = {"real": {"ndcg": float(per["real"].mean()), **cost["real"]}}
        for cond, _, settings in runs[1:]:
            rows[cond] = {**_paired(per[cond], per["real"], group, n_groups, seed), **cost[cond]}
            if cond in controls:
                versus = controls[cond].versus
                rows[cond]["settings"] = {key: settings[key] for key in controls[cond].overrides}
                rows[cond]["versus"] = {"condition": versus,
                                        **_paired(per[versus], per[cond], group, n_groups, seed)}
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
    chosen = [(name, cond, r) for name, rows in result["models"].items() for cond, r in rows.items() if "val_ndcg" in r]
    if chosen:
        lines += ["", f"Chosen on the validation users, per condition (validation NDCG@{k} of the chosen setting):", "",
                  "| model | condition | selected | best epoch | validation NDCG |", "|---|---|---|---|---|"]
        for name, cond, r in chosen:
            sel = ", ".join(f"{key} = {value}" for key, value in r["selected"].items()) or "—"
            epoch = "" if r["best_epoch"] is None else r["best_epoch"]
            lines.append(f"| {name} | {'real only' if cond == 'real' else cond} | {sel} | {epoch} | {r['val_ndcg']:.4f} |")
    versus = [(name, cond, r) for name, rows in result["models"].items() for cond, r in rows.items() if "versus" in r]
    if versus:
        lines += ["", f"Augmented condition vs its real-only control (Δ NDCG@{k} = condition − control; paired t, "
                  "95 % bootstrap CI; per activity quartile):", "",
                  "| model | condition | control | NDCG condition | NDCG control | Δ | 95 % CI | p | Δ per quartile |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name, cond, r in versus:
            v = r["versus"]
            quart = ", ".join(f"Q{g['group']} {g['delta']:+.4f}" for g in v["groups"])
            lines.append(f"| {name} | {v['condition']} | {cond} | {v['ndcg']:.4f} | {r['ndcg']:.4f} | "
                         f"{v['delta']:+.4f} | [{v['ci'][0]:+.4f}, {v['ci'][1]:+.4f}] | {v['p_value']:.3g} | {quart} |")
    return "\n".join(lines) + "\n"
