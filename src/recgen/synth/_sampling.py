"""Sampling helpers shared by the generators: activity draws, rows from per-item logits, row hashes.

Every synthetic user gets an item count drawn from the real **empirical activity distribution**
(the counts of the training users, sampled with replacement), then that many distinct items drawn
**without replacement** from the generator's per-item probabilities ``softmax(logits / temperature)``
with the Gumbel-top-k trick (adding i.i.d. Gumbel noise to the log-probabilities and keeping the
``n`` largest is an exact draw without replacement, proportional to the probabilities).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch

from recgen.data.interactions import Interactions
from recgen.data.vocabulary import Vocabulary
from recgen.errors import ConfigError

#: rows decoded and sampled per chunk (bounds the dense (rows × n_items) block)
SAMPLE_CHUNK = 1024


def check_n_users(n_users: object) -> int:
    """Validate the ``n_users`` argument of ``sample``."""
    if isinstance(n_users, bool) or not isinstance(n_users, int | np.integer) or int(n_users) < 1:
        raise ConfigError(f"n_users={n_users!r} must be a positive integer; pass e.g. n_users=1000.")
    return int(n_users)


def check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= int(seed) < 2**63:
        raise ConfigError(f"seed={seed!r} must be a non-negative integer; pass e.g. seed=0.")
    return int(seed)


def draw_activity(counts: np.ndarray, n: int, rng: np.random.Generator, max_items: int) -> np.ndarray:
    """``n`` item counts from the real per-user ``counts``' empirical distribution (clipped to [1, max_items]).

    Stratified inverse-CDF draws: user ``j`` (in random order) gets the empirical quantile at
    ``(π_j + U_j) / n``, U ~ U(0, 1). Each count is marginally a draw from the empirical distribution
    (as sampling with replacement), but the set of ``n`` counts follows it far more closely (the
    KS distance to it is ≤ ~1/n instead of ~0.9/√n).
    """
    srt = np.sort(np.asarray(counts, dtype=np.int64))
    u = (rng.permutation(n) + rng.random(n)) / n
    return np.clip(srt[np.minimum((u * len(srt)).astype(np.int64), len(srt) - 1)], 1, max_items)


def gumbel_top_n(logits: torch.Tensor, counts: np.ndarray, generator: torch.Generator,
                 temperature: float = 1.0, exclude: sp.csr_matrix | None = None) -> sp.csr_matrix:
    """Binary CSR (B, n_items): row ``b`` holds ``counts[b]`` distinct items drawn without replacement
    from ``softmax(logits[b] / temperature)`` (items in ``exclude`` are never drawn)."""
    b, n_items = logits.shape
    u = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=torch.float32)
    expo = -torch.log(u.clamp_min(1e-20))                 # Exp(1) draws, > 0
    gumbel = -torch.log(expo.clamp_min(1e-20))            # Gumbel(0, 1)
    keys = logits.float() / temperature + gumbel
    if exclude is not None and exclude.nnz:
        coo = exclude.tocoo()
        keys[torch.from_numpy(coo.row.astype(np.int64)), torch.from_numpy(coo.col.astype(np.int64))] = -torch.inf
    k = int(min(n_items, counts.max())) if len(counts) else 0
    top = torch.topk(keys, k, dim=1).indices.cpu().numpy() if k else np.zeros((b, 0), dtype=np.int64)
    keep = np.arange(k)[None, :] < counts[:, None]
    cols = top[keep]
    indptr = np.r_[0, np.cumsum(keep.sum(axis=1))]
    out = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), cols, indptr), shape=(b, n_items))
    out.sort_indices()
    return out


def rows_from_logits(logits_fn: Callable[[int, int], torch.Tensor], counts: np.ndarray, n_items: int,
                     generator: torch.Generator, temperature: float) -> sp.csr_matrix:
    """Stack :func:`gumbel_top_n` over chunks; ``logits_fn(start, stop)`` gives the chunk's logits."""
    parts = []
    for start in range(0, len(counts), SAMPLE_CHUNK):
        stop = min(start + SAMPLE_CHUNK, len(counts))
        parts.append(gumbel_top_n(logits_fn(start, stop), counts[start:stop], generator, temperature))
    return sp.vstack(parts, format="csr") if parts else sp.csr_matrix((0, n_items), dtype=np.float32)


def synthetic_interactions(rows: sp.csr_matrix, items: Vocabulary, prefix: str = "synth-") -> Interactions:
    """Wrap binary rows as :class:`Interactions` over the real item vocabulary, users ``synth-0..``."""
    width = len(str(max(rows.shape[0] - 1, 0)))
    users = Vocabulary(f"{prefix}{i:0{width}d}" for i in range(rows.shape[0]))
    return Interactions(rows, users, items)


def row_hashes(m: sp.csr_matrix) -> np.ndarray:
    """64-bit hash of each row's item set (values ignored), for exact-copy detection without the rows."""
    m = sp.csr_matrix(m)
    m.sort_indices()
    out = np.empty(m.shape[0], dtype=np.uint64)
    ind = m.indices.astype(np.int64)
    for r in range(m.shape[0]):
        digest = hashlib.blake2b(ind[m.indptr[r]:m.indptr[r + 1]].tobytes(), digest_size=8).digest()
        out[r] = np.frombuffer(digest, dtype=np.uint64)[0]
    return out
