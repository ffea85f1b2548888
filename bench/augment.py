"""Augmentation: does adding BehaviourGAN users / interactions help recommenders on real test users?

    .venv/bin/python bench/augment.py --dataset ml-100k [--quick]
    .venv/bin/python bench/augment.py --dataset ml-1m-lightgcnpp [--ratios 0.5,1.0]

Protocol (weak generalisation, so sparse users are both trained and tested):
ML-100K: all ratings as implicit interactions, ``random_split(val_ratio=0, test_ratio=0.2, seed=98765)``;
ml-1m-lightgcnpp: the given train / valid / test files (test input = train, train ∪ valid excluded; the
valid file is used only through the hyperparameters taken from the given-split benchmarks, see MODELS).
BehaviourGAN (current defaults, WGAN-GP critic, calibrated; its full config goes into the JSON) is fitted
on the training interactions only. Conditions: real only; + whole synthetic users (``ratio`` × the real
users for each ratio, seed 1); + sparse-user completion (users at or below the 25th activity percentile
completed to the median with items decoded from their own code). Control: Mult-VAE trains a fixed number
of epochs, so more users also means more updates; for each ratio it is also trained on the real data
alone with as many updates as on real + synthetic users, and the augmented run is tested against that.
Each model is trained once per condition and evaluated on the same real test users (NDCG@20, paired t
test and bootstrap CI of the per-user difference, per activity quartile of the test users).
Writes bench/results/augment_<key>.json and augment_control_<key>.json (key: ml-100k or ml1m) and prints
Markdown tables. torch runs with one thread.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

from recgen.data import random_split, read_given
from recgen.models.config import config_to_dict
from recgen.synth import BehaviourGAN, augment_sparse_users, augment_with_users, augmentation_experiment
from recgen.synth.augment import Control, augmentation_markdown

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from synth_report import RESULT_KEYS, SHARED, load  # noqa: E402

SETTINGS = {"ml-100k": {"ae_epochs": 150, "gan_epochs": 300, "vae_epochs": 50},
            "ml-1m-lightgcnpp": {"ae_epochs": 30, "gan_epochs": 40, "vae_epochs": 30}}

#: Recommender settings per dataset. ML-100K: the fixed settings of the synthetic-data report (kept so the
#: published ML-100K numbers reproduce). ml-1m-lightgcnpp: the values chosen on the **valid** file in
#: docs/benchmarks.md — EASE l2 = 750 (bench/baselines_ml1m.py grid, valid NDCG@20 0.21285; 1000 gives
#: 0.21282), ItemKNN k = 100, shrink 10, tf-idf (same grid), Mult-VAE without hidden layer, latent 200,
#: batch 100, 30 epochs (the best validated epoch of that configuration, bench/results/multvae_ml1m.json).
MODELS: dict[str, dict[str, dict[str, Any]]] = {
    "ml-100k": {"ease": {"l2": 500.0}, "itemknn": {"k": 100},
                "mult-vae": {"hidden_dims": (300,), "latent_dim": 64}},
    "ml-1m-lightgcnpp": {"ease": {"l2": 750.0}, "itemknn": {"k": 100, "shrink": 10.0, "feature_weighting": "tfidf"},
                         "mult-vae": {"hidden_dims": (), "latent_dim": 200, "batch_size": 100}},
}
DEFAULT_RATIOS = {"ml-100k": "0.5", "ml-1m-lightgcnpp": "0.5,1.0"}


def matched_epochs(epochs: int, n_real: int, n_augmented: int, batch_size: int) -> int:
    """Epochs on the real users that give as many updates as ``epochs`` on the augmented users."""
    return round(epochs * math.ceil(n_augmented / batch_size) / math.ceil(n_real / batch_size))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", choices=sorted(SETTINGS), default="ml-100k")
    ap.add_argument("--ratios", default=None, help="synthetic users per real user, comma-separated "
                    "(default: 0.5 on ML-100K, 0.5,1.0 on ml-1m)")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    load_start = os.getloadavg()
    cfg = dict(SETTINGS[args.dataset])
    if args.quick:
        cfg.update(ae_epochs=5, gan_epochs=5, vae_epochs=3)
    ratios = [float(r) for r in (args.ratios or DEFAULT_RATIOS[args.dataset]).split(",")]
    if args.dataset == "ml-100k":
        split = random_split(load("ml-100k"), val_ratio=0.0, test_ratio=0.2, seed=98765)
    else:
        split = read_given(SHARED / "ml-1m-lightgcnpp")
    train = split.train.with_values(split.train.matrix.data * 0 + 1)
    t0, c0 = time.perf_counter(), time.process_time()
    gan = BehaviourGAN(ae_epochs=cfg["ae_epochs"], epochs=cfg["gan_epochs"], show_progress=False, device="cpu")
    gan.fit(train)
    fit_s, fit_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    print(f"BehaviourGAN fitted: {fit_s:.0f} s wall, {fit_cpu_s:.0f} s CPU", flush=True)
    sparse, info = augment_sparse_users(train, gan, seed=2)
    models = {name: {**o, "show_progress": False, "device": "cpu"} if name == "mult-vae" else dict(o)
              for name, o in MODELS[args.dataset].items()}
    models["mult-vae"]["epochs"] = cfg["vae_epochs"]
    vae_batch = models["mult-vae"].get("batch_size", 500)
    conditions, controls, updates = {}, {}, {}
    for r in ratios:
        label = "+synthetic users" if len(ratios) == 1 else f"+synthetic users ×{r:g}"
        conditions[label] = augment_with_users(train, gan.sample(int(r * train.n_users), seed=1))
        epochs = matched_epochs(cfg["vae_epochs"], train.n_users, conditions[label].n_users, vae_batch)
        controls[f"real, {epochs} epochs"] = Control("mult-vae", {"epochs": epochs}, versus=label)
        updates[label] = {"augmented_users": conditions[label].n_users,
                          "augmented_updates": cfg["vae_epochs"] * math.ceil(conditions[label].n_users / vae_batch),
                          "control_epochs": epochs, "control_updates": epochs * math.ceil(train.n_users / vae_batch)}
    conditions["+sparse completion"] = sparse
    t0, c0 = time.perf_counter(), time.process_time()
    res = augmentation_experiment(train, split.test, conditions, models, k=20, n_groups=4, seed=0, controls=controls)
    table = augmentation_markdown(res)
    print(table)
    key = RESULT_KEYS.get(args.dataset, args.dataset) + ("_quick" if args.quick else "")
    common = {"dataset": key, "machine": "2-core CPU dev box, shared with other jobs", "torch": torch.__version__,
              "threads": 1, "loadavg_start": load_start, "loadavg_end": os.getloadavg(),
              "command": " ".join([".venv/bin/python bench/augment.py", *sys.argv[1:]])}
    out = ROOT / "bench" / "results" / f"augment_{key}.json"
    out.write_text(json.dumps({
        **common, "settings": cfg, "ratios": ratios, "models": models, "behaviour_gan": config_to_dict(gan.config),
        "sparse_completion": info, "mult_vae_updates": updates, "result": res, "table": table,
        "gan_fit_s": fit_s, "gan_fit_cpu_s": fit_cpu_s, "experiment_s": time.perf_counter() - t0,
        "experiment_cpu_s": time.process_time() - c0,
    }, indent=2, default=float) + "\n", encoding="utf-8")
    control_out = ROOT / "bench" / "results" / f"augment_control_{key}.json"
    control_out.write_text(json.dumps({
        **common, "note": "Mult-VAE trained on the real users only with as many updates as on real + synthetic "
        "users; 'versus' = paired difference (augmented − control) on the same test users. Also in augment_<key>.json.",
        "mult_vae_updates": updates, "real": res["models"]["mult-vae"]["real"],
        "controls": {label: res["models"]["mult-vae"][label] for label in controls},
    }, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"wrote {out} and {control_out}")


if __name__ == "__main__":
    main()
