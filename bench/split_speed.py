"""Wall time of the split protocols and of prepared-directory save / load.

    .venv/bin/python bench/split_speed.py [--data DIR] [--nnz 5000000]

Real data: ML-1M given split (ml-1m-lightgcnpp, read + save + load) and ML-100K held-out users
(read + binarize ≥ 4 + split + save). Synthetic: uniform random data with ``--nnz`` interactions
(100k users × 20k items, timestamps) for each split function alone. Prints a table and writes
bench/results/split_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from recgen.data import Interactions
from recgen.data.prepared import load_split, prepare_dataset
from recgen.data.splits import heldout_users_split, random_split
from recgen.data.splits_time import leave_last_k_split, time_cutoff_split

ROOT = Path(__file__).resolve().parents[1]


def _timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--nnz", type=int, default=5_000_000)
    args = ap.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if (args.data / "ml-1m-lightgcnpp").is_dir():
            out = Path(tmp) / "ml1m"
            sec, s = _timed(lambda: prepare_dataset(args.data / "ml-1m-lightgcnpp", format="lines", split="given",
                                                    out=out))
            rows.append({"task": "ML-1M given: read + split + save", "nnz": s.train.nnz, "seconds": sec,
                         "dir_bytes": sum(f.stat().st_size for f in out.iterdir())})
            sec, _ = _timed(lambda: load_split(out))
            rows.append({"task": "ML-1M given: load_split", "nnz": s.train.nnz, "seconds": sec})
        if (args.data / "ml-100k").is_dir():
            sec, s = _timed(lambda: prepare_dataset(args.data / "ml-100k", format="movielens", min_rating=4,
                                                    split="heldout-users", val_users=100, test_users=100,
                                                    out=Path(tmp) / "ml100k"))
            rows.append({"task": "ML-100K held-out users: read + binarize + split + save", "nnz": s.train.nnz,
                         "seconds": sec})
    rng = np.random.default_rng(0)
    n_u, n_i = 100_000, 20_000
    m = sp.csr_matrix((np.ones(args.nnz, np.float32), (rng.integers(0, n_u, args.nnz), rng.integers(0, n_i, args.nnz))),
                      shape=(n_u, n_i))
    m.data[:] = 1
    t = m.copy().astype(np.float64)
    t.data = np.round(rng.random(m.nnz) * 1e6)
    data = Interactions(m, times=t)
    for name, fn in (("heldout_users_split(10k, 10k)", lambda: heldout_users_split(data, 10_000, 10_000)),
                     ("random_split(0.1, 0.2)", lambda: random_split(data)),
                     ("leave_last_k_split(1, 1)", lambda: leave_last_k_split(data)),
                     ("time_cutoff_split(0.9, 0.8)", lambda: time_cutoff_split(data, 0.9, 0.8))):
        sec, _ = _timed(fn)
        rows.append({"task": f"synthetic {name}", "nnz": data.nnz, "seconds": sec})
    print(f"load average (1 min) after: {os.getloadavg()[0]:.2f}")  # noqa: T201
    print("| task | interactions | seconds |\n|---|---:|---:|")  # noqa: T201
    for r in rows:
        print(f"| {r['task']} | {r['nnz']:,d} | {r['seconds']:.2f} |")  # noqa: T201
    res = {"machine": platform.platform(), "cpu_count": os.cpu_count(), "rows": rows}
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "split_speed.json").write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
