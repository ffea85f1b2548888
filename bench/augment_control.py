"""Control for bench/augment.py: is Mult-VAE's gain from synthetic users only the extra updates?

    .venv/bin/python bench/augment_control.py

Mult-VAE is trained for a fixed number of epochs, so adding 50 % more (synthetic) users also gives it
50 % more updates. This trains Mult-VAE on the real training data only, with epochs × 1.5 (the same
number of updates as the "+synthetic users" condition), on the same split, and prints its NDCG@20 with a
95 % bootstrap CI. Writes bench/results/augment_control_ml-100k.json.

This reproduces the ML-100K number published first. ``bench/augment.py`` now runs the same control inside
the experiment, for every dataset and ratio, with a paired test of the augmented run against it (and
writes its own augment_control_<key>.json, which for ML-100K replaces this script's file).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from augment import SETTINGS  # noqa: E402
from synth_report import load  # noqa: E402

from recgen.data import random_split  # noqa: E402
from recgen.evaluation import evaluate  # noqa: E402
from recgen.models.registry import create_model  # noqa: E402


def main() -> None:
    torch.set_num_threads(1)
    split = random_split(load("ml-100k"), val_ratio=0.0, test_ratio=0.2, seed=98765)
    train = split.train.with_values(split.train.matrix.data * 0 + 1)
    epochs = int(SETTINGS["ml-100k"]["vae_epochs"] * 1.5)
    est = create_model("mult-vae", epochs=epochs, hidden_dims=(300,), latent_dim=64, show_progress=False,
                       device="cpu").fit(train)
    res = evaluate(est, split.test, ks=(20,), metrics=("ndcg",))
    mean, lo, hi = res.ci("ndcg@20")
    print(f"mult-vae real only, {epochs} epochs: NDCG@20 {mean:.4f} [{lo:.4f}, {hi:.4f}]")
    out = ROOT / "bench" / "results" / "augment_control_ml-100k.json"
    out.write_text(json.dumps({"epochs": epochs, "ndcg@20": mean, "ci": [lo, hi],
                               "machine": "2-core CPU dev box, shared with other jobs"}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
