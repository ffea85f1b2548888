"""Vocabularies map raw ids (always strings) to contiguous indices and back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from recgen.errors import DataFormatError, UnknownIdError

UnknownPolicy = Literal["error", "ignore"]


class Vocabulary:
    """An ordered, duplicate-free list of raw ids; ``index`` ↔ ``id``.

    Raw ids are stored as strings so that ids read from any file format compare equal
    (``"12"`` from a CSV and ``12`` from Parquet are the same user).
    """

    __slots__ = ("_ids", "_index")

    def __init__(self, ids: Iterable[object]) -> None:
        arr = np.asarray([str(x) for x in ids], dtype=object)
        index = pd.Index(arr)
        if not index.is_unique:
            dup = index[index.duplicated()][0]
            raise DataFormatError(f"vocabulary ids must be unique; {dup!r} appears more than once.")
        self._ids = arr
        self._index = index

    @classmethod
    def range(cls, n: int) -> Vocabulary:
        """Ids ``"0" .. str(n-1)``, for data that is already 0-based."""
        return cls(map(str, range(n)))

    def __len__(self) -> int:
        return len(self._ids)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and len(self) == len(other) and bool(np.all(self._ids == other._ids))

    def __hash__(self) -> int:  # pragma: no cover - vocabularies are not meant as dict keys
        return hash(tuple(self._ids[:16]))

    def __repr__(self) -> str:
        head = ", ".join(self._ids[:3])
        return f"Vocabulary({len(self)} ids: {head}{', ...' if len(self) > 3 else ''})"

    @property
    def ids(self) -> np.ndarray:
        """Raw ids in index order (object array of str)."""
        return self._ids

    def to_list(self) -> list[str]:
        return self._ids.tolist()

    def __contains__(self, raw: object) -> bool:
        return str(raw) in self._index

    def lookup(self, raw_ids: Sequence[object] | np.ndarray, *, unknown: UnknownPolicy = "error",
               what: str = "id") -> np.ndarray:
        """Indices of ``raw_ids``.

        ``unknown="error"`` raises :class:`UnknownIdError` naming the missing ids;
        ``unknown="ignore"`` returns ``-1`` for them (the caller must drop them explicitly).
        """
        keys = np.asarray([str(x) for x in raw_ids], dtype=object)
        idx = self._index.get_indexer(keys)
        if unknown == "error" and (idx < 0).any():
            missing = keys[idx < 0]
            shown = ", ".join(map(repr, missing[:5])) + (" ..." if len(missing) > 5 else "")
            raise UnknownIdError(
                f"{len(missing)} unknown {what}(s): {shown}; they are not in the model's vocabulary of "
                f"{len(self)} {what}s. Check the ids, or pass unknown='ignore' to drop them."
            )
        return idx.astype(np.int64)

    def take(self, indices: Sequence[int] | np.ndarray) -> Vocabulary:
        """A new vocabulary holding the ids at ``indices``, in that order."""
        return Vocabulary(self._ids[np.asarray(indices, dtype=np.int64)])
