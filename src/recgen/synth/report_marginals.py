"""Fidelity metrics of a synthetic interaction matrix against a real one (marginals and structure).

All functions take binary CSR matrices over the same item columns (values > 0 count) and never
densify a whole matrix. Conventions:

- **Popularity JSD**: Jensen–Shannon divergence, base 2 (in [0, 1]), between the item-share
  distributions ``p_i = count_i / Σ count`` of the two matrices (item identity matters).
- **Activity KS / Wasserstein**: two-sample Kolmogorov–Smirnov statistic and 1-Wasserstein distance
  between the per-user item-count samples (Wasserstein in items; also reported on log counts).
- **Gini** of item popularity (all catalogue items, zeros included), and density.
- **Singular values**: the top-k singular values of ``X / √n_users`` (so matrices of different user
  counts compare); relative error ``‖s_syn − s_real‖₂ / ‖s_real‖₂``.
- **Co-occurrence**: over the ``n_pairs`` most frequent real item pairs among the ``top_items`` most
  popular items, the Pearson correlation of pair rates ``C_ij / n_users`` and of pair lifts
  ``C_ij·n / (c_i c_j)`` (lift removes what the marginals alone explain).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy import stats as sps
from scipy.sparse.linalg import svds

from recgen.errors import DataFormatError
from recgen.evaluation.beyond import gini


def binary(m: sp.spmatrix) -> sp.csr_matrix:
    out = sp.csr_matrix(m, dtype=np.float32, copy=True)
    out.data = (out.data > 0).astype(np.float32)
    out.eliminate_zeros()
    return out


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """JSD (base 2) between two non-negative vectors, each normalised to sum 1."""
    p = np.asarray(p, dtype=np.float64).ravel()
    q = np.asarray(q, dtype=np.float64).ravel()
    if p.shape != q.shape or p.sum() <= 0 or q.sum() <= 0 or (p < 0).any() or (q < 0).any():
        raise DataFormatError(f"p and q must be non-negative, non-zero and of equal length; got {p.shape}, {q.shape}.")
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return max(0.0, 0.5 * kl(p) + 0.5 * kl(q))


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov–Smirnov statistic sup |F_a − F_b|."""
    return float(sps.ks_2samp(np.asarray(a, float), np.asarray(b, float)).statistic)


def wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    return float(sps.wasserstein_distance(np.asarray(a, float), np.asarray(b, float)))


def singular_values(m: sp.csr_matrix, k: int = 50, seed: int = 0) -> np.ndarray:
    """Top-``k`` singular values of ``m / √n_rows``, descending (k clipped to min(shape) − 1)."""
    x = binary(m).astype(np.float64) / np.sqrt(max(m.shape[0], 1))
    k = int(min(k, min(x.shape) - 1))
    v0 = np.random.default_rng(seed).random(min(x.shape))
    s = svds(x, k=k, return_singular_vectors=False, v0=v0, random_state=seed)
    return np.sort(s)[::-1]


def cooccurrence(real: sp.csr_matrix, synth: sp.csr_matrix, top_items: int = 200, n_pairs: int = 1000
                 ) -> dict[str, float]:
    """Correlation of item-pair co-occurrence rates and lifts on the frequent real pairs."""
    r, s = binary(real), binary(synth)
    pop = np.bincount(r.indices, minlength=r.shape[1])
    top = np.sort(np.argsort(-pop, kind="stable")[:top_items])
    cr = (r[:, top].T @ r[:, top]).toarray() / r.shape[0]
    cs = (s[:, top].T @ s[:, top]).toarray() / s.shape[0]
    iu = np.triu_indices(len(top), k=1)
    rates_r, rates_s = cr[iu], cs[iu]
    order = np.argsort(-rates_r, kind="stable")[:n_pairs]
    di_r, di_s = np.diag(cr), np.diag(cs)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift_r = rates_r[order] / (di_r[iu[0]][order] * di_r[iu[1]][order])
        lift_s = rates_s[order] / (di_s[iu[0]][order] * di_s[iu[1]][order])
    lift_s = np.nan_to_num(lift_s, nan=0.0, posinf=0.0)

    def corr(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.corrcoef(a, b)[0, 1]) if np.std(a) > 0 and np.std(b) > 0 else 0.0

    return {"pairs": int(len(order)), "rate_corr": corr(rates_r[order], rates_s[order]),
            "lift_corr": corr(lift_r, lift_s)}


def marginals(real: sp.csr_matrix, synth: sp.csr_matrix) -> dict[str, float]:
    """Popularity JSD and Gini, activity KS / Wasserstein, density of both matrices."""
    r, s = binary(real), binary(synth)
    if r.shape[1] != s.shape[1]:
        raise DataFormatError(f"real has {r.shape[1]} items and synthetic {s.shape[1]}; use the same item vocabulary.")
    pr = np.bincount(r.indices, minlength=r.shape[1])
    ps = np.bincount(s.indices, minlength=s.shape[1])
    ar, as_ = np.diff(r.indptr), np.diff(s.indptr)
    return {
        "popularity_jsd": jensen_shannon(pr, ps),
        "activity_ks": ks_statistic(ar, as_),
        "activity_wasserstein": wasserstein(ar, as_),
        "activity_wasserstein_log": wasserstein(np.log1p(ar), np.log1p(as_)),
        "gini_real": gini(pr), "gini_synthetic": gini(ps),
        "density_real": float(r.nnz / max(1, r.shape[0] * r.shape[1])),
        "density_synthetic": float(s.nnz / max(1, s.shape[0] * s.shape[1])),
        "item_coverage_synthetic": float(np.count_nonzero(ps) / s.shape[1]),
    }


def structure(real: sp.csr_matrix, synth: sp.csr_matrix, k: int = 50, seed: int = 0) -> dict[str, Any]:
    """Singular-value relative error and co-occurrence correlations."""
    sr, ss = singular_values(real, k, seed), singular_values(synth, k, seed)
    n = min(len(sr), len(ss))
    err = float(np.linalg.norm(ss[:n] - sr[:n]) / np.linalg.norm(sr[:n]))
    return {"sv_rel_error": err, "singular_values_real": sr.tolist(), "singular_values_synthetic": ss.tolist(),
            **{f"cooc_{k2}": v for k2, v in cooccurrence(real, synth).items()}}


def diversity(synth: sp.csr_matrix, n_pairs: int = 20000, seed: int = 0) -> dict[str, float]:
    """Mode-collapse diagnostics: share of distinct rows and mean Jaccard similarity of random row pairs."""
    s = binary(synth)
    from recgen.synth._sampling import row_hashes

    h = row_hashes(s)
    rng = np.random.default_rng(seed)
    n = s.shape[0]
    a, b = rng.integers(0, n, n_pairs), rng.integers(0, n, n_pairs)
    keep = a != b
    a, b = a[keep], b[keep]
    inter = np.asarray(s[a].multiply(s[b]).sum(axis=1)).ravel()
    cnt = np.diff(s.indptr)
    union = cnt[a] + cnt[b] - inter
    jac = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    return {"distinct_rows": float(len(np.unique(h)) / max(n, 1)), "mean_pair_jaccard": float(jac.mean())}
