"""Temperature × popularity-calibration sweep of BehaviourGAN (WGAN-GP critic) on ML-100K, selected on validation.

    .venv/bin/python bench/synth_temperature_sweep.py            # full: ae_epochs 150, epochs 300
    .venv/bin/python bench/synth_temperature_sweep.py --quick    # ae_epochs 40, epochs 80 (a few minutes)

Split: ``heldout_users_split(n_val_users=100, n_test_users=200, fold_in=0.8, seed=98765)`` on ML-100K.
The 200 test users are the same users as in bench/synth_report.py (the last 200 of the seed-98765
permutation); the 100 validation users come out of that script's training users. One GAN is fitted on
the training users (calibration off); then for each temperature τ ∈ {0.5, 0.7, 1.0} and calibration
rounds ∈ {0, 5}: popularity JSD, Gini, co-occurrence lift correlation and the EASE TSTR NDCG@20 ratio on
the **validation** users. τ (and the rounds) are selected by the validation ratio only; the test ratio
is computed afterwards and reported for every row, never used for the choice. Writes
bench/results/synth_temperature_sweep_ml-100k.json (``--quick``: ..._ml-100k_quick.json).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from synth_report import load  # noqa: E402

from recgen.data import heldout_users_split  # noqa: E402
from recgen.synth import BehaviourGAN  # noqa: E402
from recgen.synth.report_marginals import cooccurrence, marginals  # noqa: E402
from recgen.synth.report_utility import train_and_evaluate  # noqa: E402

EASE = ("ease", {"l2": 500.0})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="ae_epochs 40, epochs 80 instead of 150 / 300")
    ap.add_argument("--n-val-users", type=int, default=100)
    args = ap.parse_args()
    torch.set_num_threads(1)
    ae_epochs, epochs = (40, 80) if args.quick else (150, 300)
    split = heldout_users_split(load("ml-100k"), n_val_users=args.n_val_users, n_test_users=200, fold_in=0.8,
                                seed=98765)
    tr, va, te = split.train, split.val, split.test
    real_val = train_and_evaluate(*EASE, tr, va).summary["ndcg@20"]
    real_test = train_and_evaluate(*EASE, tr, te).summary["ndcg@20"]
    t0 = time.perf_counter()
    g = BehaviourGAN(ae_epochs=ae_epochs, epochs=epochs, show_progress=False, device="cpu",
                     calibration_rounds=0).fit(tr)
    rows = []
    print(f"train {tr.n_users} users, val {va.n_users}, test {te.n_users}; ae_epochs {ae_epochs}, epochs {epochs}")
    print("| τ | calibration rounds | popularity JSD | Gini syn / real | lift corr | EASE TSTR ratio val | (test) |")
    print("|---|---|---|---|---|---|---|")
    for tau in (0.5, 0.7, 1.0):
        for rounds in (0, 5):
            g.config = dataclasses.replace(g.config, temperature=tau, calibration_rounds=rounds)
            g._calibrate(tr.item_counts().astype(float))
            f = g.sample(tr.n_users, seed=1)
            m, c = marginals(tr.matrix, f.matrix), cooccurrence(tr.matrix, f.matrix)
            est_val = train_and_evaluate(*EASE, f, va).summary["ndcg@20"] / real_val
            est_test = train_and_evaluate(*EASE, f, te).summary["ndcg@20"] / real_test
            rows.append({"temperature": tau, "calibration_rounds": rounds, "popularity_jsd": m["popularity_jsd"],
                         "gini_synthetic": m["gini_synthetic"], "gini_real": m["gini_real"],
                         "lift_corr": c["lift_corr"], "ease_tstr_ratio_val": est_val,
                         "ease_tstr_ratio_test": est_test})
            print(f"| {tau} | {rounds} | {m['popularity_jsd']:.4f} | {m['gini_synthetic']:.3f} / {m['gini_real']:.3f} "
                  f"| {c['lift_corr']:.3f} | {est_val:.3f} | ({est_test:.3f}) |", flush=True)
    best = max(rows, key=lambda r: r["ease_tstr_ratio_val"])
    print(f"selected on validation: τ = {best['temperature']}, calibration rounds {best['calibration_rounds']} "
          f"(val ratio {best['ease_tstr_ratio_val']:.3f}; test ratio {best['ease_tstr_ratio_test']:.3f})")
    out = ROOT / "bench" / "results" / f"synth_temperature_sweep_ml-100k{'_quick' if args.quick else ''}.json"
    out.write_text(json.dumps({
        "split": {"protocol": "heldout_users", "n_val_users": args.n_val_users, "n_test_users": 200,
                  "fold_in": 0.8, "seed": 98765, "n_train_users": tr.n_users},
        "gan": {"ae_epochs": ae_epochs, "epochs": epochs, "discriminator": "critic"},
        "selection": "max EASE TSTR NDCG@20 ratio on the validation users; test reported, not used",
        "selected": {"temperature": best["temperature"], "calibration_rounds": best["calibration_rounds"]},
        "rows": rows, "real_ease_ndcg@20_val": real_val, "real_ease_ndcg@20_test": real_test,
        "seconds": time.perf_counter() - t0, "command": " ".join(["bench/synth_temperature_sweep.py", *sys.argv[1:]]),
        "machine": "2-core CPU dev box, shared with other jobs"}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
