"""Write and read synthetic users, chosen by file extension.

- ``.csv``: a ``user,item`` header, one interaction per line;
- ``.parquet`` / ``.pq``: columns ``user``, ``item`` (strings);
- ``.txt`` / ``.lines`` (any other extension): one user per line, ``user item item …`` separated by
  spaces (the layout of ml-1m-lightgcnpp). Ids must not contain whitespace in this format.

Reading maps items through the real vocabulary (``items``) so the synthetic matrix has the real
columns; an item the vocabulary does not know is an error naming it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recgen._io import atomic_file
from recgen.data.interactions import Interactions
from recgen.data.vocabulary import Vocabulary
from recgen.errors import DataFormatError

PathLike = str | os.PathLike[str]


def file_format(path: PathLike) -> str:
    suffix = Path(path).suffix.lower()
    return {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}.get(suffix, "lines")


def write_synthetic(data: Interactions, path: PathLike) -> Path:
    """Write ``data``'s interactions (values ignored) atomically in the format of ``path``'s extension."""
    if not isinstance(data, Interactions):
        raise DataFormatError(f"data must be recgen.data.Interactions, got {type(data).__name__}.")
    m = data.matrix
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    users, items = data.users.ids[rows], data.items.ids[m.indices]
    fmt = file_format(path)
    if fmt == "csv":
        with atomic_file(path, "w", encoding="utf-8", newline="") as fh:
            pd.DataFrame({"user": users, "item": items}).to_csv(fh, index=False)
    elif fmt == "parquet":
        with atomic_file(path, "wb") as fh:
            pd.DataFrame({"user": users.astype(str), "item": items.astype(str)}).to_parquet(fh, index=False)
    else:
        for what, ids in (("user", data.users.ids), ("item", data.items.ids)):
            if any(any(ch.isspace() for ch in s) for s in ids):
                raise DataFormatError(f"{path}: {what} ids contain whitespace, which the lines format cannot "
                                      "hold; write .csv or .parquet instead.")
        with atomic_file(path, "w", encoding="utf-8") as fh:
            for r in range(m.shape[0]):
                its = data.items.ids[m.indices[m.indptr[r]:m.indptr[r + 1]]]
                fh.write(" ".join([str(data.users.ids[r]), *its]) + "\n")
    return Path(path)


def read_synthetic(path: PathLike, items: Vocabulary | None = None) -> Interactions:
    """Read synthetic users back; with ``items`` the columns are that vocabulary (unknown ids raise)."""
    p = Path(path)
    if not p.is_file():
        raise DataFormatError(f"path={str(p)!r} does not exist; pass the --out file of `recgen synth sample`.")
    fmt = file_format(p)
    if fmt == "csv":
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
    elif fmt == "parquet":
        df = pd.read_parquet(p).astype(str)
    else:
        pairs = []
        for line in p.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if parts:
                pairs.extend((parts[0], it) for it in parts[1:])
                if len(parts) == 1:
                    pairs.append((parts[0], None))
        df = pd.DataFrame(pairs, columns=["user", "item"])
    if not {"user", "item"} <= set(df.columns):
        raise DataFormatError(f"{p}: expected columns 'user' and 'item', found {list(df.columns)}; "
                              "write the file with `recgen synth sample`.")
    user_ids = list(dict.fromkeys(df["user"].astype(str)))
    users = Vocabulary(user_ids)
    df = df[df["item"].notna()]
    if items is None:
        items = Vocabulary(sorted(set(df["item"].astype(str))))
    cols = items.lookup(df["item"].astype(str).to_numpy(), what="item")
    rows = users.lookup(df["user"].astype(str).to_numpy())
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(users), len(items)))
    m.sum_duplicates()
    m.data[:] = 1.0
    return Interactions(m, users, items)
