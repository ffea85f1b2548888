"""Speed of full-ranking evaluation on an ML-1M-shaped precomputed score matrix.

6,040 users x 3,706 items (ML-1M), random float32 scores; ~1 % of items per user are targets and a
disjoint ~4.5 % (ML-1M's density) are excluded "training" items. Times ``evaluate_scores`` over all
users (median of ``--repeats`` runs after one warm-up) for ks=(20,) and ks=(20, 50, 100), for
integer-valued (heavily tied) scores, and the top-k step alone. Prints a table and writes bench/results/eval_speed.json.

    .venv/bin/python bench/eval_speed.py [--threads N] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from recgen.data import EvalSet, Vocabulary
from recgen.evaluation import evaluate_scores, topk

N_USERS, N_ITEMS = 6040, 3706


def make(seed: int = 0) -> tuple[np.ndarray, EvalSet]:
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((N_USERS, N_ITEMS), dtype=np.float32)
    u = rng.random((N_USERS, N_ITEMS), dtype=np.float32)
    target = sp.csr_matrix((u < 0.01).astype(np.float32))
    exclude = sp.csr_matrix(((u >= 0.01) & (u < 0.055)).astype(np.float32))
    ev = EvalSet(Vocabulary.range(N_USERS), exclude, target, exclude)
    return scores, ev


def timed(fn, repeats: int) -> tuple[float, float]:
    """Median wall and process-CPU seconds over ``repeats`` runs after one warm-up.

    CPU seconds (all threads) are reported too because wall time on a shared box mostly measures
    the other jobs' load.
    """
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return float(np.median(walls)), float(np.median(cpus))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "eval_speed.json"))
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    scores, ev = make()
    load_before = os.getloadavg()[0]
    rows = []
    for ks in [(20,), (20, 50, 100)]:
        sec, cpu = timed(lambda ks=ks: evaluate_scores(scores, ev, ks=ks), args.repeats)
        rows.append({"step": f"evaluate_scores ks={list(ks)} (all metrics)", "seconds": round(sec, 4),
                     "cpu_seconds": round(cpu, 4)})
    tied = np.random.default_rng(1).integers(0, 300, size=scores.shape).astype(np.float32)
    sec, cpu = timed(lambda: evaluate_scores(tied, ev, ks=(20,)), args.repeats)
    rows.append({"step": "evaluate_scores ks=[20], integer scores 0..299 (boundary ties in most rows)",
                 "seconds": round(sec, 4), "cpu_seconds": round(cpu, 4)})
    sec, cpu = timed(lambda: topk(scores, 100, ev.exclude), args.repeats)
    rows.append({"step": "topk(k=100, exclude) alone", "seconds": round(sec, 4), "cpu_seconds": round(cpu, 4)})
    res = evaluate_scores(scores, ev, ks=(20,))
    print(f"load average (1 min) before/after: {load_before:.2f} / {os.getloadavg()[0]:.2f}")  # noqa: T201
    print(f"| step ({N_USERS} x {N_ITEMS}, torch threads={torch.get_num_threads()}) | median wall s | median CPU s |")  # noqa: T201
    print("|---|---:|---:|")  # noqa: T201
    for r in rows:
        print(f"| {r['step']} | {r['seconds']:.3f} | {r['cpu_seconds']:.3f} |")  # noqa: T201
    out = {
        "shape": [N_USERS, N_ITEMS],
        "target_nnz": int(ev.target.nnz),
        "exclude_nnz": int(ev.exclude.nnz),
        "torch_threads": torch.get_num_threads(),
        "repeats": args.repeats,
        "machine": f"2-core CPU dev box, shared with other jobs ({platform.processor() or platform.machine()})",
        "torch": torch.__version__,
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "timings": rows,
        "sanity_recall@20_random": round(res.summary["recall@20"], 5),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
