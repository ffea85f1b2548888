"""topk: exclusion, the tie rule (score desc, lower index first), empty slots, input types."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from eval_helpers import csr

from recgen.errors import ConfigError, DataFormatError
from recgen.evaluation import topk


def reference_topk(scores: np.ndarray, k: int) -> np.ndarray:
    """Full lexsort per row: score desc, then index asc."""
    n, m = scores.shape
    out = np.empty((n, k), dtype=np.int64)
    for u in range(n):
        order = np.lexsort((np.arange(m), -scores[u]))
        out[u] = order[:k]
    return out


def test_ties_lower_index_first_inside_and_at_boundary():
    s = np.array([[1, 3, 3, 2, 3, 0]], dtype=np.float32)
    # items 1, 2, 4 tie at 3: lower index first; k=2 keeps the two lowest tied indices
    assert topk(s, 2)[0].tolist() == [[1, 2]]
    assert topk(s, 4)[0].tolist() == [[1, 2, 4, 3]]
    idx, vals = topk(s, 6)
    assert idx.tolist() == [[1, 2, 4, 3, 0, 5]]
    assert vals.tolist() == [[3, 3, 3, 2, 1, 0]]


def test_all_equal_scores_give_index_order_reproducibly():
    s = np.zeros((3, 50), dtype=np.float32)
    for _ in range(3):
        idx, _ = topk(s, 10)
        assert (idx == np.arange(10)).all()


@pytest.mark.parametrize("k", [1, 5, 17, 40])
def test_matches_full_lexsort_on_heavily_tied_random_scores(k):
    rng = np.random.default_rng(3)
    s = rng.integers(0, 4, size=(60, 40)).astype(np.float32)  # many ties everywhere
    s[::7] = rng.standard_normal((len(s[::7]), 40)).astype(np.float32)  # and some tie-free rows
    idx, vals = topk(s, k)
    ref = reference_topk(s, k)
    assert (idx == ref).all()
    assert (vals == np.take_along_axis(s, ref, axis=1)).all()


def test_excluded_top_item_is_never_recommended():
    s = np.array([[10.0, 1, 2, 3], [0, 5, 9, 1]], dtype=np.float32)
    ex = csr([[0], [2, 1]], 4)
    idx, _ = topk(s, 2, ex)
    assert idx.tolist() == [[3, 2], [3, 0]]
    assert s[0, 0] == 10.0  # input not modified


def test_fewer_rankable_items_than_k_gives_empty_slots():
    s = np.ones((1, 4), dtype=np.float32)
    idx, vals = topk(s, 4, csr([[1, 2]], 4))
    assert idx.tolist() == [[0, 3, -1, -1]]
    assert np.isneginf(vals[0, 2:]).all()


def test_nan_ranked_last_and_torch_input():
    s = torch.tensor([[0.5, float("nan"), 0.2, 0.9]])
    idx, vals = topk(s, 3)
    assert idx.tolist() == [[3, 0, 2]]
    assert torch.isnan(s[0, 1])  # caller's tensor untouched
    idx2, _ = topk(np.array([[1, 2, 3]]), 1)  # integer input is accepted
    assert idx2.tolist() == [[2]] and idx2.dtype == np.int64


def test_bad_arguments_name_the_problem():
    s = np.zeros((2, 5), dtype=np.float32)
    with pytest.raises(ConfigError, match="k=6"):
        topk(s, 6)
    with pytest.raises(DataFormatError, match="exclude has shape"):
        topk(s, 2, csr([[0]], 5))


def test_torch_and_numpy_inputs_agree_including_non_contiguous():
    import scipy.sparse as sp

    s = torch.rand(50, 30, generator=torch.Generator().manual_seed(0)).T  # (30, 50), non-contiguous
    ex = sp.random(30, 50, density=0.3, format="csr", random_state=0)
    i_t, v_t = topk(s, 5, ex)
    i_n, v_n = topk(s.numpy().copy(), 5, ex)
    assert (i_t == i_n).all() and (v_t == v_n).all()
