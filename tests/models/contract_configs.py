"""Per-model settings for the contract suite (tests/models/test_contract.py).

Every model in ``recgen.models.available_models()`` runs the contract suite. Add an entry to
``FAST_OVERRIDES`` when the defaults are too slow or too large for the tiny planted-blocks data
(120 users × 60 items): e.g. a neural model gets a few epochs and small layers. A missing entry
means the model's defaults. Keep each model's whole contract run to a few seconds.
"""

from __future__ import annotations

from typing import Any

#: model name → config overrides used by every contract test
FAST_OVERRIDES: dict[str, dict[str, Any]] = {
    # autoencoders (mult-vae, mult-dae, ae): small layers, a few epochs, one thread (tests run on a busy box)
    "mult-vae": {"epochs": 30, "batch_size": 32, "lr": 1e-2, "hidden_dims": (32,), "latent_dim": 8,
                 "total_anneal_steps": 100, "show_progress": False, "num_threads": 1},
    "mult-dae": {"epochs": 30, "batch_size": 32, "lr": 1e-2, "hidden_dims": (32,), "latent_dim": 8,
                 "show_progress": False, "num_threads": 1},
    "ae": {"epochs": 30, "batch_size": 32, "lr": 1e-2, "latent_dim": 16, "show_progress": False, "num_threads": 1},
    "ease": {"l2": 10.0},
    "itemknn": {"k": 20},
    "puresvd": {"factors": 6},
    # content / hybrid (no features in the contract: item content = its training column; hybrid = Mult-DAE)
    "content-ae": {"epochs": 20, "batch_size": 16, "lr": 1e-2, "hidden_dim": 32, "latent_dim": 8,
                   "show_progress": False, "num_threads": 1},
    "content-knn": {"k": 20},
    "hybrid-ae": {"epochs": 30, "batch_size": 32, "lr": 1e-2, "latent_dim": 16, "show_progress": False,
                  "num_threads": 1},
    # RecVAE / CDAE / AutoRec / latent kNN (AutoRec on 0/1 data needs weight on the unobserved zeros)
    "recvae": {"epochs": 8, "batch_size": 32, "lr": 1e-2, "hidden_dim": 32, "latent_dim": 8, "encoder_layers": 2,
               "n_enc_epochs": 2, "show_progress": False, "num_threads": 1},
    "cdae": {"epochs": 20, "batch_size": 32, "lr": 1e-2, "hidden_dim": 16, "show_progress": False, "num_threads": 1},
    "autorec": {"epochs": 20, "batch_size": 16, "lr": 1e-2, "hidden_dim": 16, "l2": 0.01, "unobserved_weight": 0.2,
                "show_progress": False, "num_threads": 1},
    "latent-knn": {"k": 20, "base_overrides": ("epochs=30", "batch_size=32", "lr=0.01", "hidden_dims=[32]",
                                                "latent_dim=8", "total_anneal_steps=100", "show_progress=false",
                                                "num_threads=1")},
    # CFGAN: tiny G / D, lr 1e-2, ZR only (converges in fewer updates than ZR+PM on this tiny matrix)
    "cfgan": {"epochs": 40, "batch_size": 32, "g_batch_size": 16, "g_steps": 2, "lr": 1e-2, "d_lr": 1e-2,
              "g_hidden": (32,), "d_hidden": (16,), "scheme": "zr", "show_progress": False, "num_threads": 1},
}

#: models that give every user the same ranking; instead of recovering the planted blocks they must
#: rank items by training popularity
NON_PERSONALISED: set[str] = {"most-popular"}

# models with per-user parameters: a known user is scored with them (CDAE's user node, I-AutoRec's decoder row,
# latent-kNN never its own neighbour), so a seen user's scores may differ from the fold-in
# of the same history; for every other model they must be identical
PER_USER_PARAMETERS: set[str] = {"cdae", "autorec", "latent-knn"}
