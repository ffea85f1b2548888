"""Confidence intervals and paired significance tests over per-user metric values.

- :func:`bootstrap_ci`: percentile bootstrap of the mean (resampling users), vectorised in blocks.
- :func:`paired_test`: paired comparison of two models on the *same* users: Student's paired t test,
  Wilcoxon signed-rank (both from :mod:`scipy.stats`), or a sign-flip permutation test (two-sided,
  vectorised; p = (1 + #{|mean(s·d)| ≥ |mean(d)|}) / (1 + n_perm)).
- :func:`compare`: the same over two :class:`~recgen.evaluation.EvalResult` objects, aligning users by raw id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from recgen.errors import ConfigError, DataFormatError

if TYPE_CHECKING:
    from recgen.evaluation.evaluate import EvalResult

#: resample at most this many values per block (bounds bootstrap memory to ~64 MB of int64)
_BLOCK = 8_000_000


def _values(values: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0:
        raise DataFormatError(f"{name} is empty; pass at least one per-user value.")
    if not np.all(np.isfinite(x)):
        raise DataFormatError(
            f"{name} contains {int(np.sum(~np.isfinite(x)))} NaN/inf values; drop users without targets first "
            "(EvalResult.per_user already does)."
        )
    return x


def bootstrap_means(values: np.ndarray, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """``n_boot`` means of resamples (with replacement, same size) of ``values``."""
    x = _values(values, "values")
    if n_boot < 1:
        raise ConfigError(f"n_boot={n_boot} must be >= 1; 1000 is a good default.")
    rng = np.random.default_rng(seed)
    n = x.size
    per_block = max(1, _BLOCK // n)
    out = np.empty(n_boot, dtype=np.float64)
    for start in range(0, n_boot, per_block):
        b = min(per_block, n_boot - start)
        out[start:start + b] = x[rng.integers(0, n, size=(b, n))].mean(axis=1)
    return out


def bootstrap_ci(values: np.ndarray, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0
                 ) -> tuple[float, float, float]:
    """(mean, low, high): the sample mean and the percentile-bootstrap ``1 - alpha`` interval."""
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha={alpha} must be in (0, 1); 0.05 gives a 95 % interval.")
    x = _values(values, "values")
    means = bootstrap_means(x, n_boot, seed)
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(x.mean()), float(low), float(high)


@dataclass(frozen=True)
class PairedTestResult:
    """Outcome of a paired test of ``a - b``.

    ``mean_diff`` = mean(a − b); ``ci`` = 95 % percentile-bootstrap interval of it; ``statistic``:
    t (t test), W (Wilcoxon), or mean(a − b) (permutation); ``n`` = number of paired users.
    """

    mean_diff: float
    ci: tuple[float, float]
    statistic: float
    p_value: float
    n: int
    method: str


PairedMethod = Literal["t", "wilcoxon", "permutation"]


def paired_test(a: np.ndarray, b: np.ndarray, method: PairedMethod = "t", seed: int = 0, *,
                users_a: np.ndarray | None = None, users_b: np.ndarray | None = None,
                n_perm: int = 10_000, n_boot: int = 1000) -> PairedTestResult:
    """Two-sided paired test of per-user values ``a`` vs ``b`` (same users, same order).

    When ``users_a`` / ``users_b`` are given they must be identical (use :func:`compare` to align
    two results by raw id). All-zero differences give p = 1.
    """
    xa, xb = _values(a, "a"), _values(b, "b")
    if xa.size != xb.size:
        raise DataFormatError(f"a has {xa.size} values and b has {xb.size}; paired tests need the same users.")
    if (users_a is None) != (users_b is None):
        raise ConfigError("pass both users_a and users_b, or neither.")
    if users_a is not None and not np.array_equal(np.asarray(users_a), np.asarray(users_b)):
        raise DataFormatError(
            "users_a and users_b differ (ids or order); align the values by user first, e.g. with "
            "recgen.evaluation.compare(result_a, result_b, metric)."
        )
    d = xa - xb
    mean_diff = float(d.mean())
    _, lo, hi = bootstrap_ci(d, n_boot=n_boot, seed=seed)
    n = int(d.size)
    if method == "t":
        if np.all(d == d[0]):
            stat, p = (0.0, 1.0) if d[0] == 0 else (float(np.sign(d[0]) * np.inf), 0.0)
        else:
            from scipy import stats as sps  # imported lazily: scipy.stats is slow to import

            res = sps.ttest_rel(xa, xb)
            stat, p = float(res.statistic), float(res.pvalue)
    elif method == "wilcoxon":
        if np.all(d == 0):
            stat, p = 0.0, 1.0
        else:
            from scipy import stats as sps

            res = sps.wilcoxon(xa, xb)
            stat, p = float(res.statistic), float(res.pvalue)
    elif method == "permutation":
        if n_perm < 1:
            raise ConfigError(f"n_perm={n_perm} must be >= 1; 10000 is a good default.")
        stat = mean_diff
        rng = np.random.default_rng(seed)
        per_block = max(1, _BLOCK // n)
        extreme = 0
        obs = abs(mean_diff) * (1 - 1e-12)  # tolerate rounding of equal sums
        for start in range(0, n_perm, per_block):
            bsz = min(per_block, n_perm - start)
            signs = rng.integers(0, 2, size=(bsz, n), dtype=np.int8) * 2 - 1
            extreme += int(np.count_nonzero(np.abs(signs @ d) / n >= obs))
        p = (1 + extreme) / (1 + n_perm)
    else:
        raise ConfigError(f"method={method!r} is unknown; choose 't', 'wilcoxon' or 'permutation'.")
    return PairedTestResult(mean_diff, (lo, hi), float(stat), float(p), n, method)


def compare(result_a: EvalResult, result_b: EvalResult, metric: str, method: PairedMethod = "t",
            seed: int = 0, **kwargs: int) -> PairedTestResult:
    """Paired test of ``metric`` (e.g. ``"ndcg@20"``) between two results, users aligned by raw id.

    Both results must cover the same set of users (in any order).
    """
    for name, r in (("result_a", result_a), ("result_b", result_b)):
        if metric not in r.per_user:
            raise ConfigError(f"{name} has no per-user metric {metric!r}; available: {', '.join(r.per_user)}.")
    ua, ub = np.asarray(result_a.users).astype(str), np.asarray(result_b.users).astype(str)
    if len(ua) != len(ub) or set(ua.tolist()) != set(ub.tolist()):
        raise DataFormatError(
            f"result_a has {len(ua)} users and result_b {len(ub)}, not the same set; evaluate both models on "
            "the same EvalSet."
        )
    order_b = np.argsort(ub, kind="stable")
    pos = order_b[np.searchsorted(ub[order_b], ua)]
    return paired_test(result_a.per_user[metric], result_b.per_user[metric][pos], method, seed, **kwargs)
