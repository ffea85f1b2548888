"""Privacy metrics of synthetic users against the real training users (members) and held-out users.

- **Exact-copy rate**: share of synthetic rows whose item set equals some training row's (by 64-bit
  row hashes; also against held-out rows as a reference).
- **DCR** (distance to closest record): Jaccard distance ``1 − |a∩b| / |a∪b|`` from each synthetic row
  to its nearest row of a reference set, computed by sparse products in chunks of synthetic rows
  (never a dense all-pairs matrix of large sets). Train and holdout references are subsampled to the
  **same size** (the size of the smaller one, at most ``max_reference`` rows) so the two distances
  compare; at most ``max_synthetic`` synthetic rows are used. A generator that memorises has
  DCR(syn→train) clearly below DCR(syn→holdout); ``share_closer_to_train`` ≈ 0.5 means no leakage.
- **Membership inference**: a distance attacker scores each real record by ``−DCR(record →
  synthetic set)``; members = training users, non-members = held-out users (equal numbers); the
  ROC AUC (by ranks, ties averaged) of telling them apart: 0.5 = no leakage, 1 = the synthetic set
  reveals exactly who was in training. ``mia_auc`` uses the equal-size subsamples above; ``mia_auc_full``
  scores **every** training and held-out user (at most ``max_members`` of each, subsampled) against the
  same synthetic rows, which lowers the AUC's sampling noise when the training set is the larger one
  (the AUC does not depend on the class ratio). Both come with a 95 % bootstrap interval.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy import stats as sps

from recgen.errors import DataFormatError
from recgen.synth._sampling import row_hashes
from recgen.synth.report_marginals import binary

#: synthetic rows per chunk of the sparse product (bounds the dense chunk × reference block)
DCR_CHUNK = 512


def exact_copy_rate(synth: sp.csr_matrix, real: sp.csr_matrix) -> float:
    """Share of synthetic rows equal (as item sets) to at least one real row."""
    if synth.shape[0] == 0:
        return 0.0
    return float(np.isin(row_hashes(binary(synth)), row_hashes(binary(real))).mean())


def nearest_jaccard_distance(queries: sp.csr_matrix, reference: sp.csr_matrix) -> np.ndarray:
    """For each query row, the Jaccard distance to its nearest reference row (chunked sparse products)."""
    q, r = binary(queries), binary(reference)
    if q.shape[1] != r.shape[1]:
        raise DataFormatError(f"queries have {q.shape[1]} items and reference {r.shape[1]}; use one vocabulary.")
    if r.shape[0] == 0:
        raise DataFormatError("reference has no rows; pass at least one real user.")
    nq, nr = np.diff(q.indptr).astype(np.float64), np.diff(r.indptr).astype(np.float64)
    rt = r.T.tocsc()
    out = np.empty(q.shape[0], dtype=np.float64)
    for start in range(0, q.shape[0], DCR_CHUNK):
        stop = min(start + DCR_CHUNK, q.shape[0])
        inter = (q[start:stop] @ rt).toarray()
        union = nq[start:stop, None] + nr[None, :] - inter
        sim = np.where(union > 0, inter / np.maximum(union, 1e-12), 1.0)
        out[start:stop] = 1.0 - sim.max(axis=1)
    return out


def auc_from_scores(pos: np.ndarray, neg: np.ndarray) -> float:
    """ROC AUC of ``pos`` above ``neg`` via ranks (Mann–Whitney U / (n_pos·n_neg)), ties count ½."""
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    if len(pos) == 0 or len(neg) == 0:
        raise DataFormatError("auc needs at least one positive and one negative score.")
    ranks = sps.rankdata(np.r_[pos, neg])
    u = ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def _auc_ci(pos: np.ndarray, neg: np.ndarray, rng: np.random.Generator, n_boot: int = 200) -> list[float]:
    """95 % percentile-bootstrap interval of the AUC (members and non-members resampled separately)."""
    aucs = [auc_from_scores(pos[rng.integers(0, len(pos), len(pos))], neg[rng.integers(0, len(neg), len(neg))])
            for _ in range(n_boot)]
    return [float(np.quantile(aucs, 0.025)), float(np.quantile(aucs, 0.975))]


def _subsample(m: sp.csr_matrix, n: int, rng: np.random.Generator) -> sp.csr_matrix:
    if m.shape[0] <= n:
        return m
    return m[np.sort(rng.choice(m.shape[0], n, replace=False))]


def privacy(synth: sp.csr_matrix, train: sp.csr_matrix, holdout: sp.csr_matrix, *, max_reference: int = 2000,
            max_synthetic: int = 2000, max_members: int = 20000, seed: int = 0) -> dict[str, Any]:
    """Exact copies, DCR synthetic→train vs synthetic→holdout, and the membership-inference AUC."""
    rng = np.random.default_rng(seed)
    s, tr, ho = binary(synth), binary(train), binary(holdout)
    n_ref = int(min(tr.shape[0], ho.shape[0], max_reference))
    tr_s, ho_s = _subsample(tr, n_ref, rng), _subsample(ho, n_ref, rng)
    s_s = _subsample(s, max_synthetic, rng)
    d_train = nearest_jaccard_distance(s_s, tr_s)
    d_hold = nearest_jaccard_distance(s_s, ho_s)
    mia_members = -nearest_jaccard_distance(tr_s, s_s)
    mia_non = -nearest_jaccard_distance(ho_s, s_s)
    full_members = -nearest_jaccard_distance(_subsample(tr, max_members, rng), s_s)
    full_non = -nearest_jaccard_distance(_subsample(ho, max_members, rng), s_s)
    return {
        "exact_copy_rate": exact_copy_rate(s, tr),
        "exact_copy_rate_holdout": exact_copy_rate(s, ho),
        "dcr_train_median": float(np.median(d_train)), "dcr_holdout_median": float(np.median(d_hold)),
        "dcr_train_p05": float(np.quantile(d_train, 0.05)), "dcr_holdout_p05": float(np.quantile(d_hold, 0.05)),
        "dcr_ratio": float(np.median(d_train) / max(np.median(d_hold), 1e-12)),
        "share_closer_to_train": float(np.mean(d_train < d_hold) + 0.5 * np.mean(d_train == d_hold)),
        "mia_auc": auc_from_scores(mia_members, mia_non),
        "mia_auc_ci": _auc_ci(mia_members, mia_non, rng),
        "mia_auc_full": auc_from_scores(full_members, full_non),
        "mia_auc_full_ci": _auc_ci(full_members, full_non, rng),
        "n_members_full": len(full_members), "n_nonmembers_full": len(full_non),
        "n_reference": n_ref, "n_synthetic_used": int(s_s.shape[0]),
        "dcr_train": d_train, "dcr_holdout": d_hold,
    }
