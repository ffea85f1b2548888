"""Side information: the :class:`Features` type (a sparse entity × feature matrix aligned to a vocabulary).

A :class:`Features` holds one row per entity (item or user, raw ids in ``ids``) and one column per
feature value (``columns``: ``"genre=Action"``, ``"age=[25,35)"``, ``"title:star"``). Fields are encoded as

- ``categorical``: one column per value, ``name=value`` (1.0);
- ``multi``: several values joined by ``sep`` (genres, tags), one column each (1.0);
- ``bins``: a number put in one of the intervals cut by ``edges`` (``(-inf, e0), [e0, e1), ..., [em, inf)``);
- ``text``: lower-cased alphanumeric tokens, TF-IDF weighted (``idf = ln((1 + n) / (1 + df)) + 1``) and
  L2-normalised within the field (``name:token``).

Missing values (``None``, NaN, ``""``) give no column and are recorded in ``missing`` (entity × field), never
guessed. :meth:`Features.encode` turns raw values of a new entity (``{"age": 25, "gender": "F"}``) into a
row with the same columns; an unknown field name is always an error, an unknown value an error unless
``unknown="ignore"`` (then it is treated as missing and reported). The whole object round-trips through
``to_arrays`` / ``from_arrays`` (numpy arrays + a JSON-able spec), so artifacts never pickle it.

Readers of real side information live in :mod:`recgen.data.features_readers`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recgen.data.vocabulary import Vocabulary
from recgen.errors import ConfigError, DataFormatError, suggest

FieldKind = Literal["categorical", "multi", "bins", "text"]
FIELD_KINDS: tuple[str, ...] = ("categorical", "multi", "bins", "text")
_TOKEN = re.compile(r"[a-z][a-z0-9']+")
_STOP = frozenset("the and of a an in on to for with from at by is it as or be la le el de der die das".split())


@dataclass(frozen=True)
class FieldSpec:
    """How one raw field becomes columns; ``edges`` only for ``bins``, ``sep`` only for ``multi``."""

    name: str
    kind: str
    sep: str = "|"
    edges: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "sep": self.sep, "edges": list(self.edges)}


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens of ``text`` (letters first, ≥ 2 characters, a few stop words removed)."""
    return [t for t in _TOKEN.findall(str(text).lower()) if t not in _STOP]


def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NA:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _bin_label(name: str, edges: Sequence[float], j: int) -> str:
    lo = "-inf" if j == 0 else f"{edges[j - 1]:g}"
    hi = "inf" if j == len(edges) else f"{edges[j]:g}"
    return f"{name}=[{lo},{hi})"


def _values(spec: FieldSpec, v: Any) -> list[str]:
    """Column names (before vocabulary filtering) of raw value ``v`` of field ``spec``; raises on bad numbers."""
    if spec.kind == "categorical":
        return [f"{spec.name}={str(v).strip()}"]
    if spec.kind == "multi":
        return [f"{spec.name}={p.strip()}" for p in str(v).split(spec.sep) if p.strip()]
    if spec.kind == "bins":
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise DataFormatError(f"{spec.name}={v!r} is not a number; pass a number such as {spec.name}=25.") from None
        if not math.isfinite(x):
            raise DataFormatError(f"{spec.name}={v!r} is not finite; pass a finite number.")
        return [_bin_label(spec.name, spec.edges, int(np.searchsorted(spec.edges, x, side="right")))]
    return [f"{spec.name}:{t}" for t in tokenize(v)]


