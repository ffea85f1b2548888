"""Synthetic users: BehaviourGAN (WGAN-GP critic and EBGAN energy discriminator) vs the independent-
popularity sampler and the Mult-VAE prior sampler, on a held-out-users split.

    .venv/bin/python bench/synth_report.py --dataset ml-100k [--quick]
    .venv/bin/python bench/synth_report.py --dataset ml-1m-lightgcnpp

Data: ML-100K (all 100,000 ratings as implicit interactions) or ml-1m-lightgcnpp (train ∪ valid ∪ test
files merged). Split: ``heldout_users_split(n_val_users=0, n_test_users=N, fold_in=0.8, seed=98765)``.
Each generator is fitted on the training users and samples ``ratio`` × as many synthetic users as there are
training users (seed 1); the report (fidelity vs train and held-out users, privacy, TSTR with EASE, ItemKNN,
Mult-VAE, Mult-DAE, PureSVD and MostPopular) is written to bench/results/synth/<key>/<generator>/, the summary
to bench/results/synth_report_<key>.json (key: ml-100k or ml1m). Both GAN variants reuse one Mult-VAE (the
same one the prior sampler decodes with). Every setting in ``SETTINGS`` that is not a protocol constant was
chosen on validation users carved from the training users (bench/synth_validation.py →
bench/results/synth_validation_<key>.json), never on the test users. ``--mia-seeds K`` adds the
membership-inference AUC of K further synthetic draws (seeds 2..K+1) per generator. torch runs with one
thread (shared 2-core machine).
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
import scipy.sparse as sp
import torch

from recgen.data import Interactions, heldout_users_split, read_given, read_interactions
from recgen.synth import BehaviourGAN, PopularitySampler, VAEPriorSampler, comparison_table, fidelity_report
from recgen.synth.report import holdout_rows
from recgen.synth.report_privacy import privacy
from recgen.synth.report_utility import real_baselines

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

RESULT_KEYS = {"ml-1m-lightgcnpp": "ml1m"}

#: per dataset: the protocol (test users), the GAN settings and the TSTR models' hyperparameters. Values
#: marked "val" were chosen on validation users (bench/results/synth_validation_<key>.json); the epochs of the
#: neural TSTR models are chosen by early stopping on the validation users when training on the real users, and
#: the same epochs are used when training on synthetic users (the TSTR models keep one configuration).
SETTINGS: dict[str, dict[str, Any]] = {
    "ml-100k": {"test_users": 200, "ae_hidden_dims": (300,), "ae_latent_dim": 64, "ae_epochs": 150,  # val
                "gan_epochs": 300, "temperature": 0.3, "ratio": 2,  # val
                "epochs_real": {"mult-vae": 71, "mult-dae": 126}, "puresvd_factors": 32},  # val
    "ml-1m-lightgcnpp": {"test_users": 1000, "ae_hidden_dims": (300,), "ae_latent_dim": 64, "ae_epochs": 100,  # val
                         "gan_epochs": 40, "temperature": 0.3, "ratio": 1,  # val (ratio: cost tie-break, see docs)
                         "epochs_real": {"mult-vae": 85, "mult-dae": 97}, "puresvd_factors": 64},  # val
}
NEURAL_SHAPES = {"mult-vae": {"hidden_dims": (300,), "latent_dim": 64}, "mult-dae": {"hidden_dims": (), "latent_dim": 200}}


def tstr_models(cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The TSTR recommenders with their overrides (one configuration for real and synthetic training)."""
    models: dict[str, dict[str, Any]] = {"ease": {"l2": 500.0}, "itemknn": {"k": 100}}
    for name, shape in NEURAL_SHAPES.items():
        models[name] = {**shape, "epochs": cfg["epochs_real"][name], "show_progress": False, "device": "cpu"}
    models["puresvd"] = {"factors": cfg["puresvd_factors"]}
    models["most-popular"] = {}
    return models


