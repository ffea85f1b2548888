"""Peak memory and epoch time of Mult-VAE [600] → 200 on a generated ML-20M-shaped matrix.

The matrix (138,493 users × 20,000 items, ~10M interactions, the size of ML-20M after ratings > 3.5 and
users ≥ 5) is built directly as a scipy CSR with numpy: item popularity a power law (Zipf exponent 1.0 over a
random item order), user activity log-normal (min 5), items drawn per user without replacement. Then one
training epoch of Mult-VAE (paper settings: [600] → 200, batch 500, no validation) is run and the peak
resident set size of this process (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is reported. Run it in a
fresh process, nothing else loaded.

    .venv/bin/python bench/multvae_memory.py [--threads 1] [--epochs 1] [--max-users N]

Prints a table and writes bench/results/multvae_memory.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
GOAL_GB = 3.0


def rss_gb() -> float:
    """Peak RSS of this process so far, GiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def current_rss_gb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30


def ml20m_shaped(n_users: int = 138_493, n_items: int = 20_000, nnz: int = 10_000_000,
                 popularity_exponent: float = 1.0, sigma: float = 1.0, seed: int = 0) -> sp.csr_matrix:
    """Binary CSR with power-law item popularity and log-normal user activity (vectorised, a few seconds)."""
    rng = np.random.default_rng(seed)
    weight = (rng.permutation(n_items) + 1.0) ** -popularity_exponent
    weight /= weight.sum()
    act = rng.lognormal(0.0, sigma, n_users)
    counts = np.clip(np.round(act / act.sum() * nnz), 5, n_items // 2).astype(np.int64)
    # oversample with replacement, then deduplicate per row; top up rows that lost too many (rare)
    draw = np.minimum((counts * 1.3).astype(np.int64) + 5, n_items)
    rows = np.repeat(np.arange(n_users, dtype=np.int64), draw)
    cols = rng.choice(n_items, size=rows.size, p=weight).astype(np.int64)
    key = np.unique(rows * n_items + cols)
    r, c = key // n_items, key % n_items
    # keep at most counts[u] entries per user, chosen at random
    order = np.lexsort((rng.random(r.size), r))
    r, c = r[order], c[order]
    start = np.searchsorted(r, np.arange(n_users))
    rank = np.arange(r.size) - start[r]
    keep = rank < counts[r]
    m = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.float32), (r[keep], c[keep])), shape=(n_users, n_items))
    m.sort_indices()
    return m


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--max-users", type=int, default=None, help="train on the first N users only (a quick probe)")
    ap.add_argument("--matrix", default="/tmp/recgen_ml20m_shaped.npz",
                    help="cache of the generated matrix; made by a child process when missing, so that the "
                         "generator's temporary arrays do not count in this process's peak RSS")
    ap.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "multvae_memory.json"))
    args = ap.parse_args(argv)
    if args.generate_only:
        t0 = time.perf_counter()
        sp.save_npz(args.matrix, ml20m_shaped(), compressed=False)
        print(f"{time.perf_counter() - t0:.1f}")
        return 0
    gen_s = None
    if not Path(args.matrix).exists():
        done = subprocess.run([sys.executable, __file__, "--generate-only", "--matrix", args.matrix],
                              check=True, capture_output=True, text=True)
        gen_s = float(done.stdout.strip())
    load0 = os.getloadavg()
    rss_start = rss_gb()

    import torch

    from recgen.data import Interactions
    from recgen.models import create_model

    torch.set_num_threads(args.threads)
    rss_imports = rss_gb()
    t0 = time.perf_counter()
    m = sp.load_npz(args.matrix).tocsr()
    load_s = time.perf_counter() - t0
    if args.max_users:
        m = m[: args.max_users]
    data = Interactions(m)
    del m
    rss_data = rss_gb()
    cur_data = current_rss_gb()
    sys.stderr.write(f"matrix {data.shape} nnz={data.nnz:,} (loaded in {load_s:.1f} s); peak RSS {rss_data:.2f} GiB\n")

    model = create_model("mult-vae", hidden_dims=(600,), latent_dim=200, batch_size=500, epochs=args.epochs,
                         seed=0, show_progress=False, num_threads=args.threads)
    t0 = time.perf_counter()
    c0 = time.process_time()
    model.fit(data)
    fit_s = time.perf_counter() - t0
    fit_cpu = time.process_time() - c0
    peak = rss_gb()
    load1 = os.getloadavg()
    hist = model.history_
    row = {
        "shape": list(data.shape), "nnz": int(data.nnz), "generate_s_child_process": gen_s, "matrix_file": args.matrix,
        "epochs": args.epochs, "threads": args.threads, "batch_size": 500, "network": "[600] -> 200",
        "fit_wall_s": round(fit_s, 1), "fit_cpu_s": round(fit_cpu, 1),
        "epoch_wall_s": [round(h["seconds"], 1) for h in hist if "seconds" in h],
        "epoch_cpu_s": [round(h["cpu_seconds"], 1) for h in hist if "cpu_seconds" in h],
        "peak_rss_gib": round(peak, 3), "peak_rss_before_fit_gib": round(rss_data, 3),
        "rss_after_imports_gib": round(rss_imports, 3), "rss_at_start_gib": round(rss_start, 3),
        "current_rss_before_fit_gib": round(cur_data, 3), "final_loss": hist[-1].get("loss") if hist else None,
        "goal_gib": GOAL_GB, "goal_met": peak <= GOAL_GB,
        "loadavg_start": [round(x, 2) for x in load0], "loadavg_end": [round(x, 2) for x in load1],
        "machine": f"2-core CPU dev box, shared with other jobs ({platform.processor() or platform.machine()}), "
                   f"torch {torch.__version__}",
        "command": "python bench/multvae_memory.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    print(f"{'matrix':<26}{'nnz':>12}{'epoch wall s':>14}{'epoch CPU s':>13}{'peak RSS GiB':>14}{'goal ≤ 3':>10}")
    print(f"{'x'.join(map(str, data.shape)):<26}{data.nnz:>12,}{row['epoch_wall_s'][0] if row['epoch_wall_s'] else fit_s:>14}"
          f"{row['epoch_cpu_s'][0] if row['epoch_cpu_s'] else fit_cpu:>13}{peak:>14.2f}{'met' if peak <= GOAL_GB else 'NOT met':>10}")
    print(f"load average at start {load0[0]:.2f}, at end {load1[0]:.2f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(row, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
