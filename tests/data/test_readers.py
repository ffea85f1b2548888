"""Readers: every format on good input, on malformed input (clear errors), and on the real shared files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from testkit import shared_path

from recgen.data.movielens import read_item_info, read_user_info
from recgen.data.readers import detect_format, read_frame, read_interactions
from recgen.errors import DataFormatError


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


# ---------------------------------------------------------------- csv / tsv / parquet
def test_csv_default_names_and_int_ids(tmp_path):
    p = write(tmp_path, "r.csv", "userId,movieId,rating,timestamp\n10,2,4.5,100\n9,30,1,200\n10,30,3,300\n")
    df = read_frame(p)
    assert list(df.columns) == ["user", "item", "rating", "time"]
    assert df["user"].dtype == np.int64 and df["item"].dtype == np.int64
    assert df["rating"].tolist() == [4.5, 1.0, 3.0]
    data = read_interactions(p)
    assert data.users.to_list() == ["9", "10"]  # numeric order, not "10" < "9"
    assert data.items.to_list() == ["2", "30"]
    assert data.matrix[1, 0] == pytest.approx(4.5)
    assert data.times[0, 1] == 200.0


def test_csv_mapping_string_ids_and_leading_zeros(tmp_path):
    p = write(tmp_path, "r.tsv", "who\twhat\tstars\textra\nu1\t007\t5\tx\nu2\t7\t3\ty\n")
    df = read_frame(p, user="who", item="what", rating="stars")
    assert df["item"].tolist() == ["007", "7"]  # "007" is not merged with "7"
    assert df["user"].tolist() == ["u1", "u2"]
    assert "time" not in df.columns


def test_csv_iso_time_and_semicolon_sep(tmp_path):
    p = write(tmp_path, "r.txt", "user;item;time\n1;2;2020-01-01T00:00:10\n", )
    df = read_frame(p, "csv")
    assert df["time"].tolist() == [1577836810.0]


def test_parquet_roundtrip(tmp_path):
    p = tmp_path / "r.parquet"
    pd.DataFrame({"user_id": [3, 1], "item_id": ["a", "b"], "rating": [1.0, 2.0]}).to_parquet(p)
    df = read_frame(p)
    assert df["user"].tolist() == [3, 1] and df["item"].tolist() == ["a", "b"]
    bad = tmp_path / "bad.parquet"
    pd.DataFrame({"user": [1, 2], "item": [1, 2], "rating": [1.0, np.nan]}).to_parquet(bad)
    with pytest.raises(DataFormatError, match=r"row 2: column 'rating'"):
        read_frame(bad)


@pytest.mark.parametrize(("text", "kwargs", "pattern"), [
    ("userId,movieId,rating\n1,2,4\n1,3\n", {}, r"line 3: expected 3 fields .* found 2"),
    ("userId,movieId,rating\n1,2,4\n1,3,abc\n", {}, r"line 3: field 'rating' .* 'abc', not a number"),
    ("userId,movieId,rating\n1,2,4\n1,3,NaN\n", {}, r"line 3: field 'rating' \(column 3\) is 'NaN', a missing value"),
    ("userId,movieId,rating\n1,2,4\n,3,4\n", {}, r"line 3: field 'userId' \(column 1\) is empty"),
    ("a,b\n1,2\n", {}, r"no user column found among \['a', 'b'\]"),
    ("userId,movieId\n1,2\n", {"rating": "score"}, r"column 'score' \(argument rating=\) not found; available columns"),
    ("1,2,4\n2,3,4\n", {}, r"line 1: expected a header line"),
    ("", {}, r"the file is empty"),
    ("userId,movieId\n", {}, r"a header but no data rows"),
])
def test_csv_malformed(tmp_path, text, kwargs, pattern):
    p = write(tmp_path, "bad.csv", text)
    with pytest.raises(DataFormatError, match=pattern) as info:
        read_frame(p, **kwargs)
    assert "bad.csv" in str(info.value)


# ---------------------------------------------------------------- lines / pairs
def test_lines_with_empty_user(tmp_path):
    p = write(tmp_path, "train.txt", "0 0 1 2\n1\n2 2  5\n\n")
    df = read_frame(p)  # .txt → lines
    assert df.to_dict("list") == {"user": [0, 0, 0, 2, 2], "item": [0, 1, 2, 2, 5]}


def test_lines_all_users_without_items(tmp_path):
    with pytest.raises(DataFormatError, match="every line holds a user id only"):
        read_frame(write(tmp_path, "t.txt", "0\n1\n"), "lines")


def test_pairs_good_and_bad(tmp_path):
    df = read_frame(write(tmp_path, "p.txt", "a x 2.5\nb  y 1\n"), "pairs")
    assert df.to_dict("list") == {"user": ["a", "b"], "item": ["x", "y"], "rating": [2.5, 1.0]}
    with pytest.raises(DataFormatError, match=r"line 2: expected 3 fields .* found 4"):
        read_frame(write(tmp_path, "q.txt", "a x 1\nb y 1 9\n"), "pairs")
    with pytest.raises(DataFormatError, match=r"line 2: field 'rating' .* 'w', not a number"):
        read_frame(write(tmp_path, "r.txt", "a x 1\nb y w\n"), "pairs")


# ---------------------------------------------------------------- movielens-style formats
def test_movielens_dat_and_csv(tmp_path):
    d1 = tmp_path / "ml-1m"
    d1.mkdir()
    write(d1, "ratings.dat", "1::1193::5::978300760\n2::661::3::978302109\n")
    df = read_frame(d1)
    assert df.to_dict("list") == {"user": [1, 2], "item": [1193, 661], "rating": [5.0, 3.0],
                                  "time": [978300760.0, 978302109.0]}
    d2 = tmp_path / "ml-latest-small"
    d2.mkdir()
    write(d2, "ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n")
    assert read_frame(tmp_path / "ml-latest-small", "movielens")["rating"].tolist() == [4.0]


@pytest.mark.parametrize(("name", "text", "pattern"), [
    ("u.data", "1\t2\t3\t4\n1\t2\t3\n", r"u.data, line 2: expected 4 fields"),
    ("u.data", "1\t2\t3\t4\nx\t2\t3\t4\n", r"line 2: field 'user' .* 'x', not an integer id"),
    ("ratings.dat", "1::2::3::4\n1::2::3::4::5\n", r"line 2: expected 4 fields \(user::item::rating::timestamp\)"),
    ("ratings.dat", "1::2::five::4\n", r"line 1: field 'rating'"),
])
def test_movielens_malformed(tmp_path, name, text, pattern):
    with pytest.raises(DataFormatError, match=pattern):
        read_frame(write(tmp_path, name, text), "movielens")


def test_movietweetings_keeps_imdb_strings(tmp_path):
    p = write(tmp_path, "ratings.dat", "1::0104257::8::1364690142\n2::1074638::10::1365029107\n")
    assert detect_format(p) == "movietweetings"
    df = read_frame(p)
    assert df["item"].tolist() == ["0104257", "1074638"] and df["user"].tolist() == [1, 2]
    with pytest.raises(DataFormatError, match=r"line 2: expected 4 fields"):
        read_frame(write(tmp_path, "m2.dat", "1::0104257::8::1\n2::0104257\n"), "movietweetings")


def test_lastfm_and_unknown_format(tmp_path):
    p = write(tmp_path, "user_artists.dat", "userID\tartistID\tweight\n2\t51\t13883\n2\t52\t11690\n")
    assert read_frame(p)["rating"].tolist() == [13883.0, 11690.0]
    with pytest.raises(DataFormatError, match=r"line 2: field 'artistID'.*not an integer id"):
        read_frame(write(tmp_path, "user_artists2.dat", "userID\tartistID\tweight\n2\tabc\t1\n"), "lastfm")
    with pytest.raises(DataFormatError, match="Did you mean 'movielens'"):
        read_frame(p, "movielen")


def test_item_and_user_info_small_files(tmp_path):
    write(tmp_path, "u.genre", "unknown|0\nAction|1\nComedy|2\n\n")
    write(tmp_path, "u.item", "1|Café (1995)|01-Jan-1995||url|0|1|1\n2|No year|01-Jan-1980||url|0|0|0\n",
          encoding="latin-1")
    info = read_item_info(tmp_path / "u.item")
    assert info["title"].tolist() == ["Café (1995)", "No year"]
    assert info["genres"].tolist() == ["Action|Comedy", ""]
    assert info["year"].tolist() == [1995, 1980]
    write(tmp_path, "movies.dat", "1::Toy Story (1995)::Animation|Comedy\n2::Heat::(no genres listed)\n")
    m = read_item_info(tmp_path / "movies.dat")
    assert m["genres"].tolist() == ["Animation|Comedy", ""] and m["year"].isna().tolist() == [False, True]
    write(tmp_path, "movies.csv", 'movieId,title,genres\n1,"American President, The (1995)",Comedy|Drama\n'
          '2,Nothing (2003–),(no genres listed)\n')
    c = read_item_info(tmp_path / "movies.csv")
    assert c.to_dict("list") == {"item": ["1", "2"], "title": ["American President, The (1995)", "Nothing (2003–)"],
                                 "genres": ["Comedy|Drama", ""], "year": [1995, 2003]}
    with pytest.raises(DataFormatError, match=r"movies2.dat, line 2: expected 3 '::'-separated fields, found 2"):
        read_item_info(write(tmp_path, "movies2.dat", "1::A (1990)::Drama\n2::B (1991)\n"))
    write(tmp_path, "users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n")
    u = read_user_info(tmp_path / "users.dat")
    assert u.to_dict("list") == {"user": ["1", "2"], "age": [1, 56], "gender": ["F", "M"],
                                 "occupation": ["K-12 student", "self-employed"], "zip": ["48067", "70072"]}


# ---------------------------------------------------------------- real files
def test_real_ml100k():
    p = shared_path("ml-100k/u.data")
    data = read_interactions(p)
    assert (data.nnz, data.n_users, data.n_items) == (100_000, 943, 1_682)
    assert data.times is not None and data.matrix.data.min() == 1 and data.matrix.data.max() == 5
    info = read_item_info(shared_path("ml-100k/u.item"))
    assert len(info) == 1682 and info.loc[0, "title"] == "Toy Story (1995)"
    assert info.loc[0, "genres"] == "Animation|Children's|Comedy"
    assert info["title"].str.contains("é").any()  # Latin-1 decoded, e.g. "Misérables"
    users = read_user_info(shared_path("ml-100k/u.user"))
    assert len(users) == 943 and users.loc[0].tolist() == ["1", 24, "M", "technician", "85711"]


def test_real_lightgcn_lastfm_movietweetings():
    train = read_interactions(shared_path("ml-1m-lightgcnpp/train.txt"))
    assert train.nnz == 590_733
    lastfm = read_interactions(shared_path("lastfm-2k/user_artists.dat"))
    assert (lastfm.nnz, lastfm.n_users, lastfm.n_items) == (92_834, 1_892, 17_632)
    mt = read_interactions(shared_path("movietweetings-100k/ratings.dat"))
    assert (mt.nnz, mt.n_users, mt.n_items) == (100_000, 16_554, 10_506)
    assert "0104257" in mt.items and mt.matrix.data.max() <= 10


# ---------------------------------------------------------------- shipped MovieTweetings
def test_bundled_files_match_published_sha256():
    import re

    from recgen._io import sha256_file
    from recgen.data.bundled import MOVIETWEETINGS_SHA256, movietweetings_path

    root = movietweetings_path()
    readme = shared_path("README.md").read_text(encoding="utf-8")
    published = dict((m.group(2), m.group(1)) for m in re.finditer(r"^([0-9a-f]{64}) (\S+)$", readme, re.M))
    for name in ("ratings.dat", "movies.dat"):
        assert sha256_file(root / name) == published[f"movietweetings-100k/{name}"] == MOVIETWEETINGS_SHA256[name]
    assert "MIT License" in (root / "LICENSE").read_text() and "Dooms" in (root / "README.md").read_text()


def test_load_movietweetings():
    from recgen.data.bundled import load_movietweetings

    data, info = load_movietweetings()
    assert (data.nnz, data.n_users, data.n_items) == (100_000, 16_554, 10_506)
    assert data.matrix.data.min() >= 0 and data.matrix.data.max() == 10 and data.times is not None
    assert set(data.items.ids) <= set(info["item"])  # every rated movie has metadata
    row = info.set_index("item").loc["0104257"]
    assert row["year"] == 1992 and row["title"].endswith("(1992)")
    assert (info["genres"] == "").any()  # empty genres are kept as ""


def test_row_order_and_sparse_int_ids_do_not_matter(tmp_path):
    # ids spanning 10**12 take the hashing path of from_frame, small ones the table lookup; both sort numerically
    rows = [(10**12, 5, 1.0, 1), (3, 10**12, 2.0, 2), (3, 5, 3.0, 3), (7, 5, 4.0, 4)]
    text = "user,item,rating,time\n" + "".join(f"{u},{i},{r},{t}\n" for u, i, r, t in rows)
    shuffled = "user,item,rating,time\n" + "".join(f"{u},{i},{r},{t}\n" for u, i, r, t in rows[::-1])
    a = read_interactions(write(tmp_path, "a.csv", text))
    b = read_interactions(write(tmp_path, "b.csv", shuffled))
    assert a.fingerprint() == b.fingerprint()
    assert a.users.to_list() == ["3", "7", str(10**12)] and a.items.to_list() == ["5", str(10**12)]
    assert a.matrix.toarray().tolist() == [[3, 2], [4, 0], [1, 0]]
    assert a.times.toarray().tolist() == [[3, 2], [4, 0], [1, 0]]
    with pytest.raises(DataFormatError, match=r"user '3' and item '5' appear more than once"):
        read_interactions(write(tmp_path, "c.csv", text + "3,5,1.0,9\n"))
    merged = read_interactions(write(tmp_path, "d.csv", text + "3,5,1.0,9\n"), duplicates="last")
    assert merged.matrix[0, 0] == 1.0 and merged.times[0, 0] == 9  # the later rating wins