def load(dataset: str) -> Interactions:
    if dataset == "ml-100k":
        d = read_interactions(SHARED / "ml-100k" / "u.data")
        return Interactions(d.matrix, d.users, d.items).with_values(np.ones(d.nnz, dtype=np.float32))
    s = read_given(SHARED / "ml-1m-lightgcnpp")
    full = s.train.matrix.copy()
    for ev in (s.val, s.test):
        t = ev.target.tocoo()
        full = full + sp.csr_matrix((np.ones(t.nnz, np.float32), (ev.rows[t.row], t.col)), shape=full.shape)
    full.data[:] = 1.0
    return Interactions(full, s.train.users, s.train.items)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", choices=sorted(SETTINGS), default="ml-100k")
    ap.add_argument("--quick", action="store_true", help="a few epochs only (smoke run)")
    ap.add_argument("--generators", default="gan-critic,popularity,vae-prior,gan-energy")
    ap.add_argument("--mia-seeds", type=int, default=0, help="extra synthetic draws for the MIA AUC's spread")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = dict(SETTINGS[args.dataset])
    if args.quick:
        cfg.update(ae_epochs=5, gan_epochs=5, epochs_real={"mult-vae": 3, "mult-dae": 3})
    data = load(args.dataset)
    split = heldout_users_split(data, n_val_users=0, n_test_users=cfg["test_users"], fold_in=0.8, seed=98765)
    train, test = split.train, split.test
    n_syn = cfg["ratio"] * train.n_users
    print(f"{args.dataset}: {train.n_users} train users, {test.n_users} held-out users, {train.n_items} items; "
          f"{n_syn} synthetic users per generator ({cfg['ratio']}x)")
    models = tstr_models(cfg)
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    loads: dict[str, float] = {}

    def clock(label: str, t0: float, c0: float) -> None:
        timings[label], cpu[label] = time.perf_counter() - t0, time.process_time() - c0
        loads[label] = os.getloadavg()[0]

    t0, c0 = time.perf_counter(), time.process_time()
    real = real_baselines(train, test, models)
    clock("train_on_real", t0, c0)
    common = {"ae_hidden_dims": cfg["ae_hidden_dims"], "ae_latent_dim": cfg["ae_latent_dim"],
              "ae_epochs": cfg["ae_epochs"], "epochs": cfg["gan_epochs"], "temperature": cfg["temperature"],
              "show_progress": False, "device": "cpu", "seed": 0}
    gens: dict[str, Any] = {}
    names = args.generators.split(",")
    ae = None
    reports = {}
    mia_draws: dict[str, list[float]] = {}
    # results are aggregate metrics and plots, never data rows; they are named by a short key ("ml1m")
    key = RESULT_KEYS.get(args.dataset, args.dataset)
    out_root = ROOT / "bench" / "results" / "synth" / f"{key}{'_quick' if args.quick else ''}"
    out = ROOT / "bench" / "results" / f"synth_report_{key}{'_quick' if args.quick else ''}.json"
    for name in names:  # fit, sample and report one generator at a time (partial results survive)
        t0, c0 = time.perf_counter(), time.process_time()
        if name.startswith("gan-"):
            g = BehaviourGAN(discriminator=name[4:], **common)
            gens[name] = g.fit(train, autoencoder=ae)
            ae = g.autoencoder_
        elif name == "popularity":
            gens[name] = PopularitySampler().fit(train)
        elif name == "vae-prior":
            if ae is None:
                ae = BehaviourGAN(**common).fit(train).autoencoder_
            # same decoder and temperature as the GAN; no popularity calibration (a plain prior sampler)
            gens[name] = VAEPriorSampler.from_autoencoder(ae, train.user_counts()[train.user_counts() > 0],
                                                          temperature=cfg["temperature"])
        clock(f"fit_{name}", t0, c0)
        t0, c0 = time.perf_counter(), time.process_time()
        fake = gens[name].sample(n_syn, seed=1)
        clock(f"sample_{name}", t0, c0)
        t0, c0 = time.perf_counter(), time.process_time()
        rep = fidelity_report(train, fake, test, name=name, utility_models=models, real_results=real)
        clock(f"report_{name}", t0, c0)
        rep.write(out_root / name)
        reports[name] = rep
        if args.mia_seeds:
            t0, c0 = time.perf_counter(), time.process_time()
            held = holdout_rows(test)
            mia_draws[name] = [privacy(gens[name].sample(n_syn, seed=sd).matrix, train.matrix, held)["mia_auc_full"]
                               for sd in range(2, 2 + args.mia_seeds)]
            clock(f"mia_seeds_{name}", t0, c0)
        print(f"{name}: done (fit {timings[f'fit_{name}']:.0f} s, report {timings[f'report_{name}']:.0f} s)", flush=True)
        _dump(out, args, cfg, split, (timings, cpu, loads), reports, gens, mia_draws, done=False)
    print(comparison_table(reports))
    _dump(out, args, cfg, split, (timings, cpu, loads), reports, gens, mia_draws, done=True)
    print(f"wrote {out}")


def _dump(out: Path, args: Any, cfg: dict[str, Any], split: Any, clocks: tuple[dict[str, float], ...],
          reports: dict[str, Any], gens: dict[str, Any], mia_draws: dict[str, list[float]], *, done: bool) -> None:
    timings, cpu, loads = clocks
    hist = {n: g.history_[-1] for n, g in gens.items() if getattr(g, "history_", None)}
    result = {
        "dataset": args.dataset, "settings": cfg, "quick": args.quick, "complete": done, "split": split.meta["counts"],
        "machine": "2-core CPU dev box, shared with other jobs", "python": sys.version.split()[0],
        "torch": torch.__version__, "platform": platform.platform(), "timings_s": timings,
        "cpu_s": cpu, "loadavg_1min_after": loads,
        "mia_auc_full_other_draws": mia_draws,
        "reports": {n: r.to_dict() for n, r in reports.items()}, "last_epoch": hist,
        "calibration_jsd": {n: getattr(g, "calibration_", None) for n, g in gens.items()},
        "table": comparison_table(reports) if reports else "",
        "command": " ".join(["bench/synth_report.py", *sys.argv[1:]]),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=float) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
