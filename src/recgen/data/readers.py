"""Read interaction files into a canonical frame or straight into :class:`~recgen.data.Interactions`.

Canonical frame columns: ``user``, ``item``, optional ``rating`` (float64) and optional ``time`` (float64
unix seconds). Ids keep an int64 dtype when every id in the column is a canonical integer (no leading
zeros), so ``Interactions.from_frame`` sorts them numerically and fast; otherwise they stay strings
(MovieTweetings' IMDb ids such as ``"0104257"`` keep their leading zeros).

Formats: ``csv`` / ``tsv`` (header required, column mapping), ``parquet``, ``movielens`` (100K / 1M / 10M /
20M / 25M / latest), ``movietweetings``, ``lastfm`` (hetrec ``user_artists.dat``), ``lines``
(``user item item ...``), ``pairs`` (``user item [weight]``) and ``auto``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from recgen.data._parse import (
    NULL_VALUES,
    Field,
    check_nonempty,
    ids_to_pandas,
    locate_bad_line,
    numbers_to_numpy,
    read_delimited,
    read_text_head,
)
from recgen.data.interactions import DuplicatePolicy, Interactions
from recgen.data.movielens import find_movielens_ratings, read_movielens, read_movietweetings
from recgen.errors import DataFormatError, suggest

logger = logging.getLogger(__name__)

FORMATS = ("auto", "csv", "tsv", "parquet", "movielens", "movietweetings", "lastfm", "lines", "pairs")
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "user": ("user", "userId", "user_id", "userID", "UserId", "uid", "visitorid"),
    "item": ("item", "itemId", "item_id", "movieId", "movie_id", "artistID", "artist_id", "itemID", "iid", "itemid"),
    "rating": ("rating", "ratings", "score", "weight", "value"),
    "time": ("timestamp", "time", "ts", "datetime", "date"),
}

PathLike = str | os.PathLike[str]


def read_frame(path: PathLike, format: str = "auto", *, user: str | None = None, item: str | None = None,
               rating: str | None = None, time: str | None = None, sep: str | None = None) -> pd.DataFrame:
    """Read an interaction file into a frame with columns ``user``, ``item`` [, ``rating``] [, ``time``].

    ``user`` / ``item`` / ``rating`` / ``time`` name the source columns for ``csv``, ``tsv`` and
    ``parquet``; when left out, common names are tried (``userId``, ``movieId``, ``timestamp``, ...).
    ``rating`` / ``time`` that are not given and not found are simply absent. ``sep`` overrides the
    separator of ``csv`` / ``tsv``. Raises :class:`~recgen.errors.DataFormatError` naming the file, the line,
    what was expected and what was found.
    """
    p = Path(path)
    fmt = detect_format(p) if format == "auto" else format
    if fmt not in FORMATS:
        raise DataFormatError(f"format={format!r} is not supported; choose one of {FORMATS}.{suggest(format, FORMATS)}")
    if not p.exists():
        raise DataFormatError(f"path={str(p)!r} does not exist; pass an existing file or dataset directory.")
    if fmt in ("csv", "tsv"):
        return _read_csv(p, fmt, user=user, item=item, rating=rating, time=time, sep=sep)
    if fmt == "parquet":
        return _read_parquet(p, user=user, item=item, rating=rating, time=time)
    if fmt == "movielens":
        return read_movielens(p)
    if fmt == "movietweetings":
        return read_movietweetings(p)
    if fmt == "lastfm":
        f = p / "user_artists.dat" if p.is_dir() else p
        return _read_csv(f, "tsv", user=user or "userID", item=item or "artistID", rating=rating or "weight",
                         time=None, sep="\t", int_ids=True)
    if fmt == "lines":
        return _read_lines(p)
    return _read_pairs(p)


def read_interactions(path: PathLike, format: str = "auto", *, user: str | None = None, item: str | None = None,
                      rating: str | None = None, time: str | None = None, sep: str | None = None,
                      duplicates: DuplicatePolicy = "error") -> Interactions:
    """``Interactions.from_frame(read_frame(...))``: see :func:`read_frame`; ``duplicates`` is passed on."""
    df = read_frame(path, format, user=user, item=item, rating=rating, time=time, sep=sep)
    return Interactions.from_frame(df, user="user", item="item",
                                   rating="rating" if "rating" in df.columns else None,
                                   time="time" if "time" in df.columns else None,
                                   duplicates=duplicates, source=str(path))


def detect_format(path: Path) -> str:
    """Format from the file extension or the directory's contents."""
    if path.is_dir():
        names = {c.name for c in path.iterdir()}
        if "user_artists.dat" in names:
            return "lastfm"
        if "ratings.dat" in names and "movies.dat" in names and _looks_like_movietweetings(path / "ratings.dat"):
            return "movietweetings"
        if find_movielens_ratings(path) is not None:
            return "movielens"
        raise DataFormatError(
            f"path={str(path)!r}: cannot tell the format from the directory contents {sorted(names)[:10]}; "
            "pass format='movielens', 'movietweetings', 'lastfm', ... or the path of the ratings file."
        )
    name = path.name.lower()
    if name == "user_artists.dat":
        return "lastfm"
    if name in ("u.data", "ratings.dat"):
        if name == "ratings.dat" and _looks_like_movietweetings(path):
            return "movietweetings"
        return "movielens"
    suffix = path.suffix.lower()
    if suffix in (".csv",):
        return "csv"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".txt":
        return "lines"
    raise DataFormatError(
        f"path={str(path)!r}: cannot tell the format from the extension {suffix or '(none)'!r}; "
        f"pass format= one of {FORMATS[1:]}."
    )


