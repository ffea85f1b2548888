"""Strong generalisation (held-out users) on ML-1M-sized data: EASE, Mult-VAE, Mult-DAE [, RecVAE].

Protocol (PROTOCOLS.md "Strong generalisation", scaled to ML-1M): all three files of
``ml-1m-lightgcnpp`` (train ∪ valid ∪ test, binary) form one matrix; users with ≥ 5 items;
``heldout_users_split(n_val_users=600, n_test_users=600, fold_in=0.8, seed=98765)``. Models train on the
training users; EASE's λ and the autoencoders' epoch are chosen on the validation users by NDCG@100 (input
= fold-in 80 %, fold-in excluded from the ranking); test users are scored once. Reported: truncated
Recall@20 / @50 and NDCG@100 (the paper's metrics), standard Recall@20 / @50, each with a 95 % percentile
bootstrap interval over test users (``EvalResult.ci``, 1000 resamples, seed 0).

    .venv/bin/python bench/heldout_ml1m.py [--models ease,mult-vae,mult-dae] [--budget-s 240]
        [--threads 1] [--nets small,paper]

Prints a table and writes bench/results/heldout_ml1m.json (rows of models run separately are merged).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from recgen.data import Interactions
from recgen.data.readers import read_frame
from recgen.data.splits import heldout_users_split
from recgen.evaluation import evaluate
from recgen.models import create_model
from recgen.training import TimeBudget

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "ml-1m-lightgcnpp"
KS = (20, 50, 100)
REPORT = ("trecall@20", "trecall@50", "ndcg@100", "recall@20", "recall@50")
EASE_GRID = (100.0, 200.0, 500.0, 1000.0, 2000.0)
#: network variants: the best on the given ML-1M split ([] → 200, batch 100) and the paper's [600] → 200
NETS: dict[str, dict[str, Any]] = {"small": {"hidden_dims": (), "latent_dim": 200, "batch_size": 100},
                                   "paper": {"hidden_dims": (600,), "latent_dim": 200, "batch_size": 100}}


def load(data_dir: Path) -> Interactions:
    """train ∪ valid ∪ test of a given split as one binary matrix, users with ≥ 5 items."""
    frames = [read_frame(data_dir / f"{name}.txt", "lines")[["user", "item"]] for name in ("train", "valid", "test")]
    df = pd.concat(frames, ignore_index=True).drop_duplicates()
    data = Interactions.from_frame(df, user="user", item="item", source=str(data_dir))
    return data.filter_min_counts(min_user=5)


def test_row(model: Any, split: Any) -> dict[str, Any]:
    t0 = time.perf_counter()
    res = evaluate(model, split.test, ks=KS, metrics=["trecall", "recall", "ndcg"])
    row: dict[str, Any] = {"test_users": res.n_users, "test_eval_s": round(time.perf_counter() - t0, 2)}
    for m in REPORT:
        mean, lo, hi = res.ci(m, n_boot=1000, seed=0)
        row[m] = round(float(mean), 4)
        row[m + "_ci95"] = [round(float(lo), 4), round(float(hi), 4)]
    return row


def run_ease(split: Any) -> dict[str, Any]:
    scores = {}
    t0 = time.perf_counter()
    best = None
    for lam in EASE_GRID:
        model = create_model("ease", l2=lam).fit(split.train)
        scores[lam] = evaluate(model, split.val, ks=(100,), metrics=["ndcg"]).summary["ndcg@100"]
        if best is None or scores[lam] > scores[best[0]]:
            best = (lam, model)
    assert best is not None
    lam, model = best
    return {"model": "ease", "config": {"l2": lam}, "valid_ndcg@100_by_l2": {str(k): round(v, 4) for k, v in scores.items()},
            "valid_ndcg@100": round(scores[lam], 4), "fit_s_grid": round(time.perf_counter() - t0, 1),
            **test_row(model, split)}


def run_nn(split: Any, name: str, params: dict[str, Any], budget_s: float | None) -> dict[str, Any]:
    model = create_model(name, **params)
    budget = TimeBudget(budget_s)
    t0 = time.perf_counter()
    model.fit(split.train, validation=split.val, callbacks=(budget,))
    fit_s = time.perf_counter() - t0
    hist = model.history_
    curve = [round(h["ndcg@100"], 4) for h in hist if "ndcg@100" in h]
    return {"model": name, "config": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
            "best_epoch": model.best_epoch_, "epochs_run": len(hist), "valid_ndcg@100": max(curve, default=None),
            "fit_s": round(fit_s, 1), "stopped_by_time_budget": budget.hit,
            "mean_epoch_s": round(sum(h["seconds"] for h in hist) / max(1, len(hist)), 2),
            "valid_curve": curve, **test_row(model, split)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="directory with train.txt / valid.txt / test.txt")
    ap.add_argument("--models", default="ease,mult-vae,mult-dae", help="any of ease, mult-vae, mult-dae, recvae")
    ap.add_argument("--nets", default="small", help="network variants of mult-vae / mult-dae: small, paper")
    ap.add_argument("--budget-s", type=float, default=240.0, help="wall-time cap of each neural fit")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--patience", type=int, default=10, help="validations without improvement before stopping")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "heldout_ml1m.json"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    command = "python bench/heldout_ml1m.py " + " ".join(argv if argv is not None else sys.argv[1:])

    data = load(Path(args.data))
    split = heldout_users_split(data, n_val_users=600, n_test_users=600, fold_in=0.8, seed=98765)
    sys.stderr.write(f"data {data.shape} nnz={data.nnz:,}; train {split.train.shape}, val {split.val.n_users}, "
                     f"test {split.test.n_users} users\n")
    common = {"epochs": args.epochs, "patience": args.patience, "eval_every": 1, "eval_metric": "ndcg@100",
              "seed": 0, "show_progress": False, "num_threads": args.threads}
    rows = []
    for name in args.models.split(","):
        load0 = os.getloadavg()[0]
        if name == "ease":
            row = run_ease(split)
        elif name == "recvae":
            row = run_nn(split, name, {**common, "epochs": min(args.epochs, 50)}, args.budget_s)
        else:
            for net in args.nets.split(","):
                row = run_nn(split, name, {**common, **NETS[net]}, args.budget_s)
                row |= {"net": net, "loadavg_1min_start": round(load0, 2),
                        "loadavg_1min_end": round(os.getloadavg()[0], 2), "command": command}
                rows.append(row)
                sys.stderr.write(f"{name} {net}: {json.dumps({k: row[k] for k in REPORT})}\n")
                load0 = os.getloadavg()[0]
            continue
        row |= {"net": "", "loadavg_1min_start": round(load0, 2), "loadavg_1min_end": round(os.getloadavg()[0], 2),
                "command": command}
        rows.append(row)
        sys.stderr.write(f"{name}: {json.dumps({k: row[k] for k in REPORT})}\n")

    print(f"{'model':<18}{'net':<7}" + "".join(f"{m:>22}" for m in REPORT))
    for r in rows:
        cells = "".join(f"{r[m]:>8.4f} [{r[m + '_ci95'][0]:.3f},{r[m + '_ci95'][1]:.3f}]" for m in REPORT)
        print(f"{r['model']:<18}{r['net']:<7}{cells}")
    out = Path(args.out)
    old = json.loads(out.read_text()) if out.exists() else {}
    by_key = {(r["model"], r.get("net", "")): r for r in old.get("rows", [])}
    by_key.update({(r["model"], r["net"]): r for r in rows})
    result = {
        "dataset": f"{args.data}: train ∪ valid ∪ test, binary, users ≥ 5 items ({data.shape[0]} × {data.shape[1]}, "
                   f"{data.nnz} interactions)",
        "protocol": "heldout_users_split(n_val_users=600, n_test_users=600, fold_in=0.8, seed=98765); "
                    "λ / epoch chosen by valid NDCG@100; test once; 95 % bootstrap CI over test users",
        "split_meta": {k: v for k, v in split.meta.items() if isinstance(v, int | float | str | dict)},
        "machine": f"2-core CPU dev box, shared with other jobs ({platform.processor() or platform.machine()})",
        "rows": list(by_key.values()),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
