"""Time and peak memory of ``read_interactions`` on an ML-20M-sized CSV.

Writes a CSV ``user,item,rating,timestamp`` (default 20,000,000 unique (user, item) rows over ~138k users
and ~27k items, sorted by user as MovieLens ships it; item popularity skewed) into a temporary directory,
then loads it in a *fresh* child process (so peak RSS counts only the load) with
``read_frame`` → ``Interactions.from_frame`` and reports wall time per stage and peak RSS.
Prints a table and writes bench/results/load_csv.json.

    .venv/bin/python bench/load_csv.py [--rows 20000000] [--users 138493] [--items 26744]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv


def write_csv(path: Path, rows: int, users: int, items: int, seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    n = int(rows * 1.05) + 1000
    u = rng.integers(0, users, size=n, dtype=np.int64)
    i = np.minimum((items * rng.random(n) ** 2).astype(np.int64), items - 1)  # popular items at low ids
    key = np.sort(u * items + i)  # by user, then item
    key = key[np.r_[True, key[1:] != key[:-1]]]  # drop repeats (np.unique is far slower on numpy 2.4)
    if len(key) > rows:
        key = np.sort(rng.choice(key, size=rows, replace=False))
    table = pa.table({
        "userId": pa.array(key // items + 1, pa.int32()),
        "movieId": pa.array(key % items + 1, pa.int32()),
        "rating": pa.array(rng.integers(1, 11, size=len(key)) / 2.0, pa.float64()),
        "timestamp": pa.array(rng.integers(789_652_009, 1_427_784_002, size=len(key)), pa.int64()),
    })
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))
    return len(key)


def measure(path: str) -> dict[str, float]:
    """Runs in the child: load once, report stage times and peak RSS."""
    from recgen.data.interactions import Interactions
    from recgen.data.readers import read_frame

    t0, c0 = time.perf_counter(), time.process_time()
    df = read_frame(path, user="userId", item="movieId", rating="rating", time="timestamp")
    t1, c1 = time.perf_counter(), time.process_time()
    data = Interactions.from_frame(df, rating="rating", time="time")
    t2, c2 = time.perf_counter(), time.process_time()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: KiB
    # CPU seconds (all threads) beside wall seconds: on a shared machine wall time includes waiting for a core
    return {"read_frame_s": t1 - t0, "read_frame_cpu_s": c1 - c0, "from_frame_s": t2 - t1,
            "from_frame_cpu_s": c2 - c1, "total_s": t2 - t0, "total_cpu_s": c2 - c0,
            "peak_rss_gib": peak_kib / 2**20, "n_users": data.n_users, "n_items": data.n_items, "nnz": data.nnz}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--users", type=int, default=138_493)
    ap.add_argument("--items", type=int, default=26_744)
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--csv", help="load this existing CSV (userId,movieId,rating,timestamp) instead of writing one")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "load_csv.json"))
    args = ap.parse_args()
    if args.measure:
        sys.stdout.write(json.dumps(measure(args.measure)) + "\n")
        return
    with tempfile.TemporaryDirectory(prefix="recgen-bench-") as tmp:
        path = Path(args.csv) if args.csv else Path(tmp) / "ratings.csv"
        t = time.perf_counter()
        n = write_csv(path, args.rows, args.users, args.items) if not args.csv else -1
        write_s = time.perf_counter() - t
        size_mib = os.path.getsize(path) / 2**20
        child = subprocess.run([sys.executable, __file__, "--measure", str(path)], check=True, capture_output=True,
                               text=True)
        measure_result = json.loads(child.stdout.strip().splitlines()[-1])
    res = {"rows": measure_result["nnz"] if n < 0 else n, "csv_mib": round(size_mib, 1), "write_s": round(write_s, 2),
           **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in measure_result.items()},
           "machine": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
           "command": "python bench/load_csv.py " + " ".join(sys.argv[1:])}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2) + "\n")
    width = max(len(k) for k in res)
    for k, v in res.items():
        sys.stdout.write(f"{k:<{width}}  {v}\n")


if __name__ == "__main__":
    main()
