"""Items similar to given items, from a model's learned item vectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from recgen.errors import ConfigError, check_k


def similar_items(model: Any, item_ids: Sequence[object], k: int = 10) -> tuple[list[list[str]], np.ndarray]:
    """The ``k`` items most similar to each of ``item_ids`` (raw ids), best first, and their cosines.

    Similarity is the cosine of the model's item vectors (``model.item_embeddings()``: the decoder's
    output weights for Mult-VAE / Mult-DAE / RecVAE / CDAE, the item codes for I-AutoRec). The item
    itself is never in its own list; ties go to the smaller item index. Returns (ids per query,
    cosines of shape (len(item_ids), k)).
    """
    model._check_fitted()
    emb_fn = getattr(model, "item_embeddings", None)
    try:
        emb = np.asarray(emb_fn(), dtype=np.float32) if callable(emb_fn) else None
    except NotImplementedError:
        emb = None
    if emb is None:
        raise ConfigError(f"model={getattr(model, 'name', type(model).__name__)!r} has no item embeddings; use an "
                          "autoencoder (mult-vae, recvae, cdae, autorec...) or recgen.serving.similar, which falls "
                          "back to other item representations.")
    n_items = emb.shape[0]
    k = check_k(k, n_items - 1)
    idx = model.items_.lookup(list(item_ids), what="item")
    unit = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    sims = unit[idx] @ unit.T                                               # (q, n_items)
    sims[np.arange(len(idx)), idx] = -np.inf
    order = np.lexsort((np.broadcast_to(np.arange(n_items), sims.shape), -sims), axis=1)[:, :k]
    ids = [model.items_.ids[o].tolist() for o in order]
    return ids, np.take_along_axis(sims, order, axis=1).astype(np.float32)
