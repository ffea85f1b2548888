"""Utility of synthetic users: train on synthetic, test on real held-out users (TSTR).

Each recommender is trained once on the real training users (TRTR) and once on the synthetic users
(same item vocabulary), then evaluated on the **same real held-out users** by fold-in: the model
scores each test user from their fold-in items, the fold-in items are excluded from the ranking and
the held-out target items are the relevant ones (full ranking, NDCG@k and standard Recall@k). The
report gives each TSTR metric as a ratio to TRTR, and Kendall's τ between the models' NDCG orderings:
``kendall_tau`` over the issue's three models (:data:`ISSUE_TAU_MODELS`, when all were run; otherwise over
every model) and ``kendall_tau_all`` over every model run. With three models τ can only be ±1/3 or ±1,
so the τ over more models is the one that can tell a near-miss from a reversal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import stats as sps

from recgen.data.dataset import EvalSet
from recgen.data.interactions import Interactions
from recgen.errors import DataFormatError
from recgen.evaluation import EvalResult, evaluate
from recgen.models.registry import create_model

log = logging.getLogger(__name__)

#: the recommenders of the TSTR table and their default overrides (small enough for a CPU run)
DEFAULT_MODELS: dict[str, dict[str, Any]] = {
    "ease": {"l2": 500.0},
    "itemknn": {"k": 100},
    "mult-vae": {"epochs": 50, "hidden_dims": (300,), "latent_dim": 64, "show_progress": False},
}


#: the models of issue 4's model-ranking goal (Kendall τ ≥ 0.8)
ISSUE_TAU_MODELS: tuple[str, ...] = ("ease", "itemknn", "mult-vae")


def train_and_evaluate(model: str, overrides: Mapping[str, Any], train: Interactions, test: EvalSet,
                       k: int = 20) -> EvalResult:
    """Fit ``model`` on ``train`` (no validation: fixed hyperparameters) and evaluate on ``test``."""
    if train.n_items != test.n_items:
        raise DataFormatError(f"train has {train.n_items} items and the test users {test.n_items}; "
                              "generate synthetic users over the split's item vocabulary.")
    t0 = time.perf_counter()
    est = create_model(model, **dict(overrides)).fit(train)
    res = evaluate(est, test.nonempty(), ks=(k,), metrics=("recall", "ndcg"))
    log.info("%s on %d users: ndcg@%d %.4f (%.1f s)", model, train.n_users, k, res.summary[f"ndcg@{k}"],
             time.perf_counter() - t0)
    return res


def kendall_tau(a: list[float], b: list[float]) -> float:
    """Kendall's τ-b between two score lists over the same models (1 = same order)."""
    if len(a) < 2:
        return 1.0
    tau = sps.kendalltau(a, b).statistic
    return float(tau) if np.isfinite(tau) else 0.0


def utility(synthetic: Interactions, test: EvalSet, real_results: Mapping[str, EvalResult],
            models: Mapping[str, Mapping[str, Any]] | None = None, k: int = 20) -> dict[str, Any]:
    """TSTR of every model in ``real_results`` (TRTR results on the same ``test``), ratios and τ."""
    models = dict(DEFAULT_MODELS if models is None else models)
    out: dict[str, Any] = {"k": k, "models": {}}
    nd, ns = f"ndcg@{k}", f"recall@{k}"
    real_nd, syn_nd = [], []
    for name, real in real_results.items():
        res = train_and_evaluate(name, models.get(name, {}), synthetic, test, k)
        r, s = real.summary, res.summary
        out["models"][name] = {
            "trtr_ndcg": r[nd], "tstr_ndcg": s[nd], "ndcg_ratio": s[nd] / r[nd] if r[nd] > 0 else float("nan"),
            "trtr_recall": r[ns], "tstr_recall": s[ns],
            "recall_ratio": s[ns] / r[ns] if r[ns] > 0 else float("nan"),
        }
        real_nd.append(r[nd])
        syn_nd.append(s[nd])
    out.update(ranking_agreement(list(out["models"]), real_nd, syn_nd))
    return out


def ranking_agreement(names: list[str], real: list[float], synthetic: list[float]) -> dict[str, Any]:
    """Kendall τ between the models' real and synthetic scores: over :data:`ISSUE_TAU_MODELS` when all of
    them are in ``names`` (otherwise over every model) as ``kendall_tau``, and over every model as
    ``kendall_tau_all``; the model names of each in ``kendall_tau_models`` / ``kendall_tau_all_models``."""
    if not len(names) == len(real) == len(synthetic):
        raise DataFormatError(f"names, real and synthetic have {len(names)}, {len(real)} and {len(synthetic)} "
                              "entries; pass one score per model in each.")
    core = [names.index(n) for n in ISSUE_TAU_MODELS] if set(ISSUE_TAU_MODELS) <= set(names) else range(len(names))
    return {"kendall_tau": kendall_tau([real[i] for i in core], [synthetic[i] for i in core]),
            "kendall_tau_models": [names[i] for i in core],
            "kendall_tau_all": kendall_tau(list(real), list(synthetic)), "kendall_tau_all_models": list(names)}


def real_baselines(train: Interactions, test: EvalSet, models: Mapping[str, Mapping[str, Any]] | None = None,
                   k: int = 20) -> dict[str, EvalResult]:
    """TRTR: every model trained on the real training users and evaluated on ``test``."""
    models = dict(DEFAULT_MODELS if models is None else models)
    return {name: train_and_evaluate(name, ov, train, test, k) for name, ov in models.items()}
