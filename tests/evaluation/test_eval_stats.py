"""Bootstrap intervals and paired tests: coverage, narrowing, power and calibration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from recgen.errors import DataFormatError
from recgen.evaluation import EvalResult, bootstrap_ci, compare, paired_test


def test_bootstrap_ci_covers_mean_narrows_with_n_and_is_seeded():
    rng = np.random.default_rng(0)
    small, large = rng.random(100), rng.random(10_000)
    m_s, lo_s, hi_s = bootstrap_ci(small, n_boot=500)
    m_l, lo_l, hi_l = bootstrap_ci(large, n_boot=500)
    assert lo_s < m_s < hi_s and lo_l < m_l < hi_l
    assert m_s == pytest.approx(small.mean())
    # width ~ 1/sqrt(n): 100x the users -> ~10x narrower (allow 5x..20x)
    assert 5 < (hi_s - lo_s) / (hi_l - lo_l) < 20
    # for uniform(0,1) values the 95 % half-width is about 1.96 * sqrt(1/12 / n)
    assert (hi_l - lo_l) / 2 == pytest.approx(1.96 * np.sqrt(1 / 12 / 10_000), rel=0.15)
    assert bootstrap_ci(small, n_boot=500, seed=3) == bootstrap_ci(small, n_boot=500, seed=3)
    assert bootstrap_ci(np.full(7, 0.25)) == (0.25, 0.25, 0.25)
    with pytest.raises(DataFormatError, match="NaN"):
        bootstrap_ci(np.array([0.1, np.nan]))


@pytest.mark.parametrize("method", ["t", "wilcoxon", "permutation"])
def test_clearly_better_model_has_tiny_p_value(method):
    rng = np.random.default_rng(1)
    b = rng.random(300)
    a = b + 0.1 + 0.05 * rng.standard_normal(300)
    res = paired_test(a, b, method=method, n_perm=2000)
    assert res.p_value < 1e-3
    assert res.mean_diff == pytest.approx(np.mean(a - b))
    assert res.ci[0] < res.mean_diff < res.ci[1] and res.ci[0] > 0
    assert res.n == 300 and res.method == method


@pytest.mark.parametrize("method", ["t", "permutation"])
def test_equal_models_give_roughly_uniform_p_values(method):
    rng = np.random.default_rng(2)
    ps = []
    for rep in range(120):
        a, b = rng.random(40), rng.random(40)  # two models of the same quality
        ps.append(paired_test(a, b, method=method, seed=rep, n_perm=400, n_boot=10).p_value)
    ps = np.asarray(ps)
    assert 0.0 <= np.mean(ps < 0.05) <= 0.12
    assert sps.kstest(ps, "uniform").pvalue > 0.01


def test_identical_values_give_p_one_and_misaligned_users_raise():
    x = np.random.default_rng(3).random(20)
    for method in ("t", "wilcoxon", "permutation"):
        assert paired_test(x, x.copy(), method=method, n_perm=100).p_value == 1.0
    with pytest.raises(DataFormatError, match="same users"):
        paired_test(x, x[:-1])
    with pytest.raises(DataFormatError, match="users_a and users_b differ"):
        paired_test(x, x, users_a=np.arange(20), users_b=np.arange(20)[::-1])


def _result(users, values):
    users = np.asarray(users, dtype=object)
    return EvalResult({"ndcg@20": float(np.mean(values))}, {"ndcg@20": np.asarray(values)}, users, len(users),
                      (20,), np.zeros((len(users), 20), dtype=np.int32))


def test_compare_aligns_users_by_raw_id():
    rng = np.random.default_rng(4)
    ids = np.array([f"u{i}" for i in range(50)], dtype=object)
    a_vals = rng.random(50)
    b_vals = a_vals - 0.05 + 0.01 * rng.standard_normal(50)
    perm = rng.permutation(50)
    ra, rb = _result(ids, a_vals), _result(ids[perm], b_vals[perm])
    got = compare(ra, rb, "ndcg@20")
    want = paired_test(a_vals, b_vals)
    assert got.p_value == pytest.approx(want.p_value) and got.mean_diff == pytest.approx(0.05, abs=0.01)
    with pytest.raises(DataFormatError, match="same set"):
        compare(ra, _result(ids[:49], b_vals[:49]), "ndcg@20")
