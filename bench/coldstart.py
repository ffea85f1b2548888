"""Cold-start benchmark on ML-100K and Last.fm (hetrec 2011): new items, new users, feature-only users.

Protocols (recgen.data.splits_cold; every number is full ranking, NDCG@20 and *standard* Recall@20 with
95 % percentile-bootstrap CIs over users, 1000 resamples):

- cold items: 20 % of the items (test) and another 10 % (validation) lose all their interactions; test
  users rank only the test cold items (input = their warm history, target = their cold items); neural
  models pick their epoch by NDCG@20 on the validation cold items (patience 5), never on the test items;
- new users: 20 % of the users with > 10 interactions are held out; each is given their first
  n ∈ {1, 3, 5, 10} interactions (by time on ML-100K; Last.fm has no listening times: seeded random order),
  the rest is the target; the same users for every n;
- feature-only users (ML-100K only, Last.fm has no user features): the same held-out users, no interactions,
  only age / gender / occupation.

Data: ML-100K every rating is an interaction (binary); Last.fm every play count is an interaction, artists
with < 5 listeners and then users with < 5 artists dropped (k-core). Item features: ML-100K genres, title
words (TF-IDF) and decade; Last.fm tags (tags on < 5 artists dropped). No hyperparameter was tuned: every
model runs its fixed settings below (no peeking at the test users).

    .venv/bin/python bench/coldstart.py [--data DIR] [--quick]

Prints tables, writes bench/results/coldstart.json and docs/img/coldstart-<dataset>.png.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from recgen.data import read_interactions
from recgen.data.features_readers import (
    lastfm_item_features,
    movielens_item_features,
    movielens_user_features,
)
from recgen.data.splits_cold import cold_items_split, cold_users_split
from recgen.evaluation import evaluate
from recgen.evaluation.evaluate import evaluate_scores
from recgen.models import create_model
from recgen.models.coldstart import SegmentPopularity

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
NS = (1, 3, 5, 10)
SEED = 98765
NEURAL = {"show_progress": False, "num_threads": 1, "seed": 0}
SETTINGS: dict[str, dict[str, Any]] = {
    "most-popular": {},
    "content-knn": {"k": 100},
    "content-ae": {**NEURAL, "epochs": 30},
    "hybrid-ae": {**NEURAL, "epochs": 40},
    "mult-dae": {**NEURAL, "epochs": 40, "batch_size": 128},
    "ease": {"l2": 100.0},
}
QUICK_EPOCHS = 5


class RandomScorer:
    """Uniform random scores, deterministic for a given seed and evaluation chunking."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def score(self, rows: Any, *, user_rows: Any = None) -> np.ndarray:
        return self.rng.random(rows.shape, dtype=np.float32)


def ci(res: Any, metric: str) -> dict[str, float]:
    mean, lo, hi = res.ci(metric, n_boot=1000, seed=0)
    return {"mean": mean, "low": lo, "high": hi}


def summary(res: Any) -> dict[str, Any]:
    return {"ndcg@20": ci(res, "ndcg@20"), "recall@20": ci(res, "recall@20"), "users": int(res.n_users)}


def fit(name: str, train: Any, item_f: Any, user_f: Any, quick: bool, validation: Any = None
        ) -> tuple[Any, float]:
    params = dict(SETTINGS[name])
    if quick and "epochs" in params:
        params["epochs"] = QUICK_EPOCHS
    neural = "epochs" in params
    if neural and validation is not None:
        params["patience"] = 5
    model = create_model(name, **params)
    t0 = time.perf_counter()
    val = {"validation": validation} if neural else {}
    if name in ("content-knn", "content-ae", "hybrid-ae"):
        model.fit(train, item_features=item_f, user_features=user_f, **val)
    else:
        model.fit(train, **val)
    return model, time.perf_counter() - t0


def load(dataset: str, data_dir: Path) -> tuple[Any, Any, Any]:
    if dataset == "ml-100k":
        data = read_interactions(data_dir / "ml-100k" / "u.data").binarize()
        return (data, movielens_item_features(data_dir / "ml-100k"),
                movielens_user_features(data_dir / "ml-100k"))
    data = read_interactions(data_dir / "lastfm-2k").binarize().filter_min_counts(min_user=5, min_item=5)
    return data, lastfm_item_features(data_dir / "lastfm-2k", min_count=5), None


def cold_items(data: Any, item_f: Any, user_f: Any, quick: bool) -> dict[str, Any]:
    split = cold_items_split(data, item_share=0.2, val_share=0.1, seed=SEED)
    out: dict[str, Any] = {"meta": {k: v for k, v in split.meta.items() if k not in ("cold_items", "val_cold_items")}}
    uf = user_f.align(split.train.users) if user_f is not None else None
    # popularity knows nothing about cold items (all counts are 0: its ties would follow the item ids, which
    # on ML-100K correlate with popularity); a seeded random ranking is the honest floor
    out["random"] = {**summary(evaluate(RandomScorer(SEED), split.test, ks=(20,))), "fit_seconds": 0.0}
    log_row("cold items", "random", out["random"])
    for name in ("mult-dae", "content-knn", "content-ae", "hybrid-ae"):
        model, secs = fit(name, split.train, item_f, uf, quick, validation=split.val)
        out[name] = {**summary(evaluate(model, split.test, ks=(20,))), "fit_seconds": secs,
                     "best_epoch": getattr(model, "best_epoch_", None)}
        log_row("cold items", name, out[name])
    return out


