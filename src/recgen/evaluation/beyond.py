"""Beyond-accuracy metrics computed from the recommendation lists (``EvalResult.topk_items``).

- ``coverage@k``: share of catalogue items recommended to at least one user in their top-k.
- ``popularity@k``: average recommended popularity (ARP; Abdollahpouri et al. 2019): per user, the mean
  training popularity of the items in their top-k; the summary is the mean over users.
- ``gini@k``: Gini index of exposure: how often each of the ``n_items`` catalogue items appears in
  the users' top-k lists (items never recommended count with 0). 0 = every item shown equally often,
  → 1 = all exposure on one item.

Empty slots (index ``-1``, when a user had fewer than k rankable items) are ignored.
"""

from __future__ import annotations

import numpy as np

from recgen.errors import DataFormatError


def _lists(topk_items: np.ndarray, k: int) -> np.ndarray:
    items = np.asarray(topk_items)
    if items.ndim != 2 or k > items.shape[1]:
        raise DataFormatError(
            f"topk_items must be (n_users, K) with K >= k={k}; got shape {items.shape}. Evaluate with a larger k."
        )
    return items[:, :k]


def exposure(topk_items: np.ndarray, k: int, n_items: int) -> np.ndarray:
    """How many users have each item in their top-k (int64, length ``n_items``)."""
    items = _lists(topk_items, k).ravel()
    return np.bincount(items[items >= 0], minlength=n_items).astype(np.int64)


def coverage(topk_items: np.ndarray, k: int, n_items: int) -> float:
    """Share of the ``n_items`` catalogue items that appear in at least one user's top-k."""
    return float(np.count_nonzero(exposure(topk_items, k, n_items)) / n_items)


def gini(values: np.ndarray) -> float:
    """Gini index of non-negative values: Σ (2i − n − 1) x_(i) / (n Σ x) with x sorted ascending, i = 1..n.

    0 for equal values; (n − 1) / n when a single entry holds everything; 0 for an all-zero vector.
    """
    x = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if x.size == 0:
        raise DataFormatError("gini needs at least one value; got an empty array.")
    if np.any(x < 0):
        raise DataFormatError(f"gini needs non-negative values; got minimum {x[0]}.")
    total = x.sum()
    if total == 0:
        return 0.0
    n = x.size
    i = np.arange(1, n + 1, dtype=np.float64)
    return float(np.sum((2 * i - n - 1) * x) / (n * total))


def exposure_gini(topk_items: np.ndarray, k: int, n_items: int) -> float:
    """Gini of item exposure in the top-k lists over all ``n_items`` catalogue items."""
    return gini(exposure(topk_items, k, n_items))


def recommended_popularity(topk_items: np.ndarray, k: int, item_popularity: np.ndarray) -> np.ndarray:
    """Per user: mean ``item_popularity`` of the items in their top-k (NaN for an empty list)."""
    items = _lists(topk_items, k)
    pop = np.asarray(item_popularity, dtype=np.float64).ravel()
    if items.size and items.max() >= len(pop):
        raise DataFormatError(
            f"item_popularity has {len(pop)} entries but the lists contain item {int(items.max())}; pass one "
            "popularity per catalogue item (e.g. training counts)."
        )
    valid = items >= 0
    vals = np.where(valid, pop[np.where(valid, items, 0)], 0.0)
    n = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, vals.sum(axis=1) / n, np.nan)
