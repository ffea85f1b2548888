"""Deterministic top-k over dense score blocks, with excluded items removed.

Tie rule (documented and tested): items are ordered by score, highest first; among equal scores
the **lower item index comes first**. This holds both inside the list and at its boundary (when
more items tie for the last places than there are places, the lowest indices are kept), so the
result never depends on ``torch.topk``'s unspecified order among ties or on the thread count.

Implementation: one ``torch.topk`` of ``k + 1`` (``sorted=True``); a row has a boundary tie iff its
(k+1)-th value equals its k-th. Rows without one keep topk's k items; those with
equal neighbours inside the list are reordered by (score desc, index asc) with two small stable sorts. Rows with a boundary tie
(e.g. popularity counts, all-zero rows) keep their items scoring above the k-th value and take the
lowest-index items tied at it (one more ``topk`` over an index key): O(n_items) per row, no full sort.

Excluded items get ``-inf`` before ranking. A slot that could only be filled by a ``-inf`` item
(fewer than ``k`` rankable items) holds index ``-1`` and value ``-inf``: excluded items are never
recommended. NaN scores are treated as ``-inf`` (with a warning), since ``torch.topk`` ranks NaN
above everything.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
import torch

from recgen.errors import DataFormatError, check_k

log = logging.getLogger(__name__)


def as_float_tensor(scores: torch.Tensor | np.ndarray) -> tuple[torch.Tensor, bool]:
    """A float tensor copy of ``scores`` that may be modified in place, and whether the input was numpy."""
    if isinstance(scores, torch.Tensor):
        t = scores.detach()
        if not t.is_floating_point():
            t = t.float()
        return t.clone(memory_format=torch.contiguous_format), False
    arr = np.asarray(scores)
    if arr.ndim != 2:
        raise DataFormatError(f"scores must be a 2-d array (n_users, n_items); got shape {arr.shape}.")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32)
    return torch.from_numpy(np.array(arr, copy=True, order="C")), True


def apply_exclude(scores: torch.Tensor, exclude: sp.spmatrix | None) -> torch.Tensor:
    """Set ``scores[u, i] = -inf`` for every stored entry of ``exclude`` (in place; returns ``scores``)."""
    if exclude is None:
        return scores
    ex = sp.csr_matrix(exclude)
    if ex.shape != tuple(scores.shape):
        raise DataFormatError(
            f"exclude has shape {ex.shape} but scores have shape {tuple(scores.shape)}; pass the exclude rows "
            "of the same users over the same items."
        )
    if ex.nnz:
        rows = np.repeat(np.arange(ex.shape[0], dtype=np.int64), np.diff(ex.indptr))
        flat = torch.from_numpy(rows * ex.shape[1] + ex.indices.astype(np.int64)).to(scores.device)
        scores.view(-1).index_fill_(0, flat, float("-inf"))
    return scores


def _order_rows(idx: torch.Tensor, vals: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Within runs of equal values of value-sorted rows, put lower item indices first.

    ``vals`` is sorted descending along each row, so equal values are contiguous: the key
    ``run number * n + index`` is unique and one sort of it gives (value desc, index asc).
    """
    run = torch.cumsum(torch.ne(vals[:, 1:], vals[:, :-1]), dim=1)
    run = torch.cat([torch.zeros_like(run[:, :1]), run], dim=1)
    span = int(idx.max()) + 2 if idx.numel() else 1
    order = torch.argsort(run * span + idx, dim=1)
    return torch.gather(idx, 1, order), torch.gather(vals, 1, order)


def _boundary_ties(s: torch.Tensor, idx: torch.Tensor, vals: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rebuild rows whose k-th value ``t`` is shared by items outside the list.

    The ``g`` items scoring above ``t`` are the first ``g`` entries of topk's (value-sorted) output;
    the other ``k - g`` places go to the lowest-index items scoring exactly ``t``, found with one
    ``topk`` over the key ``n_items - index`` (0 for items not equal to ``t``).
    """
    n, k = idx.shape
    m = int(s.shape[1])
    t = vals[:, k - 1:k]
    g = (vals > t).sum(dim=1, keepdim=True)  # < k by construction
    dtype = torch.float32 if m < 2**24 else torch.float64
    key = torch.arange(m, 0, -1, dtype=dtype, device=s.device).expand(n, m)
    key = torch.where(s == t, key, torch.zeros((), dtype=dtype, device=s.device))
    first_tied = torch.topk(key, k, dim=1, sorted=True).indices  # lowest tied indices first
    j = torch.arange(k, device=s.device).expand(n, k)
    from_tied = torch.gather(first_tied, 1, (j - g).clamp(min=0))
    new_idx = torch.where(j < g, idx, from_tied)
    new_vals = torch.where(j < g, vals, t.expand(n, k))
    return new_idx, new_vals


def topk_tensor(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Deterministic top-``k`` of a float tensor (may be modified: NaN → -inf). Returns (idx int64, vals)."""
    n_items = int(scores.shape[1])
    # cheap NaN screen: a row sum is NaN if the row holds a NaN (or both infinities); then check exactly
    if bool(torch.isnan(scores.sum(dim=1)).any()):
        nan = torch.isnan(scores)
        if bool(nan.any()):
            log.warning("scores contain %d NaN values; they are ranked last (treated as -inf).", int(nan.sum()))
            scores.masked_fill_(nan, float("-inf"))
        del nan
    # one extra slot tells whether more than k items reach the k-th value (a boundary tie)
    extra = 1 if k < n_items else 0
    vals, idx = torch.topk(scores, k + extra, dim=1, largest=True, sorted=True)
    if extra:
        tied = torch.nonzero(vals[:, k] == vals[:, k - 1]).flatten()
        vals, idx = vals[:, :k].contiguous(), idx[:, :k].contiguous()
    else:
        tied = torch.zeros(0, dtype=torch.int64)
    if 2 * len(tied) > len(scores):  # mostly tied (e.g. popularity counts): redo every row, no row copy
        idx, vals = _boundary_ties(scores, idx, vals)  # (correct for untied rows too)
    elif len(tied):
        idx[tied], vals[tied] = _boundary_ties(scores[tied], idx[tied], vals[tied])
    # topk's output is sorted by value; only rows with equal neighbours need the index tie rule
    inner = torch.nonzero((vals[:, 1:] == vals[:, :-1]).any(dim=1)).flatten()
    if len(inner):
        idx[inner], vals[inner] = _order_rows(idx[inner], vals[inner])
    idx = idx.masked_fill(vals == float("-inf"), -1)
    return idx, vals


def topk(scores: torch.Tensor | np.ndarray, k: int, exclude: sp.spmatrix | None = None
         ) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` items per row, excluded items removed, ties broken by lower item index.

    Parameters
    ----------
    scores : torch.Tensor or numpy.ndarray, shape (n, n_items)
        Higher is better. Not modified.
    k : int
        List length, ``1 <= k <= n_items``.
    exclude : scipy.sparse matrix (n, n_items) or None
        Stored entries are removed from the ranking.

    Returns
    -------
    (indices, values) : numpy arrays (n, k), ``int64`` and the scores' float dtype. Slots that no
    rankable item can fill hold index ``-1`` and value ``-inf``.
    """
    t, _ = as_float_tensor(scores)
    if t.ndim != 2:
        raise DataFormatError(f"scores must be 2-d (n_users, n_items); got shape {tuple(t.shape)}.")
    k = check_k(k, int(t.shape[1]))
    apply_exclude(t, exclude)
    idx, vals = topk_tensor(t, k)
    return idx.cpu().numpy(), vals.cpu().numpy()