def cold_users(data: Any, item_f: Any, user_f: Any, quick: bool) -> dict[str, Any]:
    ns = (0, *NS) if user_f is not None else NS
    cs = cold_users_split(data, ns=ns, user_share=0.2, seed=SEED)
    out: dict[str, Any] = {"meta": cs.meta}
    held_ids = data.users.ids[cs.heldout]
    for name in ("most-popular", "ease", "mult-dae", "content-knn", "content-ae", "hybrid-ae"):
        model, secs = fit(name, cs.train, item_f, user_f.align(cs.train.users) if user_f is not None else None, quick)
        curve = {}
        for n in ns:
            ev = cs.by_n[n]
            if n == 0:  # features only: the feature map, or popularity (which ignores the history anyway)
                if hasattr(model, "score_feature_rows"):
                    scores = model.score_feature_rows(user_f.rows_for(held_ids))
                    curve[n] = summary(evaluate_scores(scores, ev, ks=(20,)))
                elif name == "most-popular":
                    curve[n] = summary(evaluate(model, ev, ks=(20,)))
                else:
                    continue
            else:
                curve[n] = summary(evaluate(model, ev, ks=(20,)))
            log_row(f"new users n={n}", name, curve[n])
        out[name] = {"by_n": curve, "fit_seconds": secs}
    if user_f is not None:  # segment popularity: features only, whatever the history
        seg = SegmentPopularity(min_users=20).fit(cs.train, user_f.align(cs.train.users))
        rows = user_f.rows_for(held_ids)
        scores = np.stack([seg.scores(rows[i])[0] for i in range(rows.shape[0])])
        curve = {n: summary(evaluate_scores(scores, cs.by_n[n], ks=(20,))) for n in ns}
        for n in ns:
            log_row(f"new users n={n}", "segment-popularity", curve[n])
        out["segment-popularity"] = {"by_n": curve, "fit_seconds": 0.0}
    return out


def log_row(protocol: str, name: str, r: dict[str, Any]) -> None:
    nd, rc = r["ndcg@20"], r["recall@20"]
    print(f"  {protocol:<16} {name:<20} NDCG@20 {nd['mean']:.4f} [{nd['low']:.4f}, {nd['high']:.4f}]  "
          f"Recall@20 {rc['mean']:.4f} [{rc['low']:.4f}, {rc['high']:.4f}]  users {r['users']}", flush=True)


def plot(dataset: str, res: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, r in res.items():
        if name == "meta":
            continue
        ns = sorted(int(n) for n in r["by_n"])
        m = [r["by_n"][n]["ndcg@20"] for n in ns]
        ax.errorbar(ns, [x["mean"] for x in m], yerr=[[x["mean"] - x["low"] for x in m],
                                                      [x["high"] - x["mean"] for x in m]],
                    marker="o", capsize=3, label=name)
    ax.set_xlabel("known interactions of the new user (0 = features only)")
    ax.set_ylabel("NDCG@20 (95 % CI)")
    ax.set_title(f"New users, {dataset}")
    ax.set_xticks(sorted({int(n) for r in res.values() if "by_n" in r for n in r["by_n"]}))
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_EPOCHS} epochs per neural model (smoke run)")
    ap.add_argument("--datasets", nargs="+", default=["ml-100k", "lastfm"])
    args = ap.parse_args()
    torch.set_num_threads(1)
    t_all = time.perf_counter()
    results: dict[str, Any] = {"settings": SETTINGS, "seed": SEED, "quick": args.quick,
                               "machine": f"{platform.processor() or platform.machine()}, 2-core CPU dev box, "
                                          "shared with other jobs; torch threads 1"}
    for ds in args.datasets:
        t0 = time.perf_counter()
        data, item_f, user_f = load(ds, args.data)
        print(f"{ds}: {data.n_users} users, {data.n_items} items, {data.nnz} interactions; item features "
              f"{item_f.n_features}" + (f", user features {user_f.n_features}" if user_f is not None else ""))
        results[ds] = {"cold_items": cold_items(data, item_f, user_f, args.quick),
                       "cold_users": cold_users(data, item_f, user_f, args.quick),
                       "data": {"users": data.n_users, "items": data.n_items, "interactions": data.nnz}}
        results[ds]["seconds"] = time.perf_counter() - t0
        plot(ds, results[ds]["cold_users"], ROOT / "docs" / "img" / f"coldstart-{ds}.png")
    results["seconds"] = time.perf_counter() - t_all
    out = ROOT / "bench" / "results" / "coldstart.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"wrote {out} in {results['seconds']:.0f} s")


if __name__ == "__main__":
    main()
