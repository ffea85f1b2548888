"""EASE maths: the closed form against brute force and against its defining optimisation problem."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from testkit import planted_blocks

from recgen.data import Interactions
from recgen.errors import ConfigError
from recgen.models.ease import EASE, ease_memory_bytes


def _random_binary(n_users: int, n_items: int, p: float, seed: int) -> np.ndarray:
    x = (np.random.default_rng(seed).random((n_users, n_items)) < p).astype(np.float64)
    x[0] = 1.0  # every item has at least one interaction
    return x


def test_closed_form_equals_brute_force_inverse():
    x = _random_binary(40, 9, 0.35, seed=3)
    lam = 2.5
    p = np.linalg.inv(x.T @ x + lam * np.eye(9))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    model = EASE(l2=lam).fit(Interactions(sp.csr_matrix(x)))
    np.testing.assert_allclose(model.weights_, b, rtol=1e-5, atol=1e-6)
    rows = sp.csr_matrix(x[:7])
    np.testing.assert_allclose(model.score(rows), x[:7] @ b, rtol=1e-5, atol=1e-6)


def test_b_solves_the_constrained_ridge_problem_column_by_column():
    """B = argmin ‖X − XB‖² + λ‖B‖² s.t. diag(B) = 0: each column j is a ridge regression of x_j on the others."""
    x = _random_binary(25, 6, 0.5, seed=7)
    lam = 4.0
    model = EASE(l2=lam).fit(Interactions(sp.csr_matrix(x)))
    for j in range(6):
        others = [i for i in range(6) if i != j]
        a = x[:, others]
        b_j = np.linalg.solve(a.T @ a + lam * np.eye(5), a.T @ x[:, j])
        np.testing.assert_allclose(model.weights_[others, j], b_j, rtol=1e-5, atol=1e-6)
        assert model.weights_[j, j] == 0.0
    # and it is a minimum: perturbing any off-diagonal weight raises the objective
    def objective(b):
        return np.sum((x - x @ b) ** 2) + lam * np.sum(b**2)
    best = objective(model.weights_.astype(np.float64))
    rng = np.random.default_rng(0)
    for _ in range(5):
        d = rng.normal(scale=1e-2, size=(6, 6))
        np.fill_diagonal(d, 0.0)
        assert objective(model.weights_ + d) > best


def test_implicit_binarises_and_explicit_uses_values():
    x = _random_binary(30, 8, 0.4, seed=1)
    ratings = sp.csr_matrix(x * np.random.default_rng(2).integers(1, 6, size=x.shape))
    binary = EASE(l2=3.0).fit(Interactions(sp.csr_matrix(x)))
    implicit = EASE(l2=3.0).fit(Interactions(ratings))
    explicit = EASE(l2=3.0, implicit=False).fit(Interactions(ratings))
    np.testing.assert_array_equal(implicit.weights_, binary.weights_)
    assert not np.allclose(explicit.weights_, binary.weights_)


def test_float32_close_to_float64():
    data, _, _ = planted_blocks(n_users=200, n_items=80, p_in=0.4, p_out=0.05, seed=4)
    w64 = EASE(l2=50.0).fit(data).weights_
    w32 = EASE(l2=50.0, dtype="float32").fit(data).weights_
    np.testing.assert_allclose(w32, w64, atol=1e-5 * np.abs(w64).max())


def test_memory_estimate_refuses_before_allocating():
    assert ease_memory_bytes(1000, "float64") == 1000**2 * (8 + 8 + 4)
    assert ease_memory_bytes(1000, "float32") == 1000**2 * (4 + 4)
    # 300k items would need ~1.6 TiB: the check must fire before anything n_items² exists
    n_items = 300_000
    m = sp.csr_matrix((np.ones(3, np.float32), ([0, 1, 1], [0, 5, n_items - 1])), shape=(2, n_items))
    with pytest.raises(ConfigError) as info:
        EASE().fit(Interactions(m))
    msg = str(info.value)
    assert "max_memory_gb=16" in msg and "GiB" in msg and "300000 items" in msg
    assert "filter_min_counts" in msg and "raise max_memory_gb" in msg
    with pytest.raises(ConfigError, match="l2=0"):
        EASE(l2=0)
