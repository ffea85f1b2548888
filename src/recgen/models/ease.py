"""EASE: Embarrassingly Shallow Autoencoder (Steck, WWW 2019) — the closed-form linear baseline."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from recgen.data.dataset import EvalSet
from recgen.data.interactions import Interactions
from recgen.errors import ConfigError
from recgen.models.base import Recommender, binary_rows
from recgen.models.config import require
from recgen.models.registry import register

log = logging.getLogger(__name__)

_GIB = 1024**3


def ease_memory_bytes(n_items: int, dtype: str = "float64") -> int:
    """Peak bytes of the dense n_items × n_items buffers EASE allocates.

    Two buffers in ``dtype`` live at once (the Gram matrix, overwritten by its Cholesky factor, and
    P = G⁻¹, overwritten by B), plus B cast to float32 for scoring when ``dtype`` is float64.
    The transient sparse XᵀX (≤ 8 bytes per entry) next to the dense Gram matrix never exceeds this.
    """
    itemsize = np.dtype(dtype).itemsize
    per_entry = 2 * itemsize + (4 if itemsize != 4 else 0)
    return int(n_items) ** 2 * per_entry


@dataclass(frozen=True)
class EASEConfig:
    """Hyperparameters of :class:`EASE`."""

    #: λ, the L2 penalty added to the diagonal of XᵀX (Steck tunes it per dataset: 200–1000 on MovieLens)
    l2: float = 500.0
    #: precision of the Gram matrix and its Cholesky solve. float64 by default: P = (XᵀX + λI)⁻¹ of a
    #: 20k-item matrix loses ~3 digits in float32, which reorders near-tied items; float32 halves the memory
    dtype: Literal["float64", "float32"] = "float64"
    #: refuse to fit when the dense n_items² buffers would exceed this many GiB (see ease_memory_bytes)
    max_memory_gb: float = 16.0
    #: binarise the training matrix (every interaction counts 1), as in the paper; False uses the values
    implicit: bool = True

    def validate(self) -> None:
        require(np.isfinite(self.l2) and self.l2 > 0, "l2", self.l2, "pass a positive penalty such as l2=500.")
        require(self.max_memory_gb > 0, "max_memory_gb", self.max_memory_gb, "pass a positive size in GiB.")


@register
class EASE(Recommender):
    """EASE^R, Steck (2019), "Embarrassingly Shallow Autoencoders for Sparse Data", WWW.

    B = argmin ‖X − XB‖²_F + λ‖B‖²_F subject to diag(B) = 0, in closed form:
    G = XᵀX + λI, P = G⁻¹, B = −P / diag(P) (column-wise), diag(B) = 0; scores = X_u B.
    Scores come from each row's history, so users not seen in training are served.

    Deviations from the paper's code: G⁻¹ comes from a Cholesky factorisation (G is symmetric positive
    definite) instead of a generic inverse; B is stored as float32 for scoring; the memory needed is
    estimated first and fitting refuses (ConfigError) above ``max_memory_gb``.
    """

    name = "ease"
    config_cls = EASEConfig

    def _fit(self, train: Interactions, validation: EvalSet | None) -> None:
        cfg = self.config
        n = train.n_items
        need = ease_memory_bytes(n, cfg.dtype)
        if need > cfg.max_memory_gb * _GIB:
            raise ConfigError(
                f"max_memory_gb={cfg.max_memory_gb:g} is too small for EASE on {n} items: the dense item×item "
                f"buffers need about {need / _GIB:.1f} GiB ({n}² × {need // max(n * n, 1)} bytes). Reduce the items "
                f"(e.g. data.filter_min_counts(min_item=...), a k-core), use dtype='float32', or raise max_memory_gb."
            )
        t0 = time.perf_counter()
        x = binary_rows(train.matrix, cfg.implicit)
        dt = np.dtype(cfg.dtype)
        # Gram matrix from the sparse X: only the n_items² result is ever dense, X never is
        g = (x.T @ x).astype(dt).toarray()
        g[np.diag_indices(n)] += dt.type(cfg.l2)
        # G is symmetric, so its transpose is the same matrix in Fortran order: LAPACK works in place
        c, lower = scipy.linalg.cho_factor(g.T, lower=False, overwrite_a=True, check_finite=False)
        del g
        p = scipy.linalg.cho_solve((c, lower), np.eye(n, dtype=dt).T, overwrite_b=True, check_finite=False)
        del c
        p /= -np.diag(p).copy()[None, :]  # B_ij = −P_ij / P_jj
        p[np.diag_indices(n)] = 0.0
        self.weights_: np.ndarray = np.ascontiguousarray(p, dtype=np.float32)
        log.info("EASE fitted on %d items (l2=%g, %s) in %.2fs", n, cfg.l2, cfg.dtype, time.perf_counter() - t0)

    def _score(self, rows: sp.csr_matrix, user_rows: np.ndarray | None) -> np.ndarray:
        return np.asarray(binary_rows(rows, self.config.implicit) @ self.weights_)  # sparse × dense → dense (n_rows, n_items)

    def _state(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights_}

    def _load_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.weights_ = arrays["weights"]
