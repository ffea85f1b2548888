"""Small builders shared by the evaluation tests."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recgen.data import EvalSet, Vocabulary


def csr(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    """CSR with a 1 at each listed item of each row."""
    r = np.repeat(np.arange(len(rows)), [len(x) for x in rows])
    c = np.array([i for x in rows for i in x], dtype=np.int64)
    return sp.csr_matrix((np.ones(len(c), dtype=np.float32), (r, c)), shape=(len(rows), n_items))


def random_evalset(n_users: int, n_items: int, p_target: float = 0.05, p_exclude: float = 0.1,
                   seed: int = 0) -> EvalSet:
    """Random disjoint target / exclude (= input) patterns; some users may have no target."""
    rng = np.random.default_rng(seed)
    u = rng.random((n_users, n_items))
    target = sp.csr_matrix((u < p_target).astype(np.float32))
    exclude = sp.csr_matrix(((u >= p_target) & (u < p_target + p_exclude)).astype(np.float32))
    return EvalSet(Vocabulary([f"u{i}" for i in range(n_users)]), exclude, target, exclude)
