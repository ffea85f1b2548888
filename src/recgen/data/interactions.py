"""The :class:`Interactions` type: a users × items CSR matrix with id vocabularies."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recgen.data.vocabulary import Vocabulary
from recgen.errors import DataFormatError

DuplicatePolicy = Literal["error", "sum", "max", "first", "last", "mean"]
DUPLICATE_POLICIES: tuple[str, ...] = ("error", "sum", "max", "first", "last", "mean")


def _canonical_csr(m: sp.spmatrix, shape: tuple[int, int]) -> sp.csr_matrix:
    out = sp.csr_matrix(m, shape=shape, dtype=np.float32)
    out.sort_indices()
    # one index dtype for both arrays: scipy's kernels (e.g. tocoo) reject int64 indptr with int32 indices
    idx = np.int64 if max(out.nnz, *shape) >= np.iinfo(np.int32).max else np.int32
    out.indptr = out.indptr.astype(idx, copy=False)
    out.indices = out.indices.astype(idx, copy=False)
    return out


def _factorize_ids(col: pd.Series) -> tuple[np.ndarray, Vocabulary]:
    """Codes and vocabulary of an id column; integer ids sort numerically, others as strings.

    Factorising on the native dtype first keeps a 20M-row load fast (strings are made only for uniques).
    """
    if pd.api.types.is_integer_dtype(col.dtype):
        ids = col.to_numpy()
        lo, hi = (int(ids.min()), int(ids.max())) if len(ids) else (0, -1)
        if hi - lo <= 4 * len(ids) + 1_000_000:  # compact range: O(n) table lookup instead of hashing
            shifted = (ids - lo).astype(np.int64, copy=False)
            present = np.zeros(hi - lo + 1, dtype=bool)
            present[shifted] = True
            uniques = np.flatnonzero(present)
            remap = np.cumsum(present, dtype=np.int64) - 1
            return remap[shifted], Vocabulary(uniques + lo)
        codes, uniques = pd.factorize(ids, sort=True)
        return codes, Vocabulary(uniques)
    as_str = col.astype(str)
    codes, uniques = pd.factorize(as_str, sort=False)
    uniq = np.asarray(uniques, dtype=object)
    numeric = pd.to_numeric(pd.Series(uniq), errors="coerce")
    if numeric.notna().all() and (numeric == numeric.round()).all() and all(
            str(int(n)) == s for n, s in zip(numeric, uniq, strict=True)):
        order = np.argsort(numeric.to_numpy(), kind="stable")
    else:
        order = np.argsort(uniq.astype(str), kind="stable")
    remap = np.empty(len(uniq), dtype=np.int64)
    remap[order] = np.arange(len(uniq))
    return remap[codes], Vocabulary(uniq[order])


class Interactions:
    """Users × items interactions.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix, float32, shape (n_users, n_items)
        Values are 1 (implicit), a rating, or a weight. Rows have sorted column indices.
    users, items : Vocabulary
        Raw id ↔ row / column index.
    times : scipy.sparse.csr_matrix or None
        Unix timestamps (float64 seconds) with exactly the sparsity pattern of ``matrix``.

    The matrix is never densified as a whole anywhere in recgen.
    """

    __slots__ = ("matrix", "users", "items", "times")

    def __init__(self, matrix: sp.spmatrix, users: Vocabulary | None = None, items: Vocabulary | None = None,
                 times: sp.spmatrix | None = None) -> None:
        if not sp.issparse(matrix):
            raise DataFormatError(
                f"matrix must be a scipy.sparse matrix, got {type(matrix).__name__}; "
                "build it with scipy.sparse.csr_matrix or Interactions.from_frame."
            )
        shape = (int(matrix.shape[0]), int(matrix.shape[1]))
        users = users if users is not None else Vocabulary.range(shape[0])
        items = items if items is not None else Vocabulary.range(shape[1])
        if len(users) != shape[0] or len(items) != shape[1]:
            raise DataFormatError(
                f"matrix shape {shape} does not match the vocabularies ({len(users)} users, {len(items)} items)."
            )
        m = _canonical_csr(matrix, shape)
        if m.nnz and not np.isfinite(m.data).all():
            raise DataFormatError("matrix holds NaN or infinite values; drop or fill them before building Interactions.")
        if times is not None:
            t = sp.csr_matrix(times, shape=shape, dtype=np.float64)
            t.sort_indices()
            if t.nnz != m.nnz or not (np.array_equal(t.indptr, m.indptr) and np.array_equal(t.indices, m.indices)):
                raise DataFormatError("times must have exactly the sparsity pattern of matrix (one timestamp per entry).")
            times = t
        self.matrix: sp.csr_matrix = m
        self.users = users
        self.items = items
        self.times: sp.csr_matrix | None = times

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, user: str = "user", item: str = "item", rating: str | None = None,
                   time: str | None = None, duplicates: DuplicatePolicy = "error",
                   source: str = "frame") -> Interactions:
        """Build from a long frame with one row per (user, item[, rating][, time]).

        ``duplicates`` says what to do with repeated (user, item) pairs: ``"error"`` (default: never
        silently merge), ``"sum"``, ``"max"``, ``"mean"``, ``"first"`` / ``"last"`` (by time when a time
        column is given, else by row order). Users and items are indexed in order of first appearance
        after sorting raw ids, so the result does not depend on row order.
        """
        for arg, col in (("user", user), ("item", item), ("rating", rating), ("time", time)):
            if col is not None and col not in df.columns:
                raise DataFormatError(
                    f"{source}: column {col!r} (argument {arg}=) not found; available columns: {list(df.columns)}. "
                    f"Pass {arg}='<column name>'."
                )
        if duplicates not in DUPLICATE_POLICIES:
            raise DataFormatError(f"duplicates={duplicates!r} is not a policy; choose one of {DUPLICATE_POLICIES}.")
        if len(df) == 0:
            raise DataFormatError(f"{source}: no interactions (the input is empty); check the file and its filters.")
        u_raw = df[user]
        i_raw = df[item]
        for name, col in ((user, u_raw), (item, i_raw)):
            if col.isna().any():
                row = int(np.flatnonzero(col.isna().to_numpy())[0])
                raise DataFormatError(f"{source}: column {name!r} is empty at data row {row + 1}; every row needs an id.")
        vals = np.ones(len(df), dtype=np.float64)
        if rating is not None:
            vals = pd.to_numeric(df[rating], errors="coerce").to_numpy(dtype=np.float64)
            bad = ~np.isfinite(vals)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise DataFormatError(
                    f"{source}: column {rating!r} at data row {row + 1} is {df[rating].iloc[row]!r}, expected a number; "
                    "fix or drop such rows before loading."
                )
        ts = None
        if time is not None:
            ts = pd.to_numeric(df[time], errors="coerce").to_numpy(dtype=np.float64)
            bad = ~np.isfinite(ts)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise DataFormatError(
                    f"{source}: column {time!r} at data row {row + 1} is {df[time].iloc[row]!r}, expected a unix timestamp."
                )
        u_codes, users = _factorize_ids(u_raw)
        i_codes, items = _factorize_ids(i_raw)
        return cls._from_codes(u_codes, i_codes, vals, ts, users, items, duplicates=duplicates, source=source)

    @classmethod
    def _from_codes(cls, u: np.ndarray, i: np.ndarray, vals: np.ndarray, ts: np.ndarray | None,
                    users: Vocabulary, items: Vocabulary, *, duplicates: DuplicatePolicy = "error",
                    source: str = "input") -> Interactions:
        n_u, n_i = len(users), len(items)
        key = u.astype(np.int64) * n_i + i.astype(np.int64)
        # fast path: an unstable sort is enough when no (user, item) pair repeats
        order = np.argsort(key)
        sorted_key = key[order]
        if len(key) > 1 and (sorted_key[1:] == sorted_key[:-1]).any() and duplicates != "error":
            # stable order: by key, then by time (or row order) so first/last are well defined
            order = np.lexsort((ts, key)) if ts is not None else np.argsort(key, kind="stable")
            sorted_key = key[order]
        key, vals = sorted_key, vals[order]
        ts = ts[order] if ts is not None else None
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        if len(starts) != len(key):
            if duplicates == "error":
                dup_pos = np.flatnonzero(key[1:] == key[:-1])[0]
                k = key[dup_pos]
                raise DataFormatError(
                    f"{source}: user {users.ids[k // n_i]!r} and item {items.ids[k % n_i]!r} appear more than once "
                    f"({len(key) - len(starts)} duplicate rows in all); pass duplicates='sum', 'max', 'mean', 'first' or "
                    "'last' to say how to merge them."
                )
            if duplicates == "sum":
                merged = np.add.reduceat(vals, starts)
            elif duplicates == "max":
                merged = np.maximum.reduceat(vals, starts)
            elif duplicates == "mean":
                merged = np.add.reduceat(vals, starts) / np.diff(np.r_[starts, len(key)])
            elif duplicates == "first":
                merged = vals[starts]
            else:  # last
                ends = np.r_[starts[1:], len(key)] - 1
                merged = vals[ends]
            ends = np.r_[starts[1:], len(key)] - 1
            ts = ts[ends] if ts is not None else None  # latest time of the merged group
            key, vals = key[starts], merged
        # keys are sorted and unique: build CSR directly (no COO round trip)
        indptr = np.zeros(n_u + 1, dtype=np.int64)
        np.cumsum(np.bincount(key // n_i, minlength=n_u), out=indptr[1:])
        idx_dtype = np.int64 if max(len(key), n_u, n_i) >= np.iinfo(np.int32).max else np.int32
        cols = (key % n_i).astype(idx_dtype)
        indptr = indptr.astype(idx_dtype)
        m = sp.csr_matrix((vals.astype(np.float32), cols, indptr), shape=(n_u, n_i))
        m.has_sorted_indices = True
        t = None
        if ts is not None:
            t = sp.csr_matrix((ts, cols.copy(), indptr.copy()), shape=(n_u, n_i))
            t.has_sorted_indices = True
        return cls(m, users, items, t)

    # ------------------------------------------------------------------ basic views
    @property
    def n_users(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_items(self) -> int:
        return self.matrix.shape[1]

    @property
    def nnz(self) -> int:
        return int(self.matrix.nnz)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_users, self.n_items)

    def __len__(self) -> int:
        return self.nnz

    def __repr__(self) -> str:
        dens = self.nnz / max(1, self.n_users * self.n_items)
        return (f"Interactions({self.n_users} users × {self.n_items} items, {self.nnz} interactions, "
                f"density {dens:.4%}{', timed' if self.times is not None else ''})")

    def user_counts(self) -> np.ndarray:
        return np.diff(self.matrix.indptr)

    def item_counts(self) -> np.ndarray:
        return np.bincount(self.matrix.indices, minlength=self.n_items)

    def to_frame(self) -> pd.DataFrame:
        """Long frame ``user, item, value[, time]`` with raw ids."""
        coo = self.matrix.tocoo()
        df = pd.DataFrame({"user": self.users.ids[coo.row], "item": self.items.ids[coo.col], "value": coo.data})
        if self.times is not None:
            df["time"] = self.times.data
        return df

    def fingerprint(self) -> str:
        """sha256 over the matrix structure, values, timestamps and vocabularies."""
        h = hashlib.sha256()
        for arr in (self.matrix.indptr, self.matrix.indices, self.matrix.data):
            h.update(np.ascontiguousarray(arr).tobytes())
        if self.times is not None:
            h.update(self.times.data.tobytes())
        for vocab in (self.users, self.items):
            h.update("\x1f".join(vocab.ids).encode())
            h.update(b"\x1e")
        return h.hexdigest()

    # ------------------------------------------------------------------ selection
    def select_users(self, rows: Sequence[int] | np.ndarray) -> Interactions:
        """The given user rows (in that order), all items kept."""
        rows = np.asarray(rows, dtype=np.int64)
        t = self.times[rows] if self.times is not None else None
        return Interactions(self.matrix[rows], self.users.take(rows), self.items, t)

    def select_items(self, cols: Sequence[int] | np.ndarray) -> Interactions:
        """The given item columns (in that order), all users kept; other interactions are dropped."""
        cols = np.asarray(cols, dtype=np.int64)
        t = self.times[:, cols] if self.times is not None else None
        return Interactions(self.matrix[:, cols], self.users, self.items.take(cols), t)

    def with_values(self, data: np.ndarray) -> Interactions:
        """Same pattern, new values (e.g. all ones)."""
        m = self.matrix.copy()
        m.data = np.asarray(data, dtype=np.float32)
        return Interactions(m, self.users, self.items, self.times)

    def binarize(self, min_rating: float | None = None) -> Interactions:
        """See :func:`recgen.data.preprocess.binarize`."""
        from recgen.data.preprocess import binarize

        return binarize(self, min_rating)[0]

    def filter_min_counts(self, min_user: int = 1, min_item: int = 1) -> Interactions:
        """See :func:`recgen.data.preprocess.kcore`."""
        from recgen.data.preprocess import kcore

        return kcore(self, min_user=min_user, min_item=min_item)[0]