@dataclass(frozen=True)
class Features:
    """Entity × feature matrix (CSR float32) with its row ids, column names, field specs and missing flags."""

    ids: Vocabulary
    matrix: sp.csr_matrix
    columns: Vocabulary
    fields: tuple[FieldSpec, ...]
    #: per column: inverse document frequency (text columns) or 1.0
    idf: np.ndarray
    #: (n_rows, n_fields) bool: the field's value was missing (or, after ``align``, the whole row was absent)
    missing: np.ndarray
    column_field: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        m = sp.csr_matrix(self.matrix, dtype=np.float32)
        if m.shape != (len(self.ids), len(self.columns)):
            raise DataFormatError(f"Features.matrix has shape {m.shape}; expected ({len(self.ids)}, {len(self.columns)}).")
        if self.missing.shape != (len(self.ids), len(self.fields)) or len(self.idf) != len(self.columns):
            raise DataFormatError("Features.missing / idf do not match the rows, fields and columns.")
        object.__setattr__(self, "matrix", m)
        names = [f.name for f in self.fields]
        col_field = np.array([names.index(re.split(r"[=:]", c, maxsplit=1)[0]) for c in self.columns.ids],
                             dtype=np.int64)
        object.__setattr__(self, "column_field", col_field)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(cls, df: pd.DataFrame, id: str, *, categorical: Iterable[str] = (), multi: Iterable[str] = (),
                   bins: Mapping[str, Sequence[float]] | None = None, text: Iterable[str] = (), sep: str = "|",
                   min_count: int = 1) -> Features:
        """Encode columns of ``df`` (one row per entity, ids in column ``id``); values in fewer than
        ``min_count`` rows are dropped (text tokens and multi values; categorical values and bins are kept)."""
        specs = ([FieldSpec(n, "categorical") for n in categorical] + [FieldSpec(n, "multi", sep=sep) for n in multi]
                 + [FieldSpec(n, "bins", edges=tuple(float(e) for e in e_)) for n, e_ in (bins or {}).items()]
                 + [FieldSpec(n, "text") for n in text])
        if not specs:
            raise ConfigError("no feature fields given; pass categorical=, multi=, bins= or text= column names.")
        for s in specs:
            if s.name not in df.columns:
                raise DataFormatError(f"feature column {s.name!r} is not in the frame;{suggest(s.name, df.columns)} "
                                      f"available: {list(df.columns)}.")
            if s.kind == "bins" and (not s.edges or list(s.edges) != sorted(set(s.edges))):
                raise ConfigError(f"bins[{s.name!r}]={list(s.edges)} must be strictly increasing edges, e.g. [18, 25, 35].")
        if id not in df.columns:
            raise DataFormatError(f"id column {id!r} is not in the frame; available: {list(df.columns)}.")
        if len({s.name for s in specs}) != len(specs):
            raise ConfigError("a field appears in two kinds; give each column one of categorical/multi/bins/text.")
        ids = Vocabulary(df[id].astype(str).tolist())
        n = len(ids)
        missing = np.zeros((n, len(specs)), dtype=bool)
        per_row: list[dict[str, float]] = [{} for _ in range(n)]
        for f, s in enumerate(specs):
            for r, v in enumerate(df[s.name].tolist()):
                if _is_missing(v):
                    missing[r, f] = True
                    continue
                cols = _values(s, v)
                if not cols:
                    missing[r, f] = True
                for c in cols:
                    per_row[r][c] = per_row[r].get(c, 0.0) + 1.0
        counts: dict[str, int] = {}
        for row in per_row:
            for c in row:
                counts[c] = counts.get(c, 0) + 1
        kind = {s.name: s.kind for s in specs}

        def keep(c: str) -> bool:
            k = kind[re.split(r"[=:]", c, maxsplit=1)[0]]
            return k in ("categorical", "bins") or counts[c] >= min_count

        columns = Vocabulary(sorted(c for c in counts if keep(c)))
        idf = np.array([math.log((1 + n) / (1 + counts[c])) + 1.0 if kind[re.split(r"[=:]", c, maxsplit=1)[0]] == "text"
                        else 1.0 for c in columns.ids], dtype=np.float32)
        out = cls(ids, sp.csr_matrix((n, len(columns)), dtype=np.float32), columns, tuple(specs), idf, missing)
        matrix = out._rows(per_row)
        return cls(ids, matrix, columns, tuple(specs), idf, missing)

    def _rows(self, per_row: Sequence[Mapping[str, float]]) -> sp.csr_matrix:
        """CSR rows from {column name: raw count}; text counts get tf·idf and an L2 norm per field."""
        rr, cc, vv = [], [], []
        pos = {c: j for j, c in enumerate(self.columns.ids)}
        for r, row in enumerate(per_row):
            for c in row:
                j = pos.get(c)
                if j is None:
                    continue
                rr.append(r)
                cc.append(int(j))
                vv.append(row[c] * float(self.idf[j]) if self.fields[self.column_field[j]].kind == "text" else 1.0)
        m = sp.csr_matrix((np.asarray(vv, dtype=np.float32), (np.asarray(rr, dtype=np.int64),
                                                                np.asarray(cc, dtype=np.int64))),
                          shape=(len(per_row), len(self.columns)))
        m.sum_duplicates()
        text_fields = [i for i, s in enumerate(self.fields) if s.kind == "text"]
        if text_fields:
            coo = m.tocoo()
            fld = self.column_field[coo.col]
            key = coo.row.astype(np.int64) * len(self.fields) + fld
            sq = np.bincount(key, weights=coo.data.astype(np.float64) ** 2, minlength=m.shape[0] * len(self.fields))
            is_text = np.isin(fld, text_fields)
            coo.data[is_text] = (coo.data[is_text] / np.sqrt(sq[key[is_text]])).astype(np.float32)
            m = coo.tocsr()
        return m

    # ------------------------------------------------------------------ use
    @property
    def n_features(self) -> int:
        return len(self.columns)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return (f"Features({len(self.ids)} rows × {self.n_features} columns; fields "
                f"{', '.join(f'{f.name}:{f.kind}' for f in self.fields)})")

    def align(self, vocab: Vocabulary, *, absent: Literal["zeros", "error"] = "zeros") -> Features:
        """Rows reordered to ``vocab``; ids of ``vocab`` without a row get an all-zero row, every field
        flagged missing (``absent="zeros"``) or raise (``absent="error"``). Extra rows are dropped."""
        idx = self.ids.lookup(vocab.ids, unknown="ignore")
        if absent == "error" and (idx < 0).any():
            miss = vocab.ids[idx < 0]
            raise DataFormatError(f"{len(miss)} id(s) have no features, e.g. {list(miss[:5])}; add rows for them or "
                                  "pass absent='zeros' to give them empty (all-missing) feature rows.")
        safe = np.where(idx >= 0, idx, 0)
        keep = sp.diags((idx >= 0).astype(np.float32))
        matrix = sp.csr_matrix(keep @ self.matrix[safe])
        matrix.eliminate_zeros()
        missing = np.where((idx >= 0)[:, None], self.missing[safe], True)
        return Features(vocab, matrix, self.columns, self.fields, self.idf, missing)

    def encode(self, records: Sequence[Mapping[str, Any]], *, unknown: Literal["error", "ignore"] = "error"
               ) -> tuple[sp.csr_matrix, list[list[str]]]:
        """Rows for new entities from raw values; returns (CSR (len(records), n_features), per record the
        list of fields that were given but ignored (unknown values with ``unknown="ignore"``))."""
        names = self.field_names
        spec = {f.name: f for f in self.fields}
        per_row, ignored = [], []
        for rec in records:
            row: dict[str, float] = {}
            dropped: list[str] = []
            for key, v in rec.items():
                if key not in spec:
                    raise ConfigError(f"unknown feature field {key!r};{suggest(key, names)} valid fields: "
                                      f"{', '.join(names)}.")
                if _is_missing(v):
                    continue
                cols = _values(spec[key], v)
                known = [c for c in cols if c in self.columns]
                if spec[key].kind in ("categorical", "multi") and len(known) < len(cols):
                    bad = next(c for c in cols if c not in self.columns).split("=", 1)[1]
                    if unknown == "error":
                        vals = sorted(c.split("=", 1)[1] for c in self.columns.ids if c.startswith(f"{key}="))
                        raise ConfigError(f"{key}={bad!r} is not a known value;{suggest(bad, vals)} known values: "
                                          f"{', '.join(vals[:30])}{' ...' if len(vals) > 30 else ''}. Pass "
                                          "unknown='ignore' (CLI: --ignore-unknown) to treat it as missing.")
                    dropped.append(f"{key}={bad}")
                if spec[key].kind == "bins" and not known:  # a bin never seen in training: no column
                    dropped.append(f"{key}={v}")
                for c in known:
                    row[c] = row.get(c, 0.0) + 1.0
            per_row.append(row)
            ignored.append(dropped)
        return self._rows(per_row), ignored

    def rows_for(self, raw_ids: Sequence[object]) -> sp.csr_matrix:
        """The feature rows of known entities (raises :class:`~recgen.errors.UnknownIdError` for others)."""
        return self.matrix[self.ids.lookup(raw_ids, what="entity")]

    def describe(self, row: int, top: int = 8) -> list[str]:
        """Readable column names of one row, strongest first (for explanations and docs)."""
        r = self.matrix[row]
        order = np.argsort(-r.data, kind="stable")[:top]
        return [str(self.columns.ids[r.indices[o]]) for o in order]

    # ------------------------------------------------------------------ persistence (no pickle)
    def to_arrays(self, prefix: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """(arrays for safetensors, JSON-able spec) — the inverse of :meth:`from_arrays`."""
        m = self.matrix
        arrays = {f"{prefix}.indptr": m.indptr.astype(np.int64), f"{prefix}.indices": m.indices.astype(np.int64),
                  f"{prefix}.data": m.data.astype(np.float32), f"{prefix}.idf": self.idf.astype(np.float32),
                  f"{prefix}.missing": self.missing.astype(np.uint8)}
        spec = {"ids": self.ids.to_list(), "columns": self.columns.to_list(),
                "fields": [f.to_dict() for f in self.fields]}
        return arrays, spec

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], spec: Mapping[str, Any], prefix: str) -> Features:
        ids, columns = Vocabulary(spec["ids"]), Vocabulary(spec["columns"])
        fields = tuple(FieldSpec(f["name"], f["kind"], f.get("sep", "|"), tuple(f.get("edges", ()))) for f in spec["fields"])
        m = sp.csr_matrix((arrays[f"{prefix}.data"], arrays[f"{prefix}.indices"], arrays[f"{prefix}.indptr"]),
                          shape=(len(ids), len(columns)))
        missing = np.asarray(arrays[f"{prefix}.missing"], dtype=bool).reshape(len(ids), len(fields))
        return cls(ids, m, columns, fields, np.asarray(arrays[f"{prefix}.idf"], dtype=np.float32), missing)


def parse_feature_string(text: str) -> dict[str, str]:
    """``"age=25,gender=F,occupation=student"`` → dict; raises naming the malformed part."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in str(text).split(",")):
        if not part:
            continue
        if "=" not in part or not part.split("=", 1)[0].strip():
            raise ConfigError(f"feature {part!r} in {text!r} is not name=value; write e.g. age=25,gender=F.")
        k, v = part.split("=", 1)
        if k.strip() in out:
            raise ConfigError(f"feature {k.strip()!r} is given twice in {text!r}; give each field once.")
        out[k.strip()] = v.strip()
    if not out:
        raise ConfigError(f"{text!r} holds no features; write e.g. age=25,gender=F,occupation=student.")
    return out


__all__ = ["FIELD_KINDS", "Features", "FieldSpec", "parse_feature_string", "tokenize"]
