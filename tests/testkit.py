"""Shared test helpers (import them with ``from testkit import ...``; conftest.py only holds fixtures).

Real datasets are read from ``../shared/data`` (beside the repository root). Under ``CI=true`` a
missing file is a failure, never a skip; elsewhere the test is skipped with the path it wanted.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from recgen.data import EvalSet, Interactions

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RECGEN_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_path(relative: str) -> Path:
    """Path to a file under ../shared/data; fails under CI=true when it is missing, else skips."""
    p = SHARED_DATA / relative
    if not p.exists():
        msg = f"required dataset file {p} is missing (set RECGEN_SHARED_DATA or provide ../shared/data)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return p


def planted_blocks(n_users: int = 120, n_items: int = 60, n_blocks: int = 3, p_in: float = 0.6,
                   p_out: float = 0.0, seed: int = 0):
    """Block-diagonal ('checkerboard') data with a known right answer.

    User u belongs to block u % n_blocks and item i to block i % n_blocks; users interact with a
    random ``p_in`` share of their block's items (and ``p_out`` of the others). A good recommender
    ranks the missing items of a user's own block above every other item.
    Returns (Interactions, user_block, item_block).
    """
    rng = np.random.default_rng(seed)
    ub = np.arange(n_users) % n_blocks
    ib = np.arange(n_items) % n_blocks
    same = ub[:, None] == ib[None, :]
    prob = np.where(same, p_in, p_out)
    dense = (rng.random((n_users, n_items)) < prob).astype(np.float32)
    # every user has at least two items of their block
    for u in range(n_users):
        own = np.flatnonzero(ib == ub[u])
        if dense[u].sum() < 2:
            dense[u, rng.choice(own, 2, replace=False)] = 1.0
    return Interactions(sp.csr_matrix(dense)), ub, ib


def holdout(data: Interactions, per_user: int = 2, seed: int = 0) -> tuple[Interactions, EvalSet]:
    """Move ``per_user`` random items of every user from the training rows to a validation target."""
    rng = np.random.default_rng(seed)
    m = data.matrix.tolil()
    target = sp.lil_matrix(m.shape, dtype=np.float32)
    for u, cols in enumerate(m.rows):
        for c in rng.choice(cols, size=min(per_user, len(cols) - 1), replace=False):
            m[u, c] = 0.0
            target[u, c] = 1.0
    train = sp.csr_matrix(m)
    train.eliminate_zeros()
    tr = Interactions(train, data.users, data.items)
    return tr, EvalSet(data.users, tr.matrix, sp.csr_matrix(target), tr.matrix, np.arange(data.n_users))
