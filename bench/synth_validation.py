"""BehaviourGAN and TSTR-model settings chosen on **validation users** (never on the report's test users).

    .venv/bin/python bench/synth_validation.py --dataset ml-100k --stage models
    .venv/bin/python bench/synth_validation.py --dataset ml-100k --stage gan
    .venv/bin/python bench/synth_validation.py --dataset ml-1m-lightgcnpp --stage models
    .venv/bin/python bench/synth_validation.py --dataset ml-1m-lightgcnpp --stage gan --shapes 0-200,300-64 \
        --ae-epochs-grid 100 --temperatures 0.3,0.5

Split: ``heldout_users_split(n_val_users=V, n_test_users=T, fold_in=0.8, seed=98765)`` with T the report's
test-user count (200 / 1,000), so the **test users are the report's test users** (the last T of the seed-98765
permutation) and the V validation users (100 / 500) come out of the report's training users.

Stages (each writes its part of bench/results/synth_validation_<key>.json, key ml-100k or ml1m):

- ``models``: hyperparameters of the TSTR recommenders trained on the real training users, chosen on the
  validation users: Mult-VAE (300-64) and Mult-DAE ([] → 200) epochs by early stopping (patience 10,
  at most 200 epochs, NDCG@20), PureSVD's rank from {16, 32, 64, 128}.
- ``gan``: a grid of BehaviourGAN autoencoders (shape × epochs); for each fitted GAN, sampling temperature
  τ and the number of synthetic users (1×, 2×, 5× the training users). Per setting: EASE (λ 500) TSTR NDCG@20
  ratio on the validation users (**selects**), the same on the test users (reported, never used), popularity
  JSD and, at 1×, the membership-inference AUC with the **validation** users as non-members. Each grid run
  is stored under its own key ("gan <shapes> x <epochs>").

torch runs with one thread (shared 2-core machine); CPU seconds are recorded beside wall seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from synth_report import RESULT_KEYS, load  # noqa: E402

from recgen.data import Interactions, heldout_users_split  # noqa: E402
from recgen.evaluation import evaluate  # noqa: E402
from recgen.models.registry import create_model  # noqa: E402
from recgen.synth import BehaviourGAN  # noqa: E402
from recgen.synth.report import holdout_rows  # noqa: E402
from recgen.synth.report_marginals import marginals  # noqa: E402
from recgen.synth.report_privacy import privacy  # noqa: E402

SPLITS = {"ml-100k": {"val": 100, "test": 200, "gan_epochs": 300},
          "ml-1m-lightgcnpp": {"val": 500, "test": 1000, "gan_epochs": 40}}
AE_SHAPES = {"300-64": ((300,), 64), "0-200": ((), 200)}
AE_EPOCHS = {"ml-100k": (50, 150), "ml-1m-lightgcnpp": (30, 100)}
TEMPERATURES = (0.3, 0.5, 0.7)
RATIOS = (1, 2, 5)
NEURAL = {"mult-vae": {"hidden_dims": (300,), "latent_dim": 64},
          "mult-dae": {"hidden_dims": (), "latent_dim": 200}}


def ndcg(model: Any, evalset: Any) -> float:
    return float(evaluate(model, evalset.nonempty(), ks=(20,), metrics=("ndcg",)).summary["ndcg@20"])


def early_stopped(name: str, train: Interactions, val: Any, max_epochs: int = 200) -> dict[str, Any]:
    """Fit a neural TSTR model with validation every epoch; the best epoch and its validation NDCG@20."""
    t0, c0 = time.perf_counter(), time.process_time()
    m = create_model(name, **NEURAL[name], epochs=max_epochs, patience=10, eval_metric="ndcg@20",
                     show_progress=False, device="cpu", seed=0).fit(train, validation=val.nonempty())
    best = max(m.history_, key=lambda r: r.get("ndcg@20", -1.0))
    return {"best_epoch": int(best["epoch"]), "val_ndcg": float(best["ndcg@20"]), "epochs_run": len(m.history_),
            "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}


def stage_models(split: Any) -> dict[str, Any]:
    tr, va = split.train, split.val
    out: dict[str, Any] = {}
    for name in NEURAL:
        out[name] = early_stopped(name, tr, va)
        print(name, out[name], flush=True)
    svd = {}
    for f in (16, 32, 64, 128):
        svd[f] = ndcg(create_model("puresvd", factors=f).fit(tr), va)
    out["puresvd"] = {"val_ndcg": svd, "factors": max(svd, key=svd.get)}
    print("puresvd", out["puresvd"], flush=True)
    return out


def ease_ratios(fake: Interactions, split: Any, real: dict[str, float]) -> dict[str, float]:
    m = create_model("ease", l2=500.0).fit(fake)
    return {"val": ndcg(m, split.val) / real["val"], "test": ndcg(m, split.test) / real["test"]}


def stage_gan(split: Any, dataset: str, ratios: tuple[int, ...], temps: tuple[float, ...],
              shapes: list[str], ae_epochs: tuple[int, ...]) -> dict[str, Any]:
    tr, va = split.train, split.val
    real_ease = create_model("ease", l2=500.0).fit(tr)
    real = {"val": ndcg(real_ease, va), "test": ndcg(real_ease, split.test)}
    va_rows = holdout_rows(va)
    rows = []
    for shape in shapes:
        hidden, latent = AE_SHAPES[shape]
        for ep in ae_epochs:
            t0, c0 = time.perf_counter(), time.process_time()
            g = BehaviourGAN(ae_hidden_dims=hidden, ae_latent_dim=latent, ae_epochs=ep,
                             epochs=SPLITS[dataset]["gan_epochs"], show_progress=False, device="cpu", seed=0).fit(tr)
            fit_wall, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
            ae_val = ndcg(g.autoencoder_, va)
            for tau in temps:
                g.config = dataclasses.replace(g.config, temperature=tau)
                g._calibrate(tr.item_counts().astype(float))
                for r in ratios:
                    fake = g.sample(r * tr.n_users, seed=1)
                    row: dict[str, Any] = {"ae": shape, "ae_epochs": ep, "ae_val_ndcg": ae_val, "temperature": tau,
                                           "ratio": r, "popularity_jsd": marginals(tr.matrix, fake.matrix)["popularity_jsd"]}
                    e = ease_ratios(fake, split, real)
                    row["ease_ratio_val"], row["ease_ratio_test"] = e["val"], e["test"]
                    if r == 1:
                        p = privacy(fake.matrix, tr.matrix, va_rows, seed=0)
                        row["mia_auc_val"], row["mia_auc_val_ci"] = p["mia_auc"], p["mia_auc_ci"]
                        row["mia_auc_val_full"] = p.get("mia_auc_full")
                    row["fit_wall_s"], row["fit_cpu_s"] = fit_wall, fit_cpu
                    rows.append(row)
                    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()
                                      if k not in ("fit_wall_s", "fit_cpu_s")}), flush=True)
    return {"real_ease_ndcg": real, "rows": rows,
            "selection": "max EASE TSTR ratio on the validation users; test ratios reported, never used; the "
                         "validation MIA AUC (at 1x, validation users as non-members) is reported only (its 95 % "
                         "interval is about +-0.1 wide with 100 validation users, too wide to select on)"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", choices=sorted(SPLITS), default="ml-100k")
    ap.add_argument("--stage", choices=("models", "gan"), required=True)
    ap.add_argument("--shapes", default=",".join(AE_SHAPES))
    ap.add_argument("--ae-epochs-grid", default=None, help="comma list (default per dataset)")
    ap.add_argument("--temperatures", default=",".join(map(str, TEMPERATURES)))
    args = ap.parse_args()
    torch.set_num_threads(1)
    s = SPLITS[args.dataset]
    split = heldout_users_split(load(args.dataset), n_val_users=s["val"], n_test_users=s["test"], fold_in=0.8,
                                seed=98765)
    print(f"{args.dataset}: {split.train.n_users} train, {split.val.n_users} val, {split.test.n_users} test users")
    key = RESULT_KEYS.get(args.dataset, args.dataset)
    out_path = ROOT / "bench" / "results" / f"synth_validation_{key}.json"
    result = json.loads(out_path.read_text()) if out_path.exists() else {}
    t0, c0 = time.perf_counter(), time.process_time()
    load0 = os.getloadavg()[0]
    stage = args.stage
    if stage == "models":
        part = stage_models(split)
    else:
        grid = tuple(int(v) for v in args.ae_epochs_grid.split(",")) if args.ae_epochs_grid else AE_EPOCHS[args.dataset]
        temps = tuple(float(v) for v in args.temperatures.split(","))
        part = stage_gan(split, args.dataset, RATIOS, temps, args.shapes.split(","), grid)
        stage = f"gan {args.shapes} x {','.join(map(str, grid))}"   # one entry per grid run
    part.update({"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                 "loadavg_start_end": [load0, os.getloadavg()[0]],
                 "command": " ".join(["bench/synth_validation.py", *sys.argv[1:]])})
    result.update({"split": {"n_val_users": s["val"], "n_test_users": s["test"], "fold_in": 0.8, "seed": 98765,
                             "n_train_users": split.train.n_users},
                   "machine": "2-core CPU dev box, shared with other jobs", stage: part})
    out_path.write_text(json.dumps(result, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
