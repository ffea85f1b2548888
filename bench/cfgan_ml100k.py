"""CFGAN's ML-100K protocol (Chae et al., CIKM 2018) next to EASE, ItemKNN and Mult-VAE on the same splits.

Protocol (docs PROTOCOLS.md, "CFGAN"): every rating is a positive; per-user random split with seed s:
20 % test, and 10 % validation taken from the 80 % training part (``random_split(val_ratio=0.1,
test_ratio=0.2, seed=s)``). Every model is selected on validation (trained on the 70 % train part;
input = train rows, train items excluded): EASE's λ and ItemKNN's (k, shrink) on a grid, the epoch of
Mult-VAE and CFGAN by validation NDCG@20 (early stopping). Each model is then refitted on train ∪
validation (the paper's 80 %) with the selected values (neural models: the selected number of epochs)
and scored once on test with input = train ∪ validation, those items excluded from the ranking: the
paper's test protocol, identical for every model. ``no_refit`` in the JSON: the selected 70 % model on
test (input = train rows, train ∪ validation excluded), recgen's plain per-user random protocol.
Metrics: precision, standard recall (hits / |test items|), NDCG, MRR at 5 and 20.

    .venv/bin/python bench/cfgan_ml100k.py [--seeds 0 1 2] [--jobs 3] [--cfgan-epochs 150] [--quick]
    .venv/bin/python bench/cfgan_ml100k.py --reference-split DIR   # EASE / ItemKNN on the authors' split files

Each seed runs in its own child process (``--single SEED`` writes bench/results/cfgan_ml100k_seed<S>.json);
the parent prints the table (mean ± std over seeds) and writes bench/results/cfgan_ml100k.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from recgen.data import EvalSet, Interactions
from recgen.data.readers import read_interactions
from recgen.data.splits import given_split, random_split
from recgen.evaluation import evaluate
from recgen.models import create_model
from recgen.training import LambdaCallback

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "ml-100k" / "u.data"
OUT = ROOT / "bench" / "results"
KS = (5, 20)
METRICS = ("precision", "recall", "ndcg", "mrr")
COLUMNS = [f"{m}@{k}" for k in KS for m in METRICS]
PUBLISHED = {"precision@5": 0.444, "precision@20": 0.294, "recall@5": 0.152, "recall@20": 0.360,
             "ndcg@5": 0.476, "ndcg@20": 0.433, "mrr@5": 0.681, "mrr@20": 0.693}
GRIDS: dict[str, list[dict[str, Any]]] = {
    "ease": [{"l2": v} for v in (10.0, 30.0, 100.0, 200.0, 300.0, 500.0, 1000.0, 2000.0)],
    "itemknn": [{"k": k, "shrink": s} for k in (10, 20, 50, 100, 200) for s in (0.0, 10.0, 50.0, 200.0)],
}
NEURAL = {
    # the paper's ML-100K setting as the authors' code runs it: the config's defaults (ZR+PM, S = 70 %,
    # α = 0.03, G 1×400, D 1×125, linear G output, non-saturating G loss, L2 0.001 on G, 4 G : 2 D passes)
    # with mode="item" (G generates each item's vector over the users), the reference code's mode
    "cfgan": {"mode": "item", "eval_every": 5, "patience": 6},
    # Mult-VAE with its paper defaults (600-200, dropout 0.5, β ≤ 0.2), epoch chosen on validation
    "mult-vae": {"epochs": 300, "eval_every": 5, "patience": 8, "total_anneal_steps": 2000},
}
COMMON = {"show_progress": False, "num_threads": 1, "device": "cpu"}


def emit(line: str) -> None:
    """The bench's output is its printed table."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def test_scores(model: Any, test: EvalSet) -> dict[str, float]:
    res = evaluate(model, test, ks=KS, metrics=METRICS)
    return {c: float(res[c]) for c in COLUMNS}


def merged(split: Any) -> tuple[Interactions, EvalSet]:
    """Train ∪ validation (the paper's 80 %) and the test set seen from it (input = exclude = train ∪ val)."""
    full = (split.train.matrix + split.val.target).tocsr()
    full.data[:] = 1.0
    train = Interactions(full, split.train.users, split.train.items)
    return train, EvalSet(split.test.users, full, split.test.target, full, np.arange(full.shape[0]))


