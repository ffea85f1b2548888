"""RecVAE and CDAE on the given ML-1M split (ml-1m-lightgcnpp): epoch chosen on valid, test reported.

Protocol (docs PROTOCOLS.md, "Given splits"): train on train; every epoch is validated on valid
(input = train, train items excluded) by NDCG@20 and the best epoch's weights are kept (early stop after
``patience`` validations without improvement); test with input = train and train ∪ valid excluded.
Recall is the *standard* one (hits / |test items|), as in RecBole.

    .venv/bin/python bench/autoencoders_ml1m.py [--models recvae,cdae] [--epochs N] [--patience P]
        [--set recvae:key=value ...]

Prints a table and writes bench/results/autoencoders_ml1m.json (merging rows of models run separately).
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch

from recgen.data.prepared import read_given
from recgen.evaluation import evaluate
from recgen.models import create_model
from recgen.training import TimeBudget

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "ml-1m-lightgcnpp"
#: PROTOCOLS.md, measured with RecBole 1.2.1 on this split (standard recall)
REFERENCE = {"RecBole RecVAE": (0.2792, 0.3731), "EASE l2=1000 (valid-tuned)": (0.2713, 0.3750)}
#: per-model settings of this benchmark (beside the model defaults)
SETTINGS: dict[str, dict[str, Any]] = {
    "recvae": {"epochs": 50},
    "cdae": {"epochs": 100, "hidden_dim": 200, "corruption": 0.5, "l2": 1e-5, "lr": 1e-2, "batch_size": 128},
}


def run(split: Any, name: str, params: dict[str, Any], budget_s: float | None = None) -> dict[str, Any]:
    model = create_model(name, **params)
    budget = TimeBudget(budget_s)
    t0 = time.perf_counter()
    model.fit(split.train, validation=split.val, callbacks=(budget,))
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = evaluate(model, split.test, ks=(20,), metrics=["recall", "ndcg"])
    eval_s = time.perf_counter() - t0
    hist = model.history_
    return {"model": name, "params": params, "recall@20": res["recall@20"], "ndcg@20": res["ndcg@20"],
            "best_epoch": model.best_epoch_, "epochs_run": len(hist),
            "best_valid_ndcg@20": max((h.get("ndcg@20", float("-inf")) for h in hist), default=None),
            "fit_s_to_early_stop": round(fit_s, 1), "stopped_by_time_budget": budget.hit, "test_eval_s": round(eval_s, 2),
            "mean_epoch_s": round(sum(h["seconds"] for h in hist) / max(1, len(hist)), 2),
            "valid_curve": [round(h.get("ndcg@20", float("nan")), 4) for h in hist]}


def _overrides(items: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for it in items:
        name, _, kv = it.partition(":")
        key, _, value = kv.partition("=")
        out.setdefault(name, {})[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="directory with train.txt / valid.txt / test.txt")
    ap.add_argument("--models", default="recvae,cdae")
    ap.add_argument("--epochs", type=int, default=None, help="cap the epochs of every model (time budget)")
    ap.add_argument("--patience", type=int, default=10, help="validations without improvement before stopping")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 on a shared box: 2 threads thrash when other jobs run)")
    ap.add_argument("--budget-s", type=float, default=None, help="stop a model's training after this wall time")
    ap.add_argument("--set", action="append", default=[], help="model:key=value override, repeatable")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "autoencoders_ml1m.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("recgen.training").setLevel(logging.INFO)

    split = read_given(args.data, format="lines")
    extra = _overrides(args.set)
    rows = []
    for name in args.models.split(","):
        params: dict[str, Any] = {**SETTINGS.get(name, {}), "patience": args.patience, "seed": 0,
                                  "show_progress": False, **extra.get(name, {})}
        if args.epochs is not None:
            params["epochs"] = args.epochs
        row = run(split, name, params, args.budget_s)
        sys.stderr.write(f"{name}: test R@20 {row['recall@20']:.4f} N@20 {row['ndcg@20']:.4f} "
                         f"(best epoch {row['best_epoch']}/{row['epochs_run']}, {row['fit_s_to_early_stop']} s)\n")
        rows.append(row)

    print(f"{'model':<28}{'R@20':>8}{'N@20':>8}{'best ep':>9}{'epochs':>8}{'fit s':>9}")
    for r in rows:
        print(f"{r['model']:<28}{r['recall@20']:>8.4f}{r['ndcg@20']:>8.4f}{r['best_epoch']!s:>9}{r['epochs_run']:>8}"
              f"{r['fit_s_to_early_stop']:>9.1f}")
    for ref, (rec, ndcg) in REFERENCE.items():
        print(f"{ref:<28}{rec:>8.4f}{ndcg:>8.4f}")
    out = Path(args.out)
    old = json.loads(out.read_text()) if out.exists() else {}
    by_model = {r["model"]: r for r in old.get("rows", [])}
    by_model.update({r["model"]: r | {"command": "python bench/autoencoders_ml1m.py " + " ".join(argv or sys.argv[1:])}
                     for r in rows})
    result = {
        "dataset": "ml-1m-lightgcnpp (given split)",
        "protocol": "epoch chosen by valid NDCG@20 (exclude train); test input=train, exclude train∪valid; "
                    "standard recall",
        "machine": f"2-core CPU dev box, shared with other jobs ({platform.processor() or platform.machine()}), "
                   f"torch threads={args.threads}",
        "reference": {k: {"recall@20": v[0], "ndcg@20": v[1]} for k, v in REFERENCE.items()},
        "rows": list(by_model.values()),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
