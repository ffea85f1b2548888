"""Temperature × popularity-calibration sweep of BehaviourGAN (WGAN-GP critic) on ML-100K.

    .venv/bin/python bench/synth_temperature_sweep.py

Same data and held-out-users split as bench/synth_report.py (200 test users, seed 98765). One GAN is
fitted (ae_epochs 150, epochs 300, calibration off); then for each temperature τ ∈ {0.5, 0.7, 1.0}
and calibration rounds ∈ {0, 5}: popularity JSD, Gini, co-occurrence lift correlation and the EASE
TSTR NDCG@20 ratio. NOTE: the ratio is measured on the test users, so choosing τ from this sweep is a
selection on test (flagged in docs/benchmarks.d/70-synthetic.md). Writes
bench/results/synth_temperature_sweep_ml-100k.json.
"""

from __future__ import annotations

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


def main() -> None:
    torch.set_num_threads(1)
    split = heldout_users_split(load("ml-100k"), n_val_users=0, n_test_users=200, fold_in=0.8, seed=98765)
    tr, te = split.train, split.test
    real = train_and_evaluate("ease", {"l2": 500.0}, tr, te).summary["ndcg@20"]
    t0 = time.perf_counter()
    g = BehaviourGAN(ae_epochs=150, epochs=300, show_progress=False, device="cpu", calibration_rounds=0).fit(tr)
    rows = []
    print("| τ | calibration rounds | popularity JSD | Gini syn / real | lift corr | EASE TSTR ratio |")
    print("|---|---|---|---|---|---|")
    for tau in (0.5, 0.7, 1.0):
        for rounds in (0, 5):
            g.config = dataclasses.replace(g.config, temperature=tau, calibration_rounds=rounds)
            g._calibrate(tr.item_counts().astype(float))
            f = g.sample(tr.n_users, seed=1)
            m, c = marginals(tr.matrix, f.matrix), cooccurrence(tr.matrix, f.matrix)
            ratio = train_and_evaluate("ease", {"l2": 500.0}, f, te).summary["ndcg@20"] / real
            rows.append({"temperature": tau, "calibration_rounds": rounds, "popularity_jsd": m["popularity_jsd"],
                         "gini_synthetic": m["gini_synthetic"], "gini_real": m["gini_real"],
                         "lift_corr": c["lift_corr"], "ease_tstr_ratio": ratio})
            print(f"| {tau} | {rounds} | {m['popularity_jsd']:.4f} | {m['gini_synthetic']:.3f} / {m['gini_real']:.3f} "
                  f"| {c['lift_corr']:.3f} | {ratio:.3f} |", flush=True)
    out = ROOT / "bench" / "results" / "synth_temperature_sweep_ml-100k.json"
    out.write_text(json.dumps({"rows": rows, "real_ease_ndcg@20": real, "seconds": time.perf_counter() - t0,
                               "machine": "2-core CPU dev box, shared with other jobs"}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