def run_seed(seed: int, cfgan_epochs: int, quick: bool, refit_on_val: bool = True,
             cfgan_set: dict[str, Any] | None = None, path: Path | None = None) -> dict[str, Any]:
    data = read_interactions(DATA, format="movielens").binarize()
    split = random_split(data, val_ratio=0.1, test_ratio=0.2, seed=seed)
    refit, test = merged(split)
    out: dict[str, Any] = {"seed": seed, "n_train": split.train.nnz, "n_val": int(split.val.target.nnz),
                           "n_test": int(split.test.target.nnz), "models": {}}
    for name, grid in GRIDS.items():
        grid = grid[:2] if quick else grid
        t0, c0 = time.perf_counter(), time.process_time()
        scored = [(evaluate(create_model(name, **p).fit(split.train), split.val, ks=(20,))["ndcg@20"], p) for p in grid]
        best_val, best = max(scored, key=lambda t: t[0])
        model = create_model(name, **best).fit(split.train)
        final = create_model(name, **best).fit(refit) if refit_on_val else model
        out["models"][name] = {"params": best, "val_ndcg@20": best_val,
                               **test_scores(final, test if refit_on_val else split.test),
                               "no_refit": test_scores(model, split.test), "seconds": round(time.perf_counter() - t0, 1),
                               "cpu_seconds": round(time.process_time() - c0, 1), "loadavg_after": os.getloadavg()[0]}
        if path is not None:  # partial results survive an interrupted run
            path.write_text(json.dumps(out, indent=1))
        emit(f"seed {seed} {name} {best} val {best_val:.4f} test ndcg@20 {out['models'][name]['ndcg@20']:.4f}")
    for name, params in NEURAL.items():
        params = {**params, **COMMON, "seed": seed}
        if name == "cfgan":
            params.update({"epochs": cfgan_epochs, **(cfgan_set or {})})
        if quick:
            params["epochs"] = 5

        def progress(trainer: Any, record: dict[str, Any], name: str = name) -> None:
            if "ndcg@20" in record:
                emit(f"  seed {seed} {name} epoch {record['epoch']} val ndcg@20 {record['ndcg@20']:.4f} "
                     f"loss {record['loss']:.4f} ({record['seconds']:.1f} s/epoch)")

        t0, c0 = time.perf_counter(), time.process_time()
        model = create_model(name, **params).fit(split.train, validation=split.val,
                                                  callbacks=[LambdaCallback(progress)])
        epoch_s = float(np.median([r["seconds"] for r in model.history_]))
        best_epoch = model.best_epoch_ or params["epochs"]
        final = create_model(name, **{**params, "epochs": best_epoch}).fit(refit) if refit_on_val else model
        out["models"][name] = {"params": {k: v for k, v in params.items() if k not in COMMON},
                               "best_epoch": model.best_epoch_, "epochs_run": len(model.history_),
                               "val_ndcg@20": max(r["ndcg@20"] for r in model.history_ if "ndcg@20" in r), "median_epoch_seconds": round(epoch_s, 3),
                               **test_scores(final, test if refit_on_val else split.test),
                               "no_refit": test_scores(model, split.test),
                               "seconds": round(time.perf_counter() - t0, 1),
                               "cpu_seconds": round(time.process_time() - c0, 1), "loadavg_after": os.getloadavg()[0],
                               "val_curve": [(r["epoch"], round(r["ndcg@20"], 4)) for r in model.history_
                                             if "ndcg@20" in r]}
        if path is not None:
            path.write_text(json.dumps(out, indent=1))
        emit(f"seed {seed} {name} best epoch {model.best_epoch_}/{len(model.history_)} val "
             f"{out['models'][name]['val_ndcg@20']:.4f} test ndcg@20 {out['models'][name]['ndcg@20']:.4f} "
             f"({epoch_s:.2f} s/epoch)")
    return out


def run_reference_split(folder: Path, seed: int = 0) -> dict[str, Any]:
    """EASE and ItemKNN on the authors' own ML-100K train / test files (``<folder>/ML100K.train`` and
    ``.test``: "user item rating" lines, every rating a positive). Selection as in ``run_seed``: a random
    12.5 % of each user's training items (10 % of all) is the validation part (seed ``seed``); the chosen
    values are refitted on the whole training file and scored once on the test file (training items
    excluded). The files are read where they are, never copied."""
    names = ["user", "item", "rating"]
    frames = [pd.read_csv(folder / f"ML100K.{part}", sep=" ", header=None, names=names) for part in ("train", "test")]
    split = given_split(frames[0][["user", "item"]], None, frames[1][["user", "item"]], source=str(folder))
    inner = random_split(split.train, val_ratio=0.0, test_ratio=0.125, seed=seed)
    per_user = np.diff(split.test.target.indptr) / np.maximum(np.diff((split.train.matrix + split.test.target).indptr), 1)
    out: dict[str, Any] = {"folder": str(folder), "n_train": split.train.nnz, "n_test": int(split.test.target.nnz),
                           "n_users": split.train.n_users, "n_items": split.train.n_items,
                           "test_share_per_user": {"mean": float(per_user.mean()), "std": float(per_user.std()),
                                                   "min": float(per_user.min()), "max": float(per_user.max())},
                           "models": {}}
    for name, grid in GRIDS.items():
        scored = [(evaluate(create_model(name, **p).fit(inner.train), inner.test, ks=(20,))["ndcg@20"], p) for p in grid]
        best_val, best = max(scored, key=lambda t: t[0])
        out["models"][name] = {"params": best, "val_ndcg@20": best_val,
                               **test_scores(create_model(name, **best).fit(split.train), split.test)}
        emit(f"reference split {name} {best} val {best_val:.4f} test ndcg@20 {out['models'][name]['ndcg@20']:.4f}")
    return out


