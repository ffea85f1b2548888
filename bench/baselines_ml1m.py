"""Strong simple baselines on the given ML-1M split (ml-1m-lightgcnpp): tune on valid, report test.

Protocol (docs PROTOCOLS.md, "Given splits"): train on train; choose hyperparameters by valid NDCG@20
(input = train, train items excluded); report test with input = train and train ∪ valid excluded.
Recall is the *standard* one (hits / |test items|), as in RecBole.

    .venv/bin/python bench/baselines_ml1m.py [--data DIR] [--quick]

Prints a table and writes bench/results/baselines_ml1m.json. Each final fit + test evaluation runs in a
fresh child process (this script with --single) so its peak RSS (VmHWM, data loading included) is its own.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from recgen.data.prepared import read_given
from recgen.evaluation import evaluate
from recgen.models import create_model

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "ml-1m-lightgcnpp"
REFERENCE = {250.0: (0.2656, 0.3619), 1000.0: (0.2713, 0.3750)}  # RecBole 1.2.1 EASE, PROTOCOLS.md
GRIDS: dict[str, list[dict[str, Any]]] = {
    "ease": [{"l2": v} for v in (100.0, 250.0, 500.0, 750.0, 1000.0, 1500.0, 2000.0, 3000.0, 5000.0)],
    "itemknn": [{"k": k, "shrink": s} for k in (20, 50, 100, 200, 500) for s in (0.0, 10.0, 50.0, 200.0)]
    + [{"k": 100, "shrink": 10.0, "feature_weighting": w} for w in ("tfidf", "bm25")]
    + [{"k": 100, "shrink": 10.0, "normalize": True}],
    "puresvd": [{"factors": f} for f in (16, 32, 48, 64, 96, 128)],
    "most-popular": [{}],
}
QUICK = {"ease": [{"l2": 250.0}, {"l2": 1000.0}], "itemknn": [{"k": 100, "shrink": 10.0}],
         "puresvd": [{"factors": 64}], "most-popular": [{}]}
METRICS = ["recall", "ndcg"]


def _hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fit_eval(split: Any, name: str, params: dict[str, Any], which: str) -> dict[str, Any]:
    model = create_model(name, **params)
    t0 = time.perf_counter()
    model.fit(split.train, validation=split.val)
    fit_s = time.perf_counter() - t0
    evalset = split.val if which == "valid" else split.test
    t0 = time.perf_counter()
    res = evaluate(model, evalset, ks=(20,), metrics=METRICS)
    eval_s = time.perf_counter() - t0
    return {"model": name, "params": params, "on": which, "recall@20": res["recall@20"], "ndcg@20": res["ndcg@20"],
            "n_users": res.n_users, "n_skipped": res.n_skipped, "fit_s": round(fit_s, 2), "eval_s": round(eval_s, 2)}


def emit(line: str) -> None:
    """The bench's output is its printed table."""
    sys.stdout.write(line + "\n")


def single(data: str, spec: str) -> dict[str, Any]:
    """--single: load, fit on train, evaluate on test; report times and this process's peak RSS."""
    job = json.loads(spec)
    split = read_given(data, format="lines")
    rss0 = _rss_mib()
    out = fit_eval(split, job["model"], job["params"], "test")
    return out | {"rss_after_load_mib": round(rss0, 1), "peak_rss_mib": round(_hwm_mib(), 1)}


def measured(data: str, name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run :func:`single` in a fresh interpreter (no fork after BLAS threads; its own peak RSS)."""
    spec = json.dumps({"model": name, "params": params})
    proc = subprocess.run([sys.executable, __file__, "--data", data, "--single", spec],
                          check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="directory with train.txt / valid.txt / test.txt")
    ap.add_argument("--quick", action="store_true", help="no tuning: one configuration per model")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "baselines_ml1m.json"))
    ap.add_argument("--single", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.single:
        sys.stdout.write(json.dumps(single(args.data, args.single)) + "\n")
        return 0

    t0 = time.perf_counter()
    split = read_given(args.data, format="lines")
    load_s = time.perf_counter() - t0
    grids = QUICK if args.quick else GRIDS
    tuning: list[dict[str, Any]] = []
    best: dict[str, dict[str, Any]] = {}
    for name, grid in grids.items():
        for params in grid:
            row = fit_eval(split, name, params, "valid") if len(grid) > 1 else None
            if row is None:
                best[name] = {"params": params}
                continue
            tuning.append(row)
            sys.stderr.write(f"valid {name} {params}: NDCG@20 {row['ndcg@20']:.4f} ({row['fit_s']}s)\n")
            if name not in best or row["ndcg@20"] > best[name]["ndcg@20"]:
                best[name] = row
    final = [measured(args.data, name, b["params"]) | {"selected_on_valid": len(grids[name]) > 1}
             for name, b in best.items()]
    refs = []
    for lam, (r_ref, n_ref) in REFERENCE.items():
        row = measured(args.data, "ease", {"l2": lam})
        row.update(reference_recall=r_ref, reference_ndcg=n_ref,
                   matches_4dp=bool(round(row["recall@20"], 4) == r_ref and round(row["ndcg@20"], 4) == n_ref))
        refs.append(row)

    emit(f"{'model':<14}{'params':<48}{'R@20':>8}{'N@20':>8}{'fit s':>8}{'eval s':>8}{'peak MiB':>10}")
    for row in final + refs:
        emit(f"{row['model']:<14}{json.dumps(row['params']):<48}{row['recall@20']:>8.4f}{row['ndcg@20']:>8.4f}"
              f"{row['fit_s']:>8.2f}{row['eval_s']:>8.2f}{row['peak_rss_mib']:>10.0f}")
    for row in refs:
        emit(f"EASE l2={row['params']['l2']:g}: reference {row['reference_recall']:.4f}/{row['reference_ndcg']:.4f}, "
              f"matches to 4 dp: {row['matches_4dp']}")
    result = {
        "dataset": "ml-1m-lightgcnpp (given split)", "split_meta": {k: split.meta.get(k) for k in
                                                                      ("n_users", "n_items", "valid", "test")},
        "protocol": "tune on valid NDCG@20 (exclude train); test input=train, exclude train∪valid; standard recall",
        "command": "python bench/baselines_ml1m.py" + (" --quick" if args.quick else ""),
        "machine": f"2-core CPU dev box, shared with other jobs ({platform.processor() or platform.machine()})",
        "numpy": np.__version__, "load_s": round(load_s, 2),
        "final": final, "ease_reference": refs, "tuning": tuning,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    emit(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
