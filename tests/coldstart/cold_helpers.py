"""Planted cold-start data: content decides who likes an item; a user segment decides what a user likes.

Users and items belong to one of 3 blocks (user u → u % 3, item i → i % 3); users interact only with a
random share of their block's items. Item features: the tag ``b<block>`` plus two noise tags drawn from
ten shared ones (so only the block tag carries signal). User features: ``occupation`` = ``job<block>``
(the planted segment), ``gender`` random (M/F), ``age`` random in [18, 60).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from testkit import planted_blocks

from recgen.data import Interactions
from recgen.data.features import Features

N_USERS, N_ITEMS, N_BLOCKS = 150, 90, 3

# fast settings for the planted data (seconds each, one thread)
FAST = {
    "content-ae": {"epochs": 40, "batch_size": 16, "lr": 1e-2, "latent_dim": 8, "hidden_dim": 16,
                   "show_progress": False, "num_threads": 1, "min_segment_users": 5},
    "content-knn": {"k": 30, "min_segment_users": 5},
    "hybrid-ae": {"epochs": 30, "batch_size": 32, "lr": 1e-2, "latent_dim": 16, "show_progress": False,
                  "num_threads": 1, "min_segment_users": 5},
}


def planted(seed: int = 0):
    """(full Interactions, user blocks, item blocks, item Features, user Features)."""
    full, ub, ib = planted_blocks(n_users=N_USERS, n_items=N_ITEMS, n_blocks=N_BLOCKS, p_in=0.5, seed=seed)
    rng = np.random.default_rng(seed + 1)
    items = pd.DataFrame({"item": full.items.ids,
                          "tags": ["|".join([f"b{ib[i]}", *(f"n{t}" for t in rng.choice(10, 2, replace=False))])
                                   for i in range(N_ITEMS)]})
    users = pd.DataFrame({"user": full.users.ids, "occupation": [f"job{b}" for b in ub],
                          "gender": rng.choice(["M", "F"], N_USERS), "age": rng.integers(18, 60, N_USERS)})
    item_f = Features.from_frame(items, "item", multi=["tags"])
    user_f = Features.from_frame(users, "user", categorical=["occupation", "gender"], bins={"age": [25, 35, 45]})
    return full, ub, ib, item_f, user_f


def without_items(data: Interactions, cold: np.ndarray) -> Interactions:
    """``data`` with every interaction on the ``cold`` (bool mask) items removed; columns kept."""
    m = data.matrix.tocoo()
    keep = ~cold[m.col]
    out = sp.csr_matrix((m.data[keep], (m.row[keep], m.col[keep])), shape=m.shape)
    return Interactions(out, data.users, data.items)