def _looks_like_movietweetings(path: Path) -> bool:
    """MovieTweetings item ids are 7-digit IMDb ids; MovieLens ones are small integers."""
    if not path.is_file():
        return False
    lines = [ln for ln in read_text_head(path, 4096).splitlines()[:20] if ln.count("::") == 3]
    return bool(lines) and all(len(ln.split("::")[1]) == 7 for ln in lines)


def _resolve(role: str, given: str | None, columns: Sequence[str], path: Path, required: bool) -> str | None:
    if given is not None:
        if given not in columns:
            raise DataFormatError(
                f"{path}: column {given!r} (argument {role}=) not found; available columns: {list(columns)}. "
                f"Pass {role}='<column name>'.{suggest(given, columns)}"
            )
        return given
    for cand in DEFAULT_COLUMNS[role]:
        if cand in columns:
            return cand
    lowered = {c.lower(): c for c in columns}
    for cand in DEFAULT_COLUMNS[role]:
        if cand.lower() in lowered:
            return lowered[cand.lower()]
    if required:
        raise DataFormatError(
            f"{path}: no {role} column found among {list(columns)} (tried {list(DEFAULT_COLUMNS[role])}); "
            f"pass {role}='<column name>'."
        )
    return None


def _sniff_sep(header: str) -> str:
    counts = {s: header.count(s) for s in ("\t", ",", ";", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _read_csv(path: Path, fmt: str, *, user: str | None, item: str | None, rating: str | None, time: str | None,
              sep: str | None, int_ids: bool = False) -> pd.DataFrame:
    check_nonempty(path)
    first = read_text_head(path).splitlines()[0].lstrip("\ufeff")
    if sep is None:
        sep = "\t" if fmt == "tsv" else "," if path.suffix.lower() == ".csv" else _sniff_sep(first)
    columns = [c.strip().strip('"') for c in first.split(sep)]
    if all(_is_number(c) for c in columns):
        raise DataFormatError(
            f"{path}, line 1: expected a header line naming the columns, found data {first[:80]!r}; "
            "add a header (e.g. user,item,rating,timestamp) or use format='pairs'."
        )
    roles = {"user": _resolve("user", user, columns, path, True), "item": _resolve("item", item, columns, path, True),
             "rating": _resolve("rating", rating, columns, path, False),
             "time": _resolve("time", time, columns, path, False)}
    kinds = {"user": "int_id" if int_ids else "id", "item": "int_id" if int_ids else "id", "rating": "num",
             "time": "time"}
    by_col = {col: role for role, col in roles.items() if col is not None}
    fields = [Field(c, kinds[by_col[c]] if c in by_col else "skip") for c in columns]
    if len(set(columns)) != len(columns):
        raise DataFormatError(f"{path}, line 1: duplicate column names in the header {columns}; rename them.")
    try:
        table = pacsv.read_csv(
            str(path),
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(
                column_types={c: (pa.float64() if by_col[c] == "rating" else pa.string())
                              for c in by_col if by_col[c] != "time"},
                include_columns=list(by_col), null_values=NULL_VALUES, strings_can_be_null=True),
        )
        if table.num_rows == 0:
            raise DataFormatError(f"{path}: a header but no data rows; expected lines of {sep.join(columns)}.")
        out: dict[str, object] = {}
        for role in ("user", "item", "rating", "time"):
            col = roles[role]
            if col is None:
                continue
            arr = table.column(col)
            if role in ("user", "item"):
                if arr.null_count:
                    raise ValueError("null id")
                out[role] = ids_to_pandas(arr, require_int=int_ids)
            else:
                out[role] = numbers_to_numpy(arr)
        return pd.DataFrame(out, copy=False)  # no block consolidation: copying 20M rows costs seconds
    except DataFormatError:
        raise
    except (pa.ArrowInvalid, ValueError) as exc:
        raise locate_bad_line(path, sep, fields, header=True, expected=sep.join(columns)) from exc


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _read_parquet(path: Path, *, user: str | None, item: str | None, rating: str | None,
                  time: str | None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataFormatError(f"{path}: not a readable Parquet file ({exc}); check the file or pass format=.") from exc
    columns = list(schema.names)
    roles = {"user": _resolve("user", user, columns, path, True), "item": _resolve("item", item, columns, path, True),
             "rating": _resolve("rating", rating, columns, path, False),
             "time": _resolve("time", time, columns, path, False)}
    table = pq.read_table(path, columns=[c for c in roles.values() if c is not None])
    if table.num_rows == 0:
        raise DataFormatError(f"{path}: the Parquet file has no rows; expected interactions.")
    out: dict[str, object] = {}
    for role, col in roles.items():
        if col is None:
            continue
        arr = table.column(col)
        bad_row = None
        if arr.null_count:
            bad_row = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
        elif role in ("user", "item"):
            out[role] = ids_to_pandas(arr)
        else:
            try:
                out[role] = numbers_to_numpy(arr)
            except (ValueError, pa.ArrowInvalid):
                vals = pc.cast(arr, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
                bad_row = int(np.flatnonzero(~np.isfinite(vals))[0]) if not np.isfinite(vals).all() else 0
        if bad_row is not None:
            raise DataFormatError(
                f"{path}, row {bad_row + 1}: column {col!r} ({role}) is {arr[bad_row].as_py()!r}; expected "
                f"{'an id' if role in ('user', 'item') else 'a finite number'}. Fix or drop such rows."
            )
    return pd.DataFrame(out, copy=False)  # no block consolidation: copying 20M rows costs seconds


def _whitespace_tokens(path: Path, expected: str) -> pa.ChunkedArray:
    """Each line's whitespace-separated tokens (a list array), parsed by Arrow; blank lines are skipped."""
    try:
        table = pacsv.read_csv(
            str(path),
            read_options=pacsv.ReadOptions(column_names=["line"], block_size=1 << 24),
            # \x01 never occurs in these text files: each line becomes one string
            parse_options=pacsv.ParseOptions(delimiter="\x01", quote_char=False, escape_char=False),
            convert_options=pacsv.ConvertOptions(column_types={"line": pa.string()}, strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        raise DataFormatError(f"{path}: not a UTF-8 text file of '{expected}' lines ({exc}).") from exc
    return pc.ascii_split_whitespace(table.column("line"))  # ASCII whitespace; UTF-8 ids pass through


def _read_lines(path: Path) -> pd.DataFrame:
    """``user item item ...`` per line (whitespace-separated); a user alone on a line contributes no rows."""
    check_nonempty(path)
    tokens = _whitespace_tokens(path, "user item item ...")
    lengths = pc.list_value_length(tokens).to_numpy(zero_copy_only=False)
    keep = lengths > 0
    flat = pc.list_flatten(tokens)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])[keep]
    n_items = lengths[keep] - 1
    ids = ids_to_pandas(flat)
    is_user = np.zeros(len(flat), dtype=bool)
    is_user[starts] = True
    users = ids.to_numpy()[starts]
    df = pd.DataFrame({"user": np.repeat(users, n_items), "item": ids.to_numpy()[~is_user]}, copy=False)
    if len(df) == 0:
        raise DataFormatError(f"{path}: no 'user item ...' pairs found (every line holds a user id only).")
    return df


def _read_pairs(path: Path) -> pd.DataFrame:
    """``user item [weight]`` per line, whitespace-separated; the weight becomes the rating column."""
    check_nonempty(path)
    first = next(ln for ln in read_text_head(path).splitlines() if ln.strip())
    n = len(first.split())
    if n not in (2, 3):
        raise DataFormatError(
            f"{path}, line 1: expected 2 or 3 whitespace-separated fields (user item [weight]), found {n}: "
            f"{first[:120]!r}."
        )
    fields = [Field("user", "id"), Field("item", "id")] + ([Field("rating", "num")] if n == 3 else [])
    if "\t" in first or first.count(" ") == n - 1:
        sep = "\t" if "\t" in first else " "
        try:
            return read_delimited(path, sep, fields)
        except DataFormatError:
            pass  # maybe mixed whitespace: fall through to the general splitter
    tokens = _whitespace_tokens(path, "user item [weight]")
    lengths = pc.list_value_length(tokens).to_numpy(zero_copy_only=False)
    if (lengths[lengths > 0] != n).any():
        raise locate_bad_line(path, None, fields, header=False)
    flat = pc.list_flatten(tokens).combine_chunks()
    out: dict[str, object] = {"user": ids_to_pandas(flat[0::n]), "item": ids_to_pandas(flat[1::n])}
    if n == 3:
        try:
            out["rating"] = numbers_to_numpy(pc.cast(flat[2::n], pa.float64()))
        except (ValueError, pa.ArrowInvalid) as exc:
            raise locate_bad_line(path, None, fields, header=False) from exc
    return pd.DataFrame(out, copy=False)  # no block consolidation: copying 20M rows costs seconds
