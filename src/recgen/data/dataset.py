"""Split containers shared by every protocol: :class:`EvalSet` and :class:`Split`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from recgen.data.interactions import Interactions
from recgen.data.vocabulary import Vocabulary
from recgen.errors import DataFormatError


@dataclass(frozen=True)
class EvalSet:
    """Users to evaluate: what the model sees, what it must find, and what is removed from its ranking.

    All three matrices are CSR over the split's item universe with one row per user in ``users``.

    - ``input``: the history given to ``model.score`` (fold-in items for held-out users; train rows
      for given / per-user splits).
    - ``target``: the held-out relevant items.
    - ``exclude``: items removed from the ranking before top-k (always ⊇ ``input``; for the test
      set of a given split it is train ∪ valid).
    - ``rows``: for users that also appear in the training matrix, their training row index
      (``-1`` for held-out users); lets a model with per-user parameters (CDAE) find them.
    """

    users: Vocabulary
    input: sp.csr_matrix
    target: sp.csr_matrix
    exclude: sp.csr_matrix
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        n = len(self.users)
        shapes = {m.shape for m in (self.input, self.target, self.exclude)}
        if len(shapes) != 1 or next(iter(shapes))[0] != n:
            raise DataFormatError(f"EvalSet matrices must share one shape with {n} rows; got {sorted(shapes)}.")
        if len(self.rows) == 0:
            object.__setattr__(self, "rows", np.full(n, -1, dtype=np.int64))
        elif len(self.rows) != n:
            raise DataFormatError(f"EvalSet.rows has {len(self.rows)} entries for {n} users.")

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return int(self.input.shape[1])

    def nonempty(self) -> EvalSet:
        """Only the users with at least one target item (those that can be evaluated)."""
        keep = np.flatnonzero(np.diff(self.target.indptr) > 0)
        if len(keep) == self.n_users:
            return self
        return EvalSet(self.users.take(keep), self.input[keep], self.target[keep], self.exclude[keep],
                       self.rows[keep])


@dataclass(frozen=True)
class Split:
    """A prepared dataset: training interactions, validation and test users, and how they were made.

    ``train.items`` is the item universe of every matrix in the split.
    """

    train: Interactions
    val: EvalSet | None
    test: EvalSet
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def items(self) -> Vocabulary:
        return self.train.items

    @property
    def n_items(self) -> int:
        return self.train.n_items
