"""ML-20M strong generalisation, full protocol (Liang et al., WWW 2018), next to the published numbers.

Protocol (PROTOCOLS.md "Strong generalisation"): ratings > 3.5 → 1 (half-star ratings, so ``>= 4.0``), users
with ≥ 5 interactions, ``heldout_users_split(n_val_users=10_000, n_test_users=10_000, fold_in=0.8,
seed=98765)``. Models: EASE λ = 500 (closed form), Mult-VAE with the paper's settings ([600] → 200, tanh,
dropout 0.5, β annealed to 0.2 over 200,000 updates, Adam 1e-3, batch 500, 200 epochs, epoch chosen by
validation NDCG@100) and RecVAE with the paper's settings (recgen defaults: hidden 600, latent 200,
γ = 0.005, composite prior, 3 encoder : 1 decoder passes, lr 5e-4, batch 500, 50 epochs). Test users are
scored once: truncated Recall@20 / @50, NDCG@100, plus standard recall, with 95 % bootstrap intervals.

    .venv/bin/python bench/ml20m_protocol.py [--data DIR] [--models ease,mult-vae,recvae] [--threads N]
    .venv/bin/python bench/ml20m_protocol.py --dry-run-generated   # the whole pipeline on a small stand-in

The data is looked up with ``recgen.data.download.movielens_path("ml-20m", download=False)`` unless
``--data`` names the directory holding ``ratings.csv``; nothing is downloaded. ``--dry-run-generated``
replaces ML-20M with ``generate_interactions`` (3,000 users × 600 items, ratings drawn 0.5–5 so the
> 3.5 filter has work to do), 300 + 300 held-out users and 3 epochs per model: it checks the script end to
end, its numbers mean nothing. Writes bench/results/ml20m_protocol.json (``…_dryrun.json`` for the stand-in).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from recgen.data import Interactions, read_interactions
from recgen.data.download import movielens_path
from recgen.data.generate import generate_interactions
from recgen.data.splits import heldout_users_split
from recgen.errors import DownloadError
from recgen.evaluation import evaluate
from recgen.models import create_model

ROOT = Path(__file__).resolve().parents[1]
REPORT = ("trecall@20", "trecall@50", "ndcg@100", "recall@20", "recall@50")
#: PROTOCOLS.md: published ML-20M numbers (truncated Recall@20, Recall@50, NDCG@100)
PUBLISHED = {"mult-vae": (0.395, 0.537, 0.426), "recvae": (0.414, 0.553, 0.442), "ease": (0.391, 0.521, 0.420)}
SETTINGS: dict[str, dict[str, Any]] = {
    "ease": {"l2": 500.0},
    "mult-vae": {"hidden_dims": (600,), "latent_dim": 200, "dropout": 0.5, "anneal_cap": 0.2,
                 "total_anneal_steps": 200_000, "lr": 1e-3, "batch_size": 500, "epochs": 200},
    "recvae": {"hidden_dim": 600, "latent_dim": 200, "gamma": 0.005, "n_enc_epochs": 3, "lr": 5e-4,
               "batch_size": 500, "epochs": 50},
}


def load_ml20m(data: str | None) -> Interactions:
    """ratings.csv → ratings > 3.5 as 1 → users with ≥ 5 interactions (no item filter, as vae_cf)."""
    if data is None:
        try:
            path = movielens_path("ml-20m", download=False)
        except DownloadError as exc:
            raise SystemExit(f"ML-20M is not available: {exc}\nPass --data DIR (the unzipped ml-20m directory "
                             "with ratings.csv), or run recgen.data.download.download_movielens('ml-20m') on a "
                             "machine with network access; or use --dry-run-generated to check the script.") from None
    else:
        path = Path(data)
        if not path.exists():
            raise SystemExit(f"--data {data!r} does not exist; pass the ml-20m directory holding ratings.csv.")
    raw = read_interactions(path, format="movielens")
    return raw.binarize(4.0).filter_min_counts(min_user=5)


def stand_in(seed: int = 0) -> Interactions:
    """A small generated data set with 0.5–5 star ratings, for --dry-run-generated."""
    data, _ = generate_interactions(n_users=3000, n_items=600, mean_items_per_user=40.0, seed=seed)
    rng = np.random.default_rng(seed)
    stars = rng.integers(1, 11, size=data.nnz).astype(np.float32) / 2.0
    return data.with_values(stars).binarize(4.0).filter_min_counts(min_user=5)


def test_row(model: Any, evalset: Any) -> dict[str, Any]:
    t0 = time.perf_counter()
    res = evaluate(model, evalset, ks=(20, 50, 100), metrics=["trecall", "recall", "ndcg"])
    row: dict[str, Any] = {"test_users": res.n_users, "test_eval_s": round(time.perf_counter() - t0, 1)}
    for m in REPORT:
        mean, lo, hi = res.ci(m, n_boot=1000, seed=0)
        row[m], row[m + "_ci95"] = round(float(mean), 4), [round(float(lo), 4), round(float(hi), 4)]
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="the ml-20m directory (default: recgen's download cache)")
    ap.add_argument("--models", default="ease,mult-vae,recvae")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--dry-run-generated", action="store_true",
                    help="run everything on a small generated stand-in with 3 epochs (checks the script only)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    command = "python bench/ml20m_protocol.py " + " ".join(argv if argv is not None else sys.argv[1:])
    dry = args.dry_run_generated
    t0 = time.perf_counter()
    data = stand_in() if dry else load_ml20m(args.data)
    n_held = 300 if dry else 10_000
    split = heldout_users_split(data, n_val_users=n_held, n_test_users=n_held, fold_in=0.8, seed=98765)
    sys.stderr.write(f"data {data.shape} nnz={data.nnz:,} ({time.perf_counter() - t0:.1f} s); train "
                     f"{split.train.shape}, val {split.val.n_users}, test {split.test.n_users} users\n")

    rows = []
    for name in args.models.split(","):
        params = dict(SETTINGS[name])
        if name != "ease":
            params |= {"eval_every": 1, "eval_metric": "ndcg@100", "seed": 0, "show_progress": False,
                       "num_threads": args.threads}
            if dry:
                params["epochs"] = 3
        load0 = os.getloadavg()[0]
        t1 = time.perf_counter()
        model = create_model(name, **params)
        model.fit(split.train, validation=None if name == "ease" else split.val)
        fit_s = time.perf_counter() - t1
        row = {"model": name, "config": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
               "fit_s": round(fit_s, 1), "best_epoch": getattr(model, "best_epoch_", None),
               **test_row(model, split.test), "loadavg_1min_start": round(load0, 2),
               "loadavg_1min_end": round(os.getloadavg()[0], 2)}
        rows.append(row)
        sys.stderr.write(f"{name}: {json.dumps({k: row[k] for k in REPORT})} fit {fit_s:.1f} s\n")

    head = f"{'model':<18}{'R@20 (trunc)':>14}{'R@50 (trunc)':>14}{'NDCG@100':>10}{'R@20 (std)':>12}{'R@50 (std)':>12}"
    print(("DRY RUN on a generated stand-in — not ML-20M numbers\n" if dry else "") + head)
    for r in rows:
        print(f"{'recgen ' + r['model']:<18}{r['trecall@20']:>14.4f}{r['trecall@50']:>14.4f}{r['ndcg@100']:>10.4f}"
              f"{r['recall@20']:>12.4f}{r['recall@50']:>12.4f}")
        if r["model"] in PUBLISHED:
            p = PUBLISHED[r["model"]]
            print(f"{'  published':<18}{p[0]:>14.3f}{p[1]:>14.3f}{p[2]:>10.3f}")
    out = Path(args.out or ROOT / "bench" / "results" / f"ml20m_protocol{'_dryrun' if dry else ''}.json")
    result = {"dataset": "generated stand-in (dry run, numbers meaningless)" if dry else f"ML-20M {data.shape}",
              "n_interactions": int(data.nnz), "protocol": f"ratings > 3.5, users ≥ 5, held-out {n_held}+{n_held} "
              "users seed 98765, fold-in 80 %, epoch by valid NDCG@100",
              "published": {k: dict(zip(REPORT[:3], v, strict=True)) for k, v in PUBLISHED.items()},
              "machine": f"{platform.processor() or platform.machine()}, shared 2-core CPU dev box" if dry else
              platform.processor() or platform.machine(), "command": command, "rows": rows}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
