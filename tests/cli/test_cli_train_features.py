"""``recgen train --item-features KIND:PATH --user-features KIND:PATH`` for the feature-aware models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, run, write_given_split

from recgen.models.base import Recommender

N_USERS, N_ITEMS = 30, 24
GENRES = ("Comedy", "Drama", "Horror")  # item 500 + i has genre i % 3 = the planted block of the split


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-features")
    write_given_split(root / "raw", n_users=N_USERS, n_items=N_ITEMS)
    run("data", "prepare", root / "raw", "--format", "lines", "--out", root / "prep")
    side = root / "side"
    side.mkdir()
    (side / "movies.dat").write_text("".join(f"{500 + i}::Film {i} ({1990 + i})::{GENRES[i % 3]}\n"
                                             for i in range(N_ITEMS)), encoding="utf-8")
    # users.dat (ML-1M): id::gender::age::occupation::zip; gender follows the user's block (u % 3 == 0 -> F)
    (side / "users.dat").write_text("".join(f"{1000 + u}::{'F' if u % 3 == 0 else 'M'}::25::4::12345\n"
                                            for u in range(N_USERS)), encoding="utf-8")
    return root


def test_content_knn_with_item_and_user_features(prepared):
    side = prepared / "side"
    run("train", "content-knn", "--data", prepared / "prep", "--out", prepared / "cknn",
        "--item-features", f"movielens:{side}", "--user-features", f"movielens:{side}")
    m = json.loads((prepared / "cknn" / "metrics.json").read_text())
    # 3 genres + 3 decades (1990s-2010s) + the title word "film" (numbers are not words in ≥ 2 titles)
    assert m["features"]["item"] == {"kind": "movielens", "path": str(side), "rows": N_ITEMS, "columns": 7,
                                     "fields": ["genre", "year", "title"]}
    assert sorted(m["features"]["user"]["fields"]) == ["age", "gender", "occupation"] and m["features"]["user"]["rows"] == N_USERS
    model = Recommender.load(prepared / "cknn")
    assert model.item_features_ is not None and model.user_features_ is not None
    # pure content: an item's nearest neighbours share its genre (the planted block)
    from recgen.models.similar import similar_items

    (ids,), _ = similar_items(model, ["500"], k=3)
    assert all((int(i) - 500) % 3 == 0 for i in ids), ids
    # a cold user known only as F (block 0 users) is answered by the feature map, with block-0 items on top
    res = model.recommend_cold({"gender": "F"}, k=3)
    assert res.source == "feature-map" and all((int(i) - 500) % 3 == 0 for i in res.items), res.items


def test_bare_path_takes_the_kind_from_the_source_format(prepared):
    # the split was prepared from 'lines' files, which have no feature reader: the error says what to pass
    r = run("train", "content-knn", "--data", prepared / "prep", "--out", prepared / "x",
            "--item-features", prepared / "side", ok=False)
    assert_one_line_error(r, "--item-features", "KIND:PATH", "movielens")


@pytest.mark.parametrize("args, fragments", [
    (("most-popular", "--item-features", "movielens:{side}"), ("'most-popular'", "content-knn")),
    (("content-knn", "--item-features", "imdb:{side}"), ("'imdb'", "movielens, movietweetings, lastfm")),
    (("content-knn", "--user-features", "lastfm:{side}"), ("--user-features", "'lastfm'")),
])
def test_feature_option_errors(prepared, args, fragments):
    args = tuple(a.format(side=prepared / "side") for a in args)
    r = run("train", args[0], "--data", prepared / "prep", "--out", prepared / "x", *args[1:], ok=False)
    assert_one_line_error(r, *fragments)
    assert not (prepared / "x").exists()
