"""Rating-prediction metrics (RMSE, MAE) and the :class:`RatingPredictor` interface.

Interface (explicit-feedback models such as AutoRec implement it)::

    predictor.predict(rows, targets, *, user_rows=None) -> numpy.ndarray, shape (targets.nnz,)

- ``rows``: CSR (n, n_items) of the users' input ratings (what the model sees);
- ``targets``: CSR (n, n_items) whose *sparsity pattern* lists the (user, item) pairs to predict; its
  values are the true ratings and must not be read by the predictor;
- ``user_rows``: training-row index per user or ``-1`` (as in ``score``);
- returns the predicted rating of every stored entry of ``targets``, in CSR order (row by row,
  columns ascending), i.e. aligned with ``targets.data`` after ``targets.sort_indices()``.

:func:`evaluate_ratings` calls it on chunks of ``evalset`` (``input`` → ``target``), where
``evalset.target`` holds the held-out ratings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from recgen.data.dataset import EvalSet
from recgen.errors import ConfigError, DataFormatError


class RatingPredictor(Protocol):
    """Predicts ratings at given (user, item) positions; see the module docstring."""

    def predict(self, rows: sp.csr_matrix, targets: sp.csr_matrix, *,
                user_rows: np.ndarray | None = None) -> np.ndarray: ...


def _pair(pred: Any, true: Any) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, dtype=np.float64).ravel()
    t = np.asarray(true, dtype=np.float64).ravel()
    if p.shape != t.shape:
        raise DataFormatError(f"pred has {p.size} values and true has {t.size}; pass aligned arrays.")
    if p.size == 0:
        raise DataFormatError("pred and true are empty; there are no ratings to evaluate.")
    if not np.all(np.isfinite(p)):
        raise DataFormatError(f"pred contains {int(np.sum(~np.isfinite(p)))} NaN/inf values; check the model.")
    return p, t


def rmse(pred: Any, true: Any) -> float:
    """Root mean squared error √(mean((pred − true)²))."""
    p, t = _pair(pred, true)
    return float(np.sqrt(np.mean((p - t) ** 2)))


def mae(pred: Any, true: Any) -> float:
    """Mean absolute error mean(|pred − true|)."""
    p, t = _pair(pred, true)
    return float(np.mean(np.abs(p - t)))


@dataclass(frozen=True)
class RatingResult:
    """RMSE and MAE over ``n_ratings`` held-out ratings of ``n_users`` users."""

    rmse: float
    mae: float
    n_ratings: int
    n_users: int

    def to_dict(self) -> dict[str, float | int]:
        return {"rmse": self.rmse, "mae": self.mae, "n_ratings": self.n_ratings, "n_users": self.n_users}


def evaluate_ratings(predictor: RatingPredictor, evalset: EvalSet, *, batch_size: int = 4096,
                     clip: tuple[float, float] | None = None) -> RatingResult:
    """RMSE / MAE of ``predictor`` on the ratings stored in ``evalset.target``.

    ``clip=(low, high)`` clips predictions to the rating scale first (as AutoRec evaluations do).
    """
    if not hasattr(predictor, "predict"):
        raise DataFormatError(
            f"predictor must implement predict(rows, targets, user_rows=None) (see recgen.evaluation.rating); "
            f"got {type(predictor).__name__}."
        )
    if batch_size < 1:
        raise ConfigError(f"batch_size={batch_size} must be >= 1.")
    target = sp.csr_matrix(evalset.target)
    preds, trues = [], []
    for start in range(0, evalset.n_users, batch_size):
        idx = np.arange(start, min(start + batch_size, evalset.n_users))
        t = target[idx]
        t.sort_indices()
        if t.nnz == 0:
            continue
        p = np.asarray(predictor.predict(evalset.input[idx], t, user_rows=evalset.rows[idx]), dtype=np.float64)
        if p.shape != (t.nnz,):
            raise DataFormatError(
                f"predictor.predict returned shape {p.shape} for a targets matrix with {t.nnz} entries; return "
                "one prediction per stored target entry, aligned with targets.data."
            )
        preds.append(p)
        trues.append(t.data.astype(np.float64))
    if not preds:
        raise DataFormatError("evalset.target has no ratings; there is nothing to evaluate.")
    p, y = np.concatenate(preds), np.concatenate(trues)
    if clip is not None:
        p = np.clip(p, clip[0], clip[1])
    n_users = int(np.count_nonzero(np.diff(target.indptr)))
    return RatingResult(rmse(p, y), mae(p, y), int(len(y)), n_users)
