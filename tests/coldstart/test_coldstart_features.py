"""The Features type: hand-computed encodings, explicit missing / unknown handling, alignment, persistence,
and the readers of real side information."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from testkit import shared_path

from recgen.data import Vocabulary
from recgen.data.features import Features, parse_feature_string, tokenize
from recgen.errors import ConfigError, DataFormatError, UnknownIdError


@pytest.fixture
def small():
    df = pd.DataFrame({"id": ["a", "b", "c"], "genre": ["Drama|Comedy", "Drama", None],
                       "year": [1995, np.nan, 1972], "title": ["Star Wars", "The Star", "Wars of wars"],
                       "gender": ["F", "M", ""]})
    return Features.from_frame(df, "id", categorical=["gender"], multi=["genre"], bins={"year": [1980, 1990]},
                               text=["title"])


def test_from_frame_hand_computed(small):
    cols = small.columns.ids.tolist()
    assert cols == sorted(["gender=F", "gender=M", "genre=Comedy", "genre=Drama", "year=[-inf,1980)",
                           "year=[1990,inf)", "title:star", "title:wars"])
    d = pd.DataFrame(small.matrix.toarray(), index=small.ids.ids, columns=cols)
    assert d.loc["a", "genre=Drama"] == 1 and d.loc["a", "genre=Comedy"] == 1 and d.loc["a", "year=[1990,inf)"] == 1
    assert d.loc["c", "year=[-inf,1980)"] == 1
    # tf-idf: n = 3 docs; "star" in 2, "wars" in 2 → idf = ln(4/3) + 1 each; "the"/"of" are stop words
    idf = math.log(4 / 3) + 1
    assert small.idf[small.columns.lookup(["title:star"])[0]] == pytest.approx(idf)
    # "a": star 1, wars 1 → both 1/√2 after the per-field L2 norm; "c": wars twice → 1.0
    assert d.loc["a", "title:star"] == pytest.approx(1 / math.sqrt(2), rel=1e-6)
    assert d.loc["c", "title:wars"] == pytest.approx(1.0)
    assert d.loc["b", "title:star"] == pytest.approx(1.0)
    # missing values give no column and are flagged per field (fields: gender, genre, year, title)
    assert small.field_names == ["gender", "genre", "year", "title"]
    np.testing.assert_array_equal(small.missing, [[0, 0, 0, 0], [0, 0, 1, 0], [1, 1, 0, 0]])
    assert tokenize("The Lord of the Rings (2001)") == ["lord", "rings"]


def test_encode_new_entities_and_explicit_unknowns(small):
    rows, ignored = small.encode([{"gender": "F", "year": 1999, "title": "star"}, {"genre": None}])
    got = {small.columns.ids[j] for j in rows[0].indices}
    assert got == {"gender=F", "year=[1990,inf)", "title:star"} and rows[1].nnz == 0 and ignored == [[], []]
    with pytest.raises(ConfigError, match=r"unknown feature field 'gendr'.*Did you mean 'gender'"):
        small.encode([{"gendr": "F"}])
    with pytest.raises(ConfigError, match=r"gender='X' is not a known value.*F, M.*unknown='ignore'"):
        small.encode([{"gender": "X"}])
    rows, ignored = small.encode([{"gender": "X", "genre": "Drama"}], unknown="ignore")
    assert ignored == [["gender=X"]] and {small.columns.ids[j] for j in rows[0].indices} == {"genre=Drama"}
    with pytest.raises(DataFormatError, match=r"year='old' is not a number"):
        small.encode([{"year": "old"}])
    # a bin never seen in training is reported, not silently used
    _, ignored = small.encode([{"year": 1985}], unknown="ignore")
    assert ignored == [["year=1985"]]


def test_align_reorders_and_flags_absent_rows(small):
    vocab = Vocabulary(["c", "zz", "a"])
    al = small.align(vocab)
    assert al.ids == vocab
    np.testing.assert_array_equal(al.matrix[0].toarray(), small.matrix[2].toarray())
    assert al.matrix[1].nnz == 0 and al.missing[1].all()
    np.testing.assert_array_equal(al.matrix[2].toarray(), small.matrix[0].toarray())
    with pytest.raises(DataFormatError, match=r"1 id\(s\) have no features.*'zz'"):
        small.align(vocab, absent="error")
    with pytest.raises(UnknownIdError):
        small.rows_for(["zz"])


def test_arrays_round_trip(small):
    arrays, spec = small.to_arrays("f")
    back = Features.from_arrays(arrays, spec, "f")
    assert back.ids == small.ids and back.columns == small.columns and back.fields == small.fields
    assert (back.matrix != small.matrix).nnz == 0
    np.testing.assert_array_equal(back.missing, small.missing)
    np.testing.assert_array_equal(back.encode([{"title": "wars"}])[0].toarray(),
                                  small.encode([{"title": "wars"}])[0].toarray())


def test_bad_construction_and_feature_strings():
    df = pd.DataFrame({"id": ["a"], "g": ["x"]})
    with pytest.raises(DataFormatError, match="feature column 'h'"):
        Features.from_frame(df, "id", categorical=["h"])
    with pytest.raises(ConfigError, match="no feature fields"):
        Features.from_frame(df, "id")
    with pytest.raises(ConfigError, match="strictly increasing"):
        Features.from_frame(pd.DataFrame({"id": ["a"], "n": [1]}), "id", bins={"n": [3, 1]})
    assert parse_feature_string("age=25, gender=F,occupation=student") == {"age": "25", "gender": "F",
                                                                          "occupation": "student"}
    for bad, msg in (("age25", "not name=value"), ("age=1,age=2", "given twice"), (" , ", "holds no features")):
        with pytest.raises(ConfigError, match=msg):
            parse_feature_string(bad)


@pytest.mark.shared_data
def test_movielens_readers():
    from recgen.data.features_readers import movielens_item_features, movielens_user_features

    items = movielens_item_features(shared_path("ml-100k/u.item").parent)
    assert len(items) == 1682
    assert items.ids.ids[0] == "1"
    assert {"genre=Animation", "genre=Children's", "genre=Comedy", "year=[1990,2000)", "title:story"} \
        == set(items.describe(0))  # Toy Story (1995)
    users = movielens_user_features(shared_path("ml-100k/u.user").parent)
    assert len(users) == 943 and set(users.describe(0)) == {"age=[18,25)", "gender=M", "occupation=technician"}
    assert not users.missing.any()


@pytest.mark.shared_data
def test_lastfm_tags_hand_checked():
    from recgen.data.features_readers import lastfm_item_features, read_lastfm_tags

    path = shared_path("lastfm-2k/user_taggedartists.dat")
    tags = read_lastfm_tags(path.parent)
    raw = pd.read_csv(path, sep="\t", dtype=str)
    names = pd.read_csv(path.with_name("tags.dat"), sep="\t", dtype=str, encoding="latin-1")
    a52 = raw[raw.artistID == "52"].merge(names, on="tagID").tagValue.str.lower().value_counts()
    got = tags[tags.item == "52"].set_index("tag")["count"]
    assert got.sort_index().to_dict() == a52.sort_index().to_dict()
    feats = lastfm_item_features(path.parent, min_count=5)
    row = feats.matrix[feats.ids.lookup(["52"])[0]]
    assert row.nnz > 0 and np.isclose(np.linalg.norm(row.data), 1.0)
    # the artist's most-given tag (among kept tags) has the largest weight
    kept = [t for t in a52.index if f"tag={t}" in feats.columns]
    top = feats.describe(int(feats.ids.lookup(["52"])[0]), top=1)[0].split("=", 1)[1]
    assert a52[top] == a52[kept].max()


def test_movietweetings_genres_with_explicit_missing_values():
    from recgen.data import movietweetings_path
    from recgen.data.features_readers import movielens_item_features

    feats = movielens_item_features(movietweetings_path(), "movietweetings")
    assert len(feats) == 10506 and feats.ids.ids[0].isdigit() and len(feats.ids.ids[0]) == 7
    genre = feats.field_names.index("genre")
    empty = sum(1 for ln in (movietweetings_path() / "movies.dat").read_text(encoding="utf-8").splitlines()
                if ln.endswith("::"))
    assert feats.missing[:, genre].sum() == empty == 66  # movies listed without genres: flagged, no column
    row = int(feats.ids.lookup(["0021283"])[0])  # "Rakudai wa shitakeredo (1930)", no genres
    assert feats.missing[row, genre] and not any(c.startswith("genre=") for c in feats.describe(row, top=50))
    assert "year=[1930,1940)" in feats.describe(row, top=50)
