"""Augmentation: does adding BehaviourGAN users / interactions help recommenders on real test users?

    .venv/bin/python bench/augment.py --dataset ml-100k [--quick]
    .venv/bin/python bench/augment.py --dataset ml-1m-lightgcnpp

Protocol (weak generalisation, so sparse users are both trained and tested):
ML-100K: all ratings as implicit interactions, ``random_split(val_ratio=0, test_ratio=0.2, seed=98765)``;
ml-1m-lightgcnpp: the given train / valid / test files (test input = train, train ∪ valid excluded).
BehaviourGAN (WGAN-GP critic, calibrated) is fitted on the training interactions only. Conditions:
real only; + whole synthetic users (half as many as real users, seed 1); + sparse-user completion
(users at or below the 25th activity percentile completed to the median with items decoded from their
own code). Each model is trained once per condition and evaluated on the same real test users (NDCG@20,
paired t test and bootstrap CI of the per-user difference, per activity quartile of the test users).
Writes bench/results/augment_<dataset>.json and prints Markdown tables. torch runs with one thread.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from recgen.data import random_split, read_given
from recgen.synth import BehaviourGAN, augment_sparse_users, augment_with_users, augmentation_experiment
from recgen.synth.augment import augmentation_markdown

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from synth_report import SHARED, load  # noqa: E402

SETTINGS = {"ml-100k": {"ae_epochs": 150, "gan_epochs": 300, "vae_epochs": 50},
            "ml-1m-lightgcnpp": {"ae_epochs": 30, "gan_epochs": 40, "vae_epochs": 15}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", choices=sorted(SETTINGS), default="ml-100k")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = dict(SETTINGS[args.dataset])
    if args.quick:
        cfg.update(ae_epochs=5, gan_epochs=5, vae_epochs=3)
    if args.dataset == "ml-100k":
        split = random_split(load("ml-100k"), val_ratio=0.0, test_ratio=0.2, seed=98765)
    else:
        split = read_given(SHARED / "ml-1m-lightgcnpp")
    train = split.train.with_values(split.train.matrix.data * 0 + 1)
    t0 = time.perf_counter()
    gan = BehaviourGAN(ae_epochs=cfg["ae_epochs"], epochs=cfg["gan_epochs"], show_progress=False, device="cpu")
    gan.fit(train)
    fit_s = time.perf_counter() - t0
    sparse, info = augment_sparse_users(train, gan, seed=2)
    conditions = {"+synthetic users": augment_with_users(train, gan.sample(train.n_users // 2, seed=1)),
                  "+sparse completion": sparse}
    models = {"ease": {"l2": 500.0}, "itemknn": {"k": 100},
              "mult-vae": {"epochs": cfg["vae_epochs"], "hidden_dims": (300,), "latent_dim": 64,
                           "show_progress": False, "device": "cpu"}}
    t0 = time.perf_counter()
    res = augmentation_experiment(train, split.test, conditions, models, k=20, n_groups=4, seed=0)
    table = augmentation_markdown(res)
    print(table)
    out = ROOT / "bench" / "results" / f"augment_{args.dataset}{'_quick' if args.quick else ''}.json"
    out.write_text(json.dumps({
        "dataset": args.dataset, "settings": cfg, "sparse_completion": info, "result": res, "table": table,
        "gan_fit_s": fit_s, "experiment_s": time.perf_counter() - t0,
        "machine": "2-core CPU dev box, shared with other jobs", "torch": torch.__version__,
        "command": " ".join(["bench/augment.py", *sys.argv[1:]]),
    }, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
