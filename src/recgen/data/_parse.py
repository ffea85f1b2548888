"""Vectorised parsing of delimited interaction files, with a slow path that only runs to explain a failure.

The happy path hands the whole file to ``pyarrow.csv`` (multi-threaded C++). Only when that parse, or a
check on its result, fails do we walk the file line by line in Python to find the *first* bad line and
name it in a :class:`~recgen.errors.DataFormatError` (file, line number, what was expected, what was found).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from recgen.errors import DataFormatError

# canonical integer: no leading zeros (so "007" stays a string id and is never merged with "7"), no sign on 0
_INT_RE = r"^(0|-?[1-9][0-9]{0,17})$"
NULL_VALUES = ["", "NaN", "nan", "NA", "N/A", "null", "NULL", "None"]


@dataclass(frozen=True)
class Field:
    """One column of a delimited file: its name and kind.

    Kinds: ``"id"`` (any token), ``"int_id"`` (integer), ``"num"`` (finite float), ``"time"`` (unix seconds or
    an ISO date-time, type inferred), ``"skip"`` (not validated).
    """

    name: str
    kind: str


def read_text_head(path: Path, n_bytes: int = 65536, encoding: str = "utf-8") -> str:
    with open(path, "rb") as fh:
        return fh.read(n_bytes).decode(encoding, errors="replace")


def check_nonempty(path: Path) -> None:
    if not path.is_file():
        raise DataFormatError(f"path={str(path)!r} is not a file; pass the path of an existing data file.")
    if os.path.getsize(path) == 0 or not read_text_head(path).strip():
        raise DataFormatError(f"{path}: the file is empty; expected interaction rows. Check the download or export.")


def ids_to_pandas(arr: pa.ChunkedArray | pa.Array, *, require_int: bool = False, keep_str: bool = False) -> pd.Series:
    """Arrow string ids → pandas: int64 when every id is a canonical integer, else strings.

    Returns an int64 Series for integer ids (fast to factorise and sorted numerically downstream).
    With ``require_int`` a non-integer id raises ``ValueError`` (the caller locates the line); with
    ``keep_str`` the ids stay strings whatever they look like.
    """
    if keep_str:
        return pd.Series(np.asarray(pc.cast(arr, pa.string()).to_numpy(zero_copy_only=False), dtype=object),
                         dtype=object)
    if pa.types.is_integer(arr.type):
        return pd.Series(arr.to_numpy(), dtype=np.int64, copy=False)
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    as_int = _canonical_int(arr)
    if as_int is not None:
        return pd.Series(as_int, dtype=np.int64, copy=False)
    if require_int:
        raise ValueError("non-integer id")
    return pd.Series(np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object), dtype=object)


def _canonical_int(arr: pa.ChunkedArray | pa.Array) -> np.ndarray | None:
    """int64 values when every string is a canonical integer (no sign, no leading zero), else None.

    A cast plus two prefix tests is several times cheaper than a regex over tens of millions of ids.
    """
    try:
        out = pc.cast(arr, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if pc.any(pc.starts_with(arr, "+")).as_py() or pc.any(pc.starts_with(arr, "-0")).as_py():
        return None
    if pc.any(pc.starts_with(arr, "0")).as_py():
        if not pc.all(pc.match_substring_regex(arr, _INT_RE)).as_py():
            return None
    return out.to_numpy()


def numbers_to_numpy(arr: pa.ChunkedArray) -> np.ndarray:
    """A numeric (or timestamp) Arrow column → float64; raises ``ValueError`` when not finite everywhere."""
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
        arr = pc.cast(pc.cast(arr, pa.timestamp("s")), pa.int64())
    if arr.null_count:
        raise ValueError("null")
    out = pc.cast(arr, pa.float64()).to_numpy()
    if not np.isfinite(out).all():
        raise ValueError("not finite")
    return out


def _check_token(tok: str, kind: str) -> str | None:
    """Why ``tok`` is not a valid value of ``kind``, or None."""
    t = tok.strip()
    if kind == "skip":
        return None
    if t == "":
        return "empty"
    if t in NULL_VALUES:
        return f"{t!r}, a missing value"
    if kind == "int_id":
        try:
            int(t)
        except ValueError:
            return f"{t!r}, not an integer id"
    elif kind in ("num", "time"):
        try:
            v = float(t)
        except ValueError:
            if kind == "time" and _is_datetime(t):
                return None
            return f"{t!r}, not a number"
        if not math.isfinite(v):
            return f"{t!r}, not a finite number"
    return None


def _is_datetime(t: str) -> bool:
    try:
        pd.Timestamp(t)
    except ValueError:
        return False
    return True


def locate_bad_line(path: Path, sep: str | None, fields: Sequence[Field], *, header: bool,
                    encoding: str = "utf-8", expected: str = "", n_fields: int | None = None,
                    columns: Sequence[int] | None = None) -> DataFormatError:
    """Walk the file (slow path) and build the error for its first malformed line.

    ``fields`` are the columns to validate, at positions ``columns`` (default 0..len-1); ``n_fields`` is the
    exact field count every line must have (default len(fields)); ``sep=None`` splits on whitespace.
    """
    n_fields = n_fields if n_fields is not None else len(fields)
    columns = list(columns) if columns is not None else list(range(len(fields)))
    what = expected or (sep or "whitespace").join(f.name for f in fields)
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.rstrip("\r\n")
            if header and lineno == 1:
                continue
            if not line.strip():
                continue
            parts = line.split(sep) if sep is not None else line.split()
            if len(parts) != n_fields:
                return DataFormatError(
                    f"{path}, line {lineno}: expected {n_fields} fields ({what}) separated by "
                    f"{repr(sep) if sep else 'whitespace'}, found {len(parts)}: {line[:120]!r}. Fix or remove the line."
                )
            for f, c in zip(fields, columns, strict=True):
                why = _check_token(parts[c], f.kind)
                if why is not None:
                    return DataFormatError(
                        f"{path}, line {lineno}: field {f.name!r} (column {c + 1}) is {why}; expected "
                        f"{'an integer id' if f.kind == 'int_id' else 'a number' if f.kind == 'num' else 'an id'}. "
                        f"Line: {line[:120]!r}. Fix or remove the line."
                    )
    return DataFormatError(
        f"{path}: could not be parsed as {what} and no single bad line was found (check the encoding and quoting)."
    )


def read_delimited(path: Path, sep: str, fields: Sequence[Field], *, header: bool = False,
                   encoding: str = "utf-8", include: Sequence[str] | None = None,
                   quoting: bool = False, expected: str = "") -> pd.DataFrame:
    """Read a delimited file whose every line has exactly ``len(fields)`` columns.

    A multi-character ``sep`` (MovieLens ``::``) is rewritten to ``\\x1f`` in memory first: one bytes
    ``replace`` is far faster than a Python-engine parse.
    Columns of kind ``skip`` are dropped; ids stay int64 when all are integers (strings otherwise).
    """
    check_nonempty(path)
    names = [f.name for f in fields]
    source: object = str(path)
    delim = sep
    if len(sep) > 1:
        raw = Path(path).read_bytes()
        if b"\x1f" in raw:  # the ASCII unit separator never occurs in these text files
            raise locate_bad_line(path, sep, fields, header=header, encoding=encoding, expected=expected)
        source = io.BytesIO(raw.replace(sep.encode(), b"\x1f"))
        delim = "\x1f"
    types = {f.name: pa.string() for f in fields if f.kind in ("id", "int_id", "str_id")}
    types.update({f.name: pa.float64() for f in fields if f.kind == "num"})
    keep = [f.name for f in fields if f.kind != "skip"] if include is None else list(include)
    try:
        table = pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1 if header else 0, encoding=encoding,
                                           block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delim, quote_char='"' if quoting else False),
            convert_options=pacsv.ConvertOptions(column_types=types, include_columns=keep, null_values=NULL_VALUES,
                                                 strings_can_be_null=True),
        )
        if table.num_rows == 0:
            raise DataFormatError(f"{path}: no data rows; expected lines of {expected or sep.join(names)}.")
        out: dict[str, object] = {}
        for f in fields:
            if f.name not in keep:
                continue
            col = table.column(f.name)
            if f.kind in ("id", "int_id", "str_id"):
                if col.null_count:
                    raise ValueError("null id")
                out[f.name] = ids_to_pandas(col, require_int=f.kind == "int_id", keep_str=f.kind == "str_id")
            else:
                out[f.name] = numbers_to_numpy(col)
        return pd.DataFrame(out, copy=False)  # no block consolidation: copying 20M rows costs seconds
    except DataFormatError:
        raise
    except (pa.ArrowInvalid, ValueError) as exc:
        err = locate_bad_line(path, sep, fields, header=header, encoding=encoding, expected=expected)
        raise err from exc