def table(runs: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    names = list(runs[0]["models"])
    summary: dict[str, Any] = {}
    lines = ["| model | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|",
             "| CFGAN published (paper) | " + " | ".join(f"{PUBLISHED[c]:.3f}" for c in COLUMNS) + " |"]
    for name in names:
        vals = {c: np.array([r["models"][name][c] for r in runs]) for c in COLUMNS}
        summary[name] = {c: {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0}
                         for c, v in vals.items()}
        lines.append(f"| {name} | " + " | ".join(f"{v.mean():.3f} ± {summary[name][c]['std']:.3f}"
                                                 for c, v in vals.items()) + " |")
    return lines, summary


def _coerce(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--jobs", type=int, default=3, help="seeds run in parallel child processes")
    ap.add_argument("--cfgan-epochs", type=int, default=150, help="largest number of CFGAN epochs (early stopping)")
    ap.add_argument("--quick", action="store_true", help="tiny grids and 5 epochs (a smoke test)")
    ap.add_argument("--no-refit", action="store_true",
                    help="score the selected 70 %% models on test (no refit on train ∪ validation)")
    ap.add_argument("--cfgan-set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="CFGAN config overrides, e.g. lr=0.001 d_lr=0.001 (strings coerced by the config)")
    ap.add_argument("--tag", default="", help="suffix of the result files (cfgan_ml100k<tag>.json)")
    ap.add_argument("--reference-split", type=Path, default=None, metavar="DIR",
                    help="only run EASE / ItemKNN on the authors' split files DIR/ML100K.train, .test "
                         "(writes cfgan_ml100k_refsplit.json)")
    ap.add_argument("--single", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--aggregate", action="store_true", help="only merge the per-seed JSON files")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.reference_split is not None:
        torch.set_num_threads(1)
        res = run_reference_split(args.reference_split, args.seeds[0])
        res["command"] = " ".join(["bench/cfgan_ml100k.py", *sys.argv[1:]])
        (OUT / "cfgan_ml100k_refsplit.json").write_text(json.dumps(res, indent=1))
        return
    if args.single is not None:
        torch.set_num_threads(1)
        overrides = dict(kv.split("=", 1) for kv in args.cfgan_set)
        path = OUT / f"cfgan_ml100k{args.tag}_seed{args.single}.json"
        res = run_seed(args.single, args.cfgan_epochs, args.quick, not args.no_refit,
                       {k: _coerce(v) for k, v in overrides.items()}, path)
        path.write_text(json.dumps({**res, "complete": True}, indent=1))
        return
    t0 = time.perf_counter()
    if not args.aggregate:
        procs: list[subprocess.Popen[bytes]] = []
        for seed in args.seeds:
            while len([p for p in procs if p.poll() is None]) >= args.jobs:
                time.sleep(2)
            cmd = [sys.executable, __file__, "--single", str(seed), "--cfgan-epochs", str(args.cfgan_epochs),
                   "--tag", args.tag, "--cfgan-set", *args.cfgan_set] + (["--no-refit"] if args.no_refit else [])
            procs.append(subprocess.Popen(cmd + (["--quick"] if args.quick else [])))
        if any(p.wait() for p in procs):
            raise SystemExit("a seed failed; see its output above")
    runs = [json.loads((OUT / f"cfgan_ml100k{args.tag}_seed{s}.json").read_text()) for s in args.seeds]
    lines, summary = table(runs)
    how = "scored as selected (trained on 70 %)" if args.no_refit else "then refit on 80 %"
    emit(f"ML-100K, per-user random 80/20 (10 % of all held out for selection, {how}), seeds {args.seeds}; "
         "standard recall; mean ± std over seeds")
    for line in lines:
        emit(line)
    result = {"seeds": args.seeds, "summary": summary, "published": PUBLISHED, "runs": runs,
              "machine": f"{platform.node()} {platform.processor() or platform.machine()}, torch {torch.__version__}",
              "wall_seconds": round(time.perf_counter() - t0, 1), "quick": args.quick, "refit": not args.no_refit,
              "cfgan_overrides": args.cfgan_set,
              "command": " ".join(["bench/cfgan_ml100k.py", *sys.argv[1:]])}
    (OUT / f"cfgan_ml100k{args.tag}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
