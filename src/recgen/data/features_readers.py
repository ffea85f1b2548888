"""Readers of real side information into :class:`~recgen.data.features.Features`.

- MovieLens / MovieTweetings items: genres (multi), title words (TF-IDF text), release year (decade bins).
- MovieLens users (100K ``u.user``, 1M ``users.dat``): age (the 1M age groups as bins), gender, occupation.
- Last.fm (hetrec 2011) artists: the tags users gave them (``user_taggedartists.dat`` + ``tags.dat``), kept
  when at least ``min_count`` artists carry the tag; each artist's tags are weighted by how many users gave them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recgen.data.features import Features
from recgen.data.movielens import read_item_info, read_user_info
from recgen.errors import DataFormatError

PathLike = str | os.PathLike[str]

#: release-year bins (decades from 1930; earlier films share one bin)
YEAR_EDGES: tuple[float, ...] = tuple(float(y) for y in range(1930, 2030, 10))
#: MovieLens 1M age groups (lower bounds 1, 18, 25, 35, 45, 50, 56), also used for 100K's exact ages
AGE_EDGES: tuple[float, ...] = (18.0, 25.0, 35.0, 45.0, 50.0, 56.0)


def movielens_item_features(path: PathLike, format: str = "auto", *, title: bool = True, min_count: int = 2
                            ) -> Features:
    """Item features of a MovieLens or MovieTweetings dataset (``path``: directory or item file).

    Fields: ``genre`` (multi), ``year`` (bins :data:`YEAR_EDGES`), and with ``title`` the title's words
    (``title``, TF-IDF; words in fewer than ``min_count`` titles dropped; the year in parentheses is not a word).
    """
    info = read_item_info(path, format)
    df = pd.DataFrame({"item": info["item"], "genre": info["genres"],
                       "year": info["year"].astype("float64"),
                       "title": info["title"].str.replace(r"\(\d{4}\)\s*$", "", regex=True)})
    return Features.from_frame(df, "item", multi=["genre"], bins={"year": YEAR_EDGES},
                               text=["title"] if title else [], min_count=min_count)


def movielens_user_features(path: PathLike) -> Features:
    """User features of MovieLens 100K / 1M: ``age`` (bins :data:`AGE_EDGES`), ``gender``, ``occupation``."""
    info = read_user_info(path)
    df = pd.DataFrame({"user": info["user"], "age": info["age"].astype("float64"), "gender": info["gender"],
                       "occupation": info["occupation"]})
    return Features.from_frame(df, "user", categorical=["gender", "occupation"], bins={"age": AGE_EDGES})


def read_lastfm_tags(path: PathLike) -> pd.DataFrame:
    """Artist tags of hetrec Last.fm: columns ``item`` (artist id, str), ``tag`` (name), ``count`` (users who
    gave that tag to that artist). ``path`` is the dataset directory or ``user_taggedartists.dat``
    (``tags.dat`` must be beside it)."""
    p = Path(path)
    assignments = p / "user_taggedartists.dat" if p.is_dir() else p
    names = assignments.with_name("tags.dat")
    for f in (assignments, names):
        if not f.is_file():
            raise DataFormatError(f"path={str(f)!r} does not exist; pass the hetrec Last.fm directory holding "
                                  "user_taggedartists.dat and tags.dat.")
    ua = pd.read_csv(assignments, sep="\t", dtype=str, keep_default_na=False)
    # tags.dat is Latin-1 in the published archive
    tg = pd.read_csv(names, sep="\t", dtype=str, keep_default_na=False, encoding="latin-1")
    for frame, need, f in ((ua, {"userID", "artistID", "tagID"}, assignments), (tg, {"tagID", "tagValue"}, names)):
        if not need <= set(frame.columns):
            raise DataFormatError(f"{f}: expected the header columns {sorted(need)}, found {list(frame.columns)}.")
    bad = ~ua["tagID"].isin(tg["tagID"])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataFormatError(f"{assignments}, line {row + 2}: tagID {ua['tagID'].iloc[row]!r} is not in {names}.")
    tag_of = dict(zip(tg["tagID"], tg["tagValue"].str.strip().str.lower().str.replace("|", "/"), strict=True))
    ua = ua.assign(tag=ua["tagID"].map(tag_of))
    out = ua.groupby(["artistID", "tag"], sort=True).size().rename("count").reset_index()
    return out.rename(columns={"artistID": "item"})[["item", "tag", "count"]]


def lastfm_item_features(path: PathLike, *, min_count: int = 5) -> Features:
    """Artist features of hetrec Last.fm from :func:`read_lastfm_tags`: field ``tag`` (multi); tags on fewer
    than ``min_count`` artists dropped; weight of a tag = log(1 + users who gave it), rows L2-normalised.
    Artists nobody tagged have an empty row, flagged missing (align to the interaction vocabulary with
    :meth:`Features.align`)."""
    tags = read_lastfm_tags(path)
    df = tags.groupby("item", sort=False)["tag"].agg("|".join).reset_index()
    feats = Features.from_frame(df, "item", multi=["tag"], min_count=min_count)
    # reweight: the multi field is binary by construction; give it the log-count weights
    row = feats.ids.lookup(tags["item"].to_numpy())
    pos = {c: j for j, c in enumerate(feats.columns.ids)}
    col = np.array([pos.get(f"tag={t}", -1) for t in tags["tag"]], dtype=np.int64)
    keep = col >= 0
    w = np.log1p(tags["count"].to_numpy(dtype=np.float64))[keep]
    m = sp.csr_matrix((w, (row[keep], col[keep])), shape=feats.matrix.shape, dtype=np.float64)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    m = sp.csr_matrix(sp.diags(1.0 / np.maximum(norms, 1e-12)) @ m, dtype=np.float32)
    return Features(feats.ids, m, feats.columns, feats.fields, feats.idf,
                    feats.missing | (np.diff(m.indptr) == 0)[:, None])


__all__ = ["AGE_EDGES", "YEAR_EDGES", "lastfm_item_features", "movielens_item_features", "movielens_user_features",
           "read_lastfm_tags"]
