"""AutoRec rating prediction on MovieLens 100K: I-AutoRec, U-AutoRec and a biased-MF baseline.

Protocol (docs PROTOCOLS.md, "AutoRec"; Sedhain et al. 2015): a random 90/10 split of the *ratings*
(not per user) for each seed; 10 % of the training ratings are held out for early stopping (validation
RMSE); test RMSE with predictions clipped to [1, 5]; mean ± std over the seeds. Every model sees the
same splits. Users in test are known (a user with all ratings in test would be folded in).

    .venv/bin/python bench/autorec_ml100k.py [--seeds 5] [--epochs 100]

Prints a table and writes bench/results/autorec_ml100k.json.
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

import numpy as np
import torch

from recgen.data import EvalSet, Interactions, read_interactions
from recgen.data.dataset import Split
from recgen.data.splits import TEST, TRAIN, VAL, split_from_labels
from recgen.evaluation.rating import evaluate_ratings
from recgen.models.autorec import AutoRec

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "ml-100k" / "u.data"
CLIP = (1.0, 5.0)
AUTOREC = {"hidden_dim": 500, "lr": 1e-3, "batch_size": 128, "patience": 10, "show_progress": False}


def rating_split(data: Interactions, seed: int, test: float = 0.1, val: float = 0.1) -> Split:
    """Random split of all ratings: ``test`` of them to test, ``val`` of the rest to validation."""
    rng = np.random.default_rng(seed)
    u = rng.random(data.nnz)
    labels = np.full(data.nnz, TRAIN, dtype=np.int64)
    labels[u < test] = TEST
    labels[(u >= test) & (u < test + (1 - test) * val)] = VAL
    return split_from_labels(data, labels, has_val=True, protocol="random-ratings",
                             params={"seed": seed, "test": test, "val": val})


class BiasedMF:
    """r̂_ui = μ + b_u + b_i + p_u·q_i (Koren et al. 2009), full-batch Adam on the squared error of the
    training ratings + λ(‖p_u‖² + ‖q_i‖² + b_u² + b_i²) per rating, early stopping on validation RMSE."""

    def __init__(self, factors: int = 50, l2: float = 0.1, lr: float = 0.01, steps: int = 2000,
                 patience: int = 50, seed: int = 0) -> None:
        self.factors, self.l2, self.lr, self.steps, self.patience, self.seed = factors, l2, lr, steps, patience, seed

    def fit(self, train: Interactions, val: EvalSet) -> BiasedMF:
        m = train.matrix.tocoo()
        u, i, r = (torch.as_tensor(a) for a in (m.row.astype(np.int64), m.col.astype(np.int64), m.data))
        g = torch.Generator().manual_seed(self.seed)
        self.mu = float(r.mean())
        p = (0.01 * torch.randn(train.n_users, self.factors, generator=g)).requires_grad_()
        q = (0.01 * torch.randn(train.n_items, self.factors, generator=g)).requires_grad_()
        bu = torch.zeros(train.n_users, requires_grad=True)
        bi = torch.zeros(train.n_items, requires_grad=True)
        opt = torch.optim.Adam([p, q, bu, bi], lr=self.lr)
        best, best_state, bad = np.inf, None, 0
        for step in range(self.steps):
            pu, qi = p[u], q[i]
            pred = self.mu + bu[u] + bi[i] + (pu * qi).sum(1)
            reg = pu.pow(2).sum(1) + qi.pow(2).sum(1) + bu[u].pow(2) + bi[i].pow(2)
            loss = ((r - pred).pow(2) + self.l2 * reg).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 10 == 9:
                self.params = [t.detach() for t in (p, q, bu, bi)]
                score = evaluate_ratings(self, val, clip=CLIP).rmse
                if score < best:
                    best, best_state, bad = score, [t.clone() for t in self.params], 0
                else:
                    bad += 10
                    if bad >= self.patience:
                        break
        self.params = best_state
        self.best_val_rmse_ = best
        return self

    def predict(self, rows: Any, targets: Any, *, user_rows: np.ndarray | None = None) -> np.ndarray:
        p, q, bu, bi = (t.numpy() for t in self.params)
        t = targets.tocsr().copy()
        t.sort_indices()
        uu = np.asarray(user_rows)[np.repeat(np.arange(t.shape[0]), np.diff(t.indptr))]
        ii = t.indices
        return self.mu + bu[uu] + bi[ii] + (p[uu] * q[ii]).sum(1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated split seeds")
    ap.add_argument("--merge", nargs="*", default=None, help="only merge the runs of these result files")
    ap.add_argument("--epochs", type=int, default=80, help="AutoRec epoch cap (early stopping on validation RMSE)")
    ap.add_argument("--l2", default="item:100,user:100", help="AutoRec λ per mode (100: best valid RMSE of 1/10/100/1000 on seed 0)")
    ap.add_argument("--models", default="I-AutoRec,U-AutoRec,biased MF", help="comma-separated subset")
    ap.add_argument("--mf-l2", type=float, default=0.1,
                    help="biased-MF regularisation per rating (0.1: best valid RMSE of 0.01–0.2 on seed 0)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "autorec_ml100k.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    l2 = {k: float(v) for k, v in (x.split(":") for x in args.l2.split(","))}

    if args.merge:
        parts = [json.loads(Path(f).read_text()) for f in args.merge]
        runs = [r for p in parts for r in p["runs"]]
        commands = [p["command"] for p in parts]
    else:
        runs = fit_all(args, l2)
        commands = ["python bench/autorec_ml100k.py " + " ".join(argv if argv is not None else sys.argv[1:])]
    summary = summarise(runs)
    result = {"dataset": "MovieLens 100K explicit ratings (u.data)",
              "protocol": "random 90/10 split of ratings per seed; 10 % of train for early stopping (val RMSE); "
                          "predictions clipped to [1, 5]; std with ddof=1",
              "command": " && ".join(commands),
              "machine": f"2-core CPU dev box, shared with other jobs ({platform.machine()}), torch threads="
                         f"{args.threads}",
              "autorec": {**AUTOREC, "epochs": args.epochs, "l2": l2}, "mf_l2": args.mf_l2,
              "summary": summary, "runs": runs}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


def fit_all(args: Any, l2: dict[str, float]) -> list[dict[str, Any]]:
    data = read_interactions(args.data)
    runs: list[dict[str, Any]] = []
    for seed in (int(s) for s in args.seeds.split(",")):
        split = rating_split(data, seed)
        models: dict[str, Any] = {
            "I-AutoRec": AutoRec(mode="item", epochs=args.epochs, l2=l2["item"], seed=seed, **AUTOREC),
            "U-AutoRec": AutoRec(mode="user", epochs=args.epochs, l2=l2["user"], seed=seed, **AUTOREC),
            "biased MF": BiasedMF(l2=args.mf_l2, seed=seed),
        }
        for name, model in models.items():
            if name not in args.models.split(","):
                continue
            t0 = time.perf_counter()
            model.fit(split.train, split.val) if isinstance(model, BiasedMF) else \
                model.fit(split.train, validation=split.val)
            fit_s = time.perf_counter() - t0
            res = evaluate_ratings(model, split.test, clip=CLIP)
            row = {"model": name, "seed": seed, "rmse": res.rmse, "mae": res.mae, "n_test": res.n_ratings,
                   "val_rmse": model.best_val_rmse_, "best_epoch": getattr(model, "best_epoch_", None),
                   "fit_s": round(fit_s, 1)}
            runs.append(row)
            sys.stderr.write(f"seed {seed} {name}: test RMSE {res.rmse:.4f} (val {row['val_rmse']:.4f}, "
                             f"epoch {row['best_epoch']}, {fit_s:.0f} s)\n")
    return runs


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    summary = {}
    print(f"{'model':<12}{'RMSE mean':>11}{'± std':>9}{'MAE':>8}{'fit s':>8}{'seeds':>7}")
    for name in sorted({x["model"] for x in runs}):
        r = np.array([x["rmse"] for x in runs if x["model"] == name])
        a = np.array([x["mae"] for x in runs if x["model"] == name])
        f = np.array([x["fit_s"] for x in runs if x["model"] == name])
        summary[name] = {"rmse_mean": float(r.mean()), "rmse_std": float(r.std(ddof=1)) if len(r) > 1 else 0.0,
                         "mae_mean": float(a.mean()), "fit_s_mean": float(f.mean()), "n_seeds": len(r)}
        print(f"{name:<12}{r.mean():>11.4f}{summary[name]['rmse_std']:>9.4f}{a.mean():>8.4f}{f.mean():>8.1f}"
              f"{len(r):>7}")
    return summary


if __name__ == "__main__":
    raise SystemExit(main())
