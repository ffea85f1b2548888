"""PureSVD against numpy's full SVD."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recgen.data import Interactions
from recgen.errors import ConfigError
from recgen.models.puresvd import PureSVD


def test_scores_equal_x_v_vt_from_full_svd():
    x = (np.random.default_rng(5).random((30, 12)) < 0.4).astype(np.float64)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    v = vt[:4].T
    model = PureSVD(factors=4).fit(Interactions(sp.csr_matrix(x)))
    np.testing.assert_allclose(model.singular_values_, s[:4], rtol=1e-5)
    # the factors agree up to the sign of each column
    signs = np.sign(np.sum(model.item_factors_ * v, axis=0))
    np.testing.assert_allclose(model.item_factors_ * signs, v, atol=1e-5)
    hist = x[:6]
    np.testing.assert_allclose(model.score(sp.csr_matrix(hist)), hist @ v @ v.T, atol=1e-5)


def test_rank_too_large_is_a_config_error():
    x = sp.csr_matrix(np.eye(5, dtype=np.float32))
    with pytest.raises(ConfigError, match="factors=5.*between 1 and 4"):
        PureSVD(factors=5).fit(Interactions(x))
    with pytest.raises(ConfigError, match="factors=0"):
        PureSVD(factors=0)
