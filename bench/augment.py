"""Augmentation: does adding BehaviourGAN users / interactions help recommenders on real test users?

    .venv/bin/python bench/augment.py --dataset ml-100k [--quick]
    .venv/bin/python bench/augment.py --dataset ml-1m-lightgcnpp [--ratios 0.5,1.0] [--select-on-valid]
    .venv/bin/python bench/augment.py --dataset ml-1m-lightgcnpp --models mult-vae --model-seeds 1,2
    .venv/bin/python bench/augment.py --dataset ml-1m-lightgcnpp --gan-set ae_epochs=100 --gan-set temperature=0.3

Protocol (weak generalisation, so sparse users are both trained and tested):
ML-100K: all ratings as implicit interactions, ``random_split(val_ratio=0, test_ratio=0.2, seed=98765)``;
ml-1m-lightgcnpp: the given train / valid / test files (test input = train, train ∪ valid excluded; the
valid file is used only through the hyperparameters taken from the given-split benchmarks, see MODELS).
BehaviourGAN (library defaults but the epochs and temperature pinned in SETTINGS; WGAN-GP critic, calibrated;
its full config goes into the JSON) is fitted on the training interactions only. Conditions: real only; + whole synthetic users (``ratio`` × the real
users for each ratio, seed 1); + sparse-user completion (users at or below the 25th activity percentile
completed to the median with items decoded from their own code). Control: Mult-VAE trains a fixed number
of epochs, so more users also means more updates; for each ratio it is also trained on the real data
alone with as many updates as on real + synthetic users, and the augmented run is tested against that.
Each model is trained once per condition and evaluated on the same real test users (NDCG@20, paired t
test and bootstrap CI of the per-user difference, per activity quartile of the test users).
``--select-on-valid`` (ml-1m only: the split has a valid file): instead of fixed settings, every condition
chooses its own settings on the real valid users (EASE l2 and ItemKNN k from VALID_GRIDS, the Mult-VAE
epoch by early stopping, as in the given-split benchmark), so no control is needed.
Writes bench/results/augment_<key>.json and augment_control_<key>.json (key: ml-100k or ml1m; with
``--select-on-valid`` only augment_<key>_valid.json; with ``--model-seeds`` other than 0 the experiment is
repeated per recommender seed (the generator and its samples stay the same) into augment_<key>_seeds<…>.json)
and prints Markdown tables. ``--gan-set KEY=VALUE`` overrides a BehaviourGAN setting (suffix ``_gan-KEYVALUE…``
on the output names). torch runs with one thread.
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

#: BehaviourGAN epochs and sampling temperature (pinned: the published runs used τ 0.5, the library default of
#: the time; later defaults must not change what these commands reproduce) and the fixed Mult-VAE epochs.
SETTINGS = {"ml-100k": {"ae_epochs": 150, "gan_epochs": 300, "temperature": 0.5, "vae_epochs": 50},
            "ml-1m-lightgcnpp": {"ae_epochs": 30, "gan_epochs": 40, "temperature": 0.5, "vae_epochs": 30}}

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
#: Candidates per condition with --select-on-valid (grids of bench/baselines_ml1m.py around its choices), and
#: the Mult-VAE early stopping of bench/multvae_ml1m.py (validate every 2 epochs, patience 10, at most 200).
VALID_GRIDS: dict[str, list[dict[str, Any]]] = {
    "ease": [{"l2": v} for v in (250.0, 500.0, 750.0, 1000.0, 1500.0, 2000.0)],
    "itemknn": [{"k": v} for v in (50, 100, 200)],
}
VALID_VAE = {"epochs": 200, "eval_every": 2, "patience": 10}
DEFAULT_RATIOS = {"ml-100k": "0.5", "ml-1m-lightgcnpp": "0.5,1.0"}


def matched_epochs(epochs: int, n_real: int, n_augmented: int, batch_size: int) -> int:
    """Epochs on the real users that give as many updates as ``epochs`` on the augmented users."""
    return round(epochs * math.ceil(n_augmented / batch_size) / math.ceil(n_real / batch_size))


def _value(text: str) -> Any:
    """A --gan-set value: JSON (numbers, true/false, lists) where it parses, else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", choices=sorted(SETTINGS), default="ml-100k")
    ap.add_argument("--ratios", default=None, help="synthetic users per real user, comma-separated "
                    "(default: 0.5 on ML-100K, 0.5,1.0 on ml-1m)")
    ap.add_argument("--select-on-valid", action="store_true",
                    help="choose each condition's settings on the valid users (ml-1m only)")
    ap.add_argument("--models", default=None, help="comma-separated subset of the models (default: all)")
    ap.add_argument("--model-seeds", default="0", help="recommender seeds, comma-separated (one experiment each)")
    ap.add_argument("--gan-set", action="append", default=[], metavar="KEY=VALUE",
                    help="BehaviourGAN setting, e.g. ae_epochs=100 (repeatable; value parsed as JSON if it can be)")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    load_start = os.getloadavg()
    cfg = dict(SETTINGS[args.dataset])
    if args.quick:
        cfg.update(ae_epochs=5, gan_epochs=5, vae_epochs=3)
    ratios = [float(r) for r in (args.ratios or DEFAULT_RATIOS[args.dataset]).split(",")]
    if args.select_on_valid and args.dataset == "ml-100k":
        ap.error("--select-on-valid needs a split with validation users; ML-100K's random split has none.")
    if args.dataset == "ml-100k":
        split = random_split(load("ml-100k"), val_ratio=0.0, test_ratio=0.2, seed=98765)
    else:
        split = read_given(SHARED / "ml-1m-lightgcnpp")
    train = split.train.with_values(split.train.matrix.data * 0 + 1)
    t0, c0 = time.perf_counter(), time.process_time()
    if any("=" not in item for item in args.gan_set):
        ap.error(f"--gan-set takes KEY=VALUE, got {args.gan_set}")
    gan_set = {key: _value(v) for key, v in (item.split("=", 1) for item in args.gan_set)}
    gan_kw = {"ae_epochs": cfg["ae_epochs"], "epochs": cfg["gan_epochs"], "temperature": cfg["temperature"], **gan_set}
    gan = BehaviourGAN(**gan_kw, show_progress=False, device="cpu")
    gan.fit(train)
    fit_s, fit_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    print(f"BehaviourGAN fitted: {fit_s:.0f} s wall, {fit_cpu_s:.0f} s CPU", flush=True)
    sparse, info = augment_sparse_users(train, gan, seed=2)
    models = {name: {**o, "show_progress": False, "device": "cpu"} if name == "mult-vae" else dict(o)
              for name, o in MODELS[args.dataset].items()}
    models["mult-vae"]["epochs"] = cfg["vae_epochs"]
    if args.models:
        models = {name: models[name] for name in args.models.split(",")}
    if args.select_on_valid and "mult-vae" in models:
        models["mult-vae"].update(VALID_VAE)
        if args.quick:
            models["mult-vae"].update(epochs=cfg["vae_epochs"])
    vae_batch = models.get("mult-vae", MODELS[args.dataset]["mult-vae"]).get("batch_size", 500)
    conditions, controls, updates = {}, {}, {}
    for r in ratios:
        label = "+synthetic users" if len(ratios) == 1 else f"+synthetic users ×{r:g}"
        conditions[label] = augment_with_users(train, gan.sample(int(r * train.n_users), seed=1))
        epochs = matched_epochs(cfg["vae_epochs"], train.n_users, conditions[label].n_users, vae_batch)
        if args.select_on_valid or "mult-vae" not in models:
            continue
        controls[f"real, {epochs} epochs"] = Control("mult-vae", {"epochs": epochs}, versus=label)
        updates[label] = {"augmented_users": conditions[label].n_users,
                          "augmented_updates": cfg["vae_epochs"] * math.ceil(conditions[label].n_users / vae_batch),
                          "control_epochs": epochs, "control_updates": epochs * math.ceil(train.n_users / vae_batch)}
    conditions["+sparse completion"] = sparse
    t0, c0 = time.perf_counter(), time.process_time()
    selection = {"validation": split.val, "grids": VALID_GRIDS} if args.select_on_valid else {}
    seeds = [int(x) for x in args.model_seeds.split(",")]
    by_seed = {}
    for model_seed in seeds:
        seeded = {name: {**o, "seed": model_seed} if name == "mult-vae" else o for name, o in models.items()}
        by_seed[model_seed] = augmentation_experiment(train, split.test, conditions, seeded, k=20, n_groups=4, seed=0,
                                                      controls=controls, **selection)
        print(f"recommender seed {model_seed}:\n{augmentation_markdown(by_seed[model_seed])}", flush=True)
    res = by_seed[seeds[0]] if seeds == [0] else {str(s): r for s, r in by_seed.items()}
    table = "\n".join(augmentation_markdown(r) for r in by_seed.values())
    key = RESULT_KEYS.get(args.dataset, args.dataset) + ("_valid" if args.select_on_valid else "") + (
        "" if seeds == [0] else "_seeds" + "-".join(map(str, seeds))) + (
        "_gan-" + "-".join(f"{k}{v}" for k, v in gan_set.items()) if gan_set else "") + ("_quick" if args.quick else "")
    common = {"dataset": key, "machine": "2-core CPU dev box, shared with other jobs", "torch": torch.__version__,
              "threads": 1, "loadavg_start": load_start, "loadavg_end": os.getloadavg(),
              "command": " ".join([".venv/bin/python bench/augment.py", *sys.argv[1:]])}
    out = ROOT / "bench" / "results" / f"augment_{key}.json"
    out.write_text(json.dumps({
        **common, "settings": cfg, "gan_set": gan_set, "ratios": ratios, "models": models, "model_seeds": seeds,
        "behaviour_gan": config_to_dict(gan.config),
        "valid_grids": VALID_GRIDS if args.select_on_valid else None, "sparse_completion": info,
        "mult_vae_updates": updates, "result": res, "table": table,
        "gan_fit_s": fit_s, "gan_fit_cpu_s": fit_cpu_s, "experiment_s": time.perf_counter() - t0,
        "experiment_cpu_s": time.process_time() - c0,
    }, indent=2, default=float) + "\n", encoding="utf-8")
    if not controls or seeds != [0]:
        print(f"wrote {out}")
        return
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
