"""MovieLens and MovieTweetings files: ratings, item metadata and user metadata.

Ratings (canonical frame ``user, item, rating, time``):

- 100K ``u.data``: ``user<TAB>item<TAB>rating<TAB>unix_ts``, no header.
- 1M / 10M ``ratings.dat``: ``user::item::rating::unix_ts``.
- 20M / 25M / latest(-small) ``ratings.csv``: header ``userId,movieId,rating,timestamp``.
- MovieTweetings ``ratings.dat``: ``user::imdb_id::rating::unix_ts`` (ratings 0–10); IMDb ids stay strings
  with their leading zeros (``"0104257"``).

Item info (:func:`read_item_info`): columns ``item`` (str), ``title`` (str), ``genres`` (str, genre names
joined by ``"|"``, ``""`` when none are listed) and ``year`` (pandas nullable ``Int64``, from the title's
trailing ``(yyyy)``, else the 100K release date). User info (:func:`read_user_info`): ``user`` (str),
``age`` (Int64; in 1M the lower bound of the age group), ``gender``, ``occupation`` (name), ``zip``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from recgen.data._parse import Field, check_nonempty, read_delimited
from recgen.errors import DataFormatError

PathLike = str | os.PathLike[str]
_RATING_FIELDS = [Field("user", "int_id"), Field("item", "int_id"), Field("rating", "num"), Field("time", "num")]
_YEAR_RE = re.compile(r"\((\d{4})(?:[–-]\d{0,4})?\)\s*$")
# MovieLens 1M README: occupation codes of users.dat
_ML1M_OCCUPATIONS = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student", "customer service",
    "doctor/health care", "executive/managerial", "farmer", "homemaker", "K-12 student", "lawyer", "programmer",
    "retired", "sales/marketing", "scientist", "self-employed", "technician/engineer", "tradesman/craftsman",
    "unemployed", "writer",
)


def find_movielens_ratings(path: Path) -> Path | None:
    """The ratings file of a MovieLens directory (``u.data``, ``ratings.dat`` or ``ratings.csv``), or None.

    Looks in ``path`` and one level below (the archives unzip into ``ml-xxx/``).
    """
    for d in [path, *sorted(c for c in path.iterdir() if c.is_dir())] if path.is_dir() else []:
        for name in ("u.data", "ratings.dat", "ratings.csv"):
            if (d / name).is_file():
                return d / name
    return None


def read_movielens(path: PathLike) -> pd.DataFrame:
    """Ratings of any MovieLens release, from its directory or its ratings file."""
    p = Path(path)
    f = find_movielens_ratings(p) if p.is_dir() else p
    if f is None:
        raise DataFormatError(
            f"path={str(p)!r}: no MovieLens ratings file (u.data, ratings.dat or ratings.csv) found; "
            "pass the unzipped dataset directory or download it with recgen.data.download_movielens."
        )
    if f.name == "u.data":
        return read_delimited(f, "\t", _RATING_FIELDS, expected="user<TAB>item<TAB>rating<TAB>timestamp")
    if f.suffix == ".csv":
        header = _first_line(f)
        if header.replace(" ", "") != "userId,movieId,rating,timestamp":
            raise DataFormatError(
                f"{f}, line 1: expected the header 'userId,movieId,rating,timestamp', found {header[:80]!r}; "
                "for another CSV layout use format='csv' with user=, item=, rating=, time=."
            )
        return read_delimited(f, ",", _RATING_FIELDS, header=True, expected="userId,movieId,rating,timestamp")
    return read_delimited(f, "::", _RATING_FIELDS, expected="user::item::rating::timestamp")


def read_movietweetings(path: PathLike) -> pd.DataFrame:
    """MovieTweetings ``ratings.dat`` (or its directory); item ids are kept as strings with leading zeros."""
    p = Path(path)
    f = p / "ratings.dat" if p.is_dir() else p
    fields = [Field("user", "int_id"), Field("item", "str_id"), Field("rating", "num"), Field("time", "num")]
    return read_delimited(f, "::", fields, expected="user::imdb_id::rating::timestamp")


def _first_line(f: Path, encoding: str = "utf-8") -> str:
    check_nonempty(f)
    with open(f, encoding=encoding, errors="replace") as fh:
        return fh.readline().rstrip("\r\n").lstrip("\ufeff")


def _year(titles: pd.Series) -> pd.Series:
    return titles.str.extract(_YEAR_RE, expand=False).astype("Int64")


def _read_text(f: Path) -> str:
    check_nonempty(f)
    raw = f.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # MovieLens 1M and 100K are ISO-8859-1


def _split_dat(f: Path, n: int) -> list[list[str]]:
    """Lines of a ``::`` file split into exactly ``n`` fields (the last keeps any further ``::``)."""
    rows = []
    for lineno, line in enumerate(_read_text(f).splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("::", n - 1)
        if len(parts) != n:
            raise DataFormatError(
                f"{f}, line {lineno}: expected {n} '::'-separated fields, found {len(parts)}: {line[:120]!r}."
            )
        rows.append(parts)
    if not rows:
        raise DataFormatError(f"{f}: no data lines.")
    return rows


def _item_frame(items: list[str], titles: list[str], genres: list[str]) -> pd.DataFrame:
    t = pd.Series(titles, dtype=object).str.strip()
    g = pd.Series(genres, dtype=object).fillna("").str.strip().replace("(no genres listed)", "")
    return pd.DataFrame({"item": pd.Series(items, dtype=object), "title": t, "genres": g, "year": _year(t)})


def read_item_info(path: PathLike, format: str = "auto") -> pd.DataFrame:
    """Item metadata: ``item`` (str), ``title``, ``genres`` ("|"-joined str), ``year`` (nullable Int64).

    ``path`` is a dataset directory or one of ``u.item`` (100K, Latin-1, genre names from ``u.genre``
    beside it), ``movies.dat`` (1M / 10M / MovieTweetings) or ``movies.csv`` (20M+).
    ``format`` is ``"auto"``, ``"movielens"`` or ``"movietweetings"`` (the MovieTweetings ``movies.dat`` is
    UTF-8 with 7-digit IMDb ids and possibly empty genres; both layouts parse the same way).
    """
    p = Path(path)
    if format not in ("auto", "movielens", "movietweetings"):
        raise DataFormatError(f"format={format!r} is not an item-info format; use 'auto', 'movielens' or 'movietweetings'.")
    if p.is_dir():
        cands = [p / n for n in ("u.item", "movies.dat", "movies.csv")]
        cands += [c / n for c in sorted(x for x in p.iterdir() if x.is_dir()) for n in ("u.item", "movies.dat",
                                                                                         "movies.csv")]
        found = next((c for c in cands if c.is_file()), None)
        if found is None:
            raise DataFormatError(f"path={str(p)!r}: no u.item, movies.dat or movies.csv found; pass the item file.")
        p = found
    if p.name == "u.item":
        return _read_u_item(p)
    if p.suffix == ".csv":
        check_nonempty(p)
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
        missing = {"movieId", "title", "genres"} - set(df.columns)
        if missing:
            raise DataFormatError(f"{p}: missing columns {sorted(missing)}; available columns: {list(df.columns)}.")
        return _item_frame(df["movieId"].tolist(), df["title"].tolist(), df["genres"].tolist())
    rows = _split_dat(p, 3)
    return _item_frame([r[0].strip() for r in rows], [r[1] for r in rows], [r[2] for r in rows])


def _read_u_item(p: Path) -> pd.DataFrame:
    genre_file = p.with_name("u.genre")
    if not genre_file.is_file():
        raise DataFormatError(f"{p}: the genre names file {genre_file} is missing; keep u.genre beside u.item.")
    names = [ln.split("|")[0] for ln in genre_file.read_text(encoding="latin-1").splitlines() if ln.strip()]
    check_nonempty(p)
    df = pd.read_csv(p, sep="|", header=None, encoding="latin-1", dtype=str, keep_default_na=False)
    if df.shape[1] != 5 + len(names):
        raise DataFormatError(
            f"{p}: expected {5 + len(names)} '|'-separated fields (id, title, release date, video date, url and "
            f"{len(names)} genre flags), found {df.shape[1]}."
        )
    flags = df.iloc[:, 5:].to_numpy() == "1"
    genres = ["|".join(n for n, f in zip(names, row, strict=True) if f) for row in flags]
    out = _item_frame(df[0].tolist(), df[1].tolist(), genres)
    release = pd.to_datetime(df[2].replace("", None), format="%d-%b-%Y", errors="coerce")
    out["year"] = out["year"].fillna(pd.Series(release.dt.year, dtype="Int64"))
    return out


def read_user_info(path: PathLike) -> pd.DataFrame:
    """User metadata of MovieLens 100K (``u.user``) or 1M (``users.dat``): user, age, gender, occupation, zip."""
    p = Path(path)
    if p.is_dir():
        p = next((c for c in (p / "u.user", p / "users.dat") if c.is_file()), p / "u.user")
    if p.name == "u.user":
        check_nonempty(p)
        df = pd.read_csv(p, sep="|", header=None, dtype=str, encoding="latin-1", keep_default_na=False)
        if df.shape[1] != 5:
            raise DataFormatError(f"{p}: expected 5 '|'-separated fields (id|age|gender|occupation|zip), "
                                  f"found {df.shape[1]}.")
        occ = df[3]
    else:
        rows = _split_dat(p, 5)
        df = pd.DataFrame(rows)
        codes = pd.to_numeric(df[3], errors="coerce")
        if codes.isna().any() or not codes.between(0, len(_ML1M_OCCUPATIONS) - 1).all():
            bad = int(np.flatnonzero(~codes.between(0, len(_ML1M_OCCUPATIONS) - 1).to_numpy())[0])
            raise DataFormatError(f"{p}, line {bad + 1}: occupation code {df[3][bad]!r} is not 0–20.")
        occ = pd.Series(np.asarray(_ML1M_OCCUPATIONS, dtype=object)[codes.astype(int)])
        df = df[[0, 2, 1, 3, 4]].set_axis(range(5), axis=1)
    age = pd.to_numeric(df[1], errors="coerce")
    if age.isna().any():
        bad = int(np.flatnonzero(age.isna().to_numpy())[0])
        raise DataFormatError(f"{p}, line {bad + 1}: age {df[1][bad]!r} is not a number.")
    return pd.DataFrame({"user": df[0].astype(str).str.strip().astype(object), "age": age.astype("Int64"),
                         "gender": df[2].astype(object), "occupation": occ.astype(object),
                         "zip": df[4].astype(str).str.strip().astype(object)})


__all__ = ["find_movielens_ratings", "read_movielens", "read_movietweetings", "read_item_info", "read_user_info",
           ]
