"""Prepared dataset directories: byte-identical re-prepare, round trip, manifest, real data, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from testkit import shared_path

from recgen.data import Interactions
from recgen.data.prepared import (
    _PREPARE_DEFAULTS,
    load_split,
    prepare_dataset,
    read_given,
    read_manifest,
    save_split,
)
from recgen.data.splits import heldout_users_split, random_split
from recgen.errors import ArtifactError, ConfigError, DataFormatError, RecgenError

U_DATA_SHA256 = "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490"


def same_csr(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    return a.shape == b.shape and all(np.array_equal(x, y) for x, y in
                                      ((a.indptr, b.indptr), (a.indices, b.indices), (a.data, b.data)))


def assert_same_split(a, b) -> None:
    assert a.train.users == b.train.users and a.items == b.items
    assert same_csr(a.train.matrix, b.train.matrix)
    assert (a.train.times is None) == (b.train.times is None)
    if a.train.times is not None:
        assert np.array_equal(a.train.times.data, b.train.times.data)
    for ea, eb in ((a.val, b.val), (a.test, b.test)):
        assert (ea is None) == (eb is None)
        if ea is not None:
            assert ea.users == eb.users and np.array_equal(ea.rows, eb.rows)
            for name in ("input", "target", "exclude"):
                assert same_csr(getattr(ea, name), getattr(eb, name)), name
    assert a.meta == b.meta


@pytest.fixture
def ratings_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(7)
    rows = [(f"u{u}", f"é{i}", int(rng.integers(1, 6)), int(1_000 + rng.integers(0, 50) * 10))
            for u in range(40) for i in rng.choice(30, int(rng.integers(3, 12)), replace=False)]
    p = tmp_path / "src" / "ratings.csv"
    p.parent.mkdir()
    pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"]).to_csv(p, index=False)
    return p


@pytest.fixture
def given_dir(tmp_path: Path) -> Path:
    d = tmp_path / "given"
    d.mkdir()
    (d / "train.txt").write_text("0 1 2 3\n1 2 4\n2 5\n")
    (d / "valid.txt").write_text("0 4\n1\n2 1\n")  # user 1 has no valid items
    (d / "test.txt").write_text("0 5\n1 6\n2 3\n")  # item 6 only in test
    return d


SPLIT_ARGS = {
    "given": {},
    "heldout-users": {"val_users": 5, "test_users": 5, "min_rating": 2},
    "random": {"val_ratio": 0.1, "test_ratio": 0.2, "seed": 3, "min_user": 3},
    "leave-last": {"k": 2, "val_k": 1},
    "time": {"test_from": 0.8, "val_from": 0.6},
}


@pytest.mark.parametrize("split", list(SPLIT_ARGS))
def test_prepare_twice_is_byte_identical_and_round_trips(split, ratings_csv, given_dir, tmp_path):
    source = given_dir if split == "given" else ratings_csv
    kw = SPLIT_ARGS[split]
    first = prepare_dataset(source, split=split, out=tmp_path / "a", **kw)
    prepare_dataset(source, split=split, out=tmp_path / "b", **kw)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    expected = {"manifest.json", "users.json", "items.json", "train.safetensors", "test.safetensors"}
    assert set(files) == expected | ({"val.safetensors"} if first.val is not None else set())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert_same_split(first, load_split(tmp_path / "a"))
    manifest = read_manifest(tmp_path / "a")
    assert manifest["format_version"] == 1 and manifest["recgen_version"]
    assert manifest["split"]["protocol"] == split
    assert manifest["command"].startswith(f"recgen data prepare {source} ") and f"--split {split}" in manifest["command"]
    files_meta = manifest["split"]["source"]["files"]
    assert files_meta == ({"train.txt": files_meta["train.txt"], "valid.txt": files_meta["valid.txt"],
                           "test.txt": files_meta["test.txt"]} if split == "given" else
                          {"ratings.csv": files_meta["ratings.csv"]})
    assert all(len(h) == 64 for h in files_meta.values())
    for key, value in kw.items():
        assert manifest["split"]["prepare"][key] == value
        flag = f"--{'last-k' if key == 'k' else key.replace('_', '-')} {value}"
        assert (flag in manifest["command"]) == (value != _PREPARE_DEFAULTS[key])  # defaults are left out


def test_given_dir_semantics(given_dir):
    s = read_given(given_dir)
    assert s.train.users.to_list() == ["0", "1", "2"] and s.items.to_list() == [str(i) for i in range(1, 7)]
    assert s.meta["test"]["items_not_in_train"] == 1 and s.meta["valid"]["items_not_in_train"] == 0
    assert s.meta["counts"]["val"]["users_without_target"] == 1
    # test exclude = train ∪ valid, val exclude = train
    assert s.test.exclude[0].indices.tolist() == [0, 1, 2, 3]  # items 1, 2, 3, 4
    assert s.val.exclude[0].indices.tolist() == [0, 1, 2]


def test_save_load_round_trip_with_times_and_without_val(tmp_path):
    rng = np.random.default_rng(0)
    m = sp.random(30, 20, density=0.3, random_state=1, format="csr", dtype=np.float32)
    m.data = rng.integers(1, 6, m.nnz).astype(np.float32)
    times = m.copy().astype(np.float64)
    times.data = rng.random(m.nnz) * 1e9
    data = Interactions(m, times=times)
    s = random_split(data, val_ratio=0.1, test_ratio=0.3, seed=1)
    assert_same_split(s, load_split(save_split(s, tmp_path / "r", manifest={"note": "x"})))
    assert read_manifest(tmp_path / "r")["note"] == "x"
    h = heldout_users_split(data, 0, 6, seed=2)
    loaded = load_split(save_split(h, tmp_path / "h", manifest={}))
    assert loaded.val is None and not (tmp_path / "h" / "val.safetensors").exists()
    assert (loaded.test.rows == -1).all()
    assert_same_split(h, loaded)


def test_prepare_ml100k_heldout_users(tmp_path):
    src = shared_path("ml-100k/u.data").parent
    s = prepare_dataset(src, format="movielens", min_rating=4, split="heldout-users", val_users=100,
                        test_users=100, fold_in=0.8, seed=98765, out=tmp_path / "ml100k")
    m = read_manifest(tmp_path / "ml100k")
    assert m["split"]["source"]["files"] == {"u.data": U_DATA_SHA256}
    assert m["split"]["params"]["seed"] == 98765
    assert m["split"]["preprocessing"][0]["rows_after"] == 55_375  # ratings ≥ 4 in ML-100K
    n_users = m["split"]["preprocessing"][-1]["users_after"]
    assert s.train.n_users == n_users - 200 and s.val.n_users == s.test.n_users == 100
    for ev in (s.val, s.test):
        n = np.diff(ev.input.indptr) + np.diff(ev.target.indptr)
        assert np.array_equal(np.diff(ev.target.indptr), np.where(n >= 5, (0.2 * n).astype(int), 0))
    assert_same_split(s, load_split(tmp_path / "ml100k"))


def test_prepare_ml1m_lightgcnpp_given(tmp_path):
    src = shared_path("ml-1m-lightgcnpp/train.txt").parent
    s = prepare_dataset(src, format="lines", split="given", out=tmp_path / "ml1m")
    assert (s.train.n_users, s.n_items) == (6_039, 3_628)
    assert (s.train.nnz, s.val.target.nnz, s.test.target.nnz) == (590_733, 80_897, 164_848)
    assert s.test.exclude.nnz == 590_733 + 80_897
    # input and the train part of exclude are not stored again in val/test: ~5 MB of train, ~2 MB more
    assert sum(f.stat().st_size for f in (tmp_path / "ml1m").iterdir()) < 9_000_000
    loaded = load_split(tmp_path / "ml1m")
    assert same_csr(loaded.test.target, s.test.target) and loaded.meta["counts"] == s.meta["counts"]


# ---------------------------------------------------------------------- errors
def test_load_split_errors(ratings_csv, tmp_path):
    with pytest.raises(ArtifactError, match="does not exist"):
        load_split(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArtifactError, match="manifest.json is missing.*re-run `recgen data prepare"):
        load_split(tmp_path / "empty")
    out = tmp_path / "p"
    prepare_dataset(ratings_csv, split="random", out=out)
    (out / "test.safetensors").unlink()
    with pytest.raises(ArtifactError, match=f"{out.name}.*missing test.safetensors.*re-run `recgen data prepare "
                                            f"{ratings_csv} --format auto --split random --out {out}`"):
        load_split(out)
    prepare_dataset(ratings_csv, split="random", out=out)
    doc = json.loads((out / "manifest.json").read_text())
    doc["format_version"] = 99
    (out / "manifest.json").write_text(json.dumps(doc))
    with pytest.raises(ArtifactError, match="format version 99.*reads .* version 1.*re-run"):
        load_split(out)
    prepare_dataset(ratings_csv, split="random", out=out)
    (out / "items.json").write_text('["only-one"]')
    with pytest.raises(ArtifactError, match="damaged.*re-run"):
        load_split(out)


@pytest.mark.parametrize(("kwargs", "exc", "pattern"), [
    ({"split": "heldout-users", "val_users": 30, "test_users": 30}, ConfigError, "n_val_users=30 .* 40 users"),
    ({"split": "heldout-users"}, ConfigError, "needs val_users and test_users.*--val-users 4"),
    ({"split": "random", "test_ratio": 1.5}, ConfigError, "test_ratio=1.5"),
    ({"split": "random", "val_ratio": 0.6, "test_ratio": 0.5}, ConfigError, "must be below 1"),
    ({"split": "heldout", "val_users": 1}, ConfigError, "split='heldout'.*Did you mean 'heldout-users'"),
    ({"split": "time"}, ConfigError, "needs test_from"),
    ({"split": "random", "min_user": 1000}, RecgenError, "1000"),
    ({"split": "given"}, DataFormatError, "is not a directory"),
])
def test_prepare_errors(ratings_csv, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        prepare_dataset(ratings_csv, **kwargs)


def test_prepare_given_refuses_filters_and_missing_files(given_dir, tmp_path):
    with pytest.raises(ConfigError, match="min_rating=4"):
        prepare_dataset(given_dir, split="given", min_rating=4)
    (given_dir / "test.txt").unlink()
    with pytest.raises(DataFormatError, match="no test file"):
        read_given(given_dir)
    (given_dir / "test.txt").write_text("0 1\n")
    (given_dir / "test.csv").write_text("user,item\n0,1\n")
    with pytest.raises(DataFormatError, match="several test files"):
        read_given(given_dir)
    with pytest.raises(DataFormatError, match="source=.*does not exist"):
        prepare_dataset(tmp_path / "missing", split="random")


def test_read_given_csv_files_with_ratings(tmp_path):
    d = tmp_path / "csvs"
    d.mkdir()
    (d / "train.csv").write_text("user,item,rating\n1,10,4\n1,11,2\n2,10,5\n")
    (d / "val.csv").write_text("user,item,rating\n2,11,3\n")
    (d / "test.csv").write_text("user,item,rating\n1,12,5\n3,10,1\n")
    s = read_given(d, format="auto")
    assert s.train.users.to_list() == ["1", "2", "3"] and s.items.to_list() == ["10", "11", "12"]
    assert s.train.matrix.toarray().tolist() == [[4, 2, 0], [5, 0, 0], [0, 0, 0]]
    assert s.val.target.toarray().tolist() == [[0, 0, 0], [0, 3, 0], [0, 0, 0]]
    assert s.test.target.toarray().tolist() == [[0, 0, 5], [0, 0, 0], [1, 0, 0]]
    assert sorted(s.meta["source"]["files"]) == ["test.csv", "train.csv", "val.csv"]


def test_round_trip_of_unusual_evalsets_uses_full_storage(tmp_path):
    from recgen.data import EvalSet, Split, Vocabulary

    train = Interactions(sp.csr_matrix(np.array([[1, 0, 2], [0, 3, 0]], dtype=np.float32)))
    users = Vocabulary(["x", "y"])
    inp = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 0]], dtype=np.float32))  # not the train rows
    exclude = sp.csr_matrix(np.array([[0, 0, 5], [1, 0, 0]], dtype=np.float32))  # non-binary, not ⊇ input
    target = sp.csr_matrix(np.array([[1, 0, 0], [0, 0, 1]], dtype=np.float32))
    s = Split(train, None, EvalSet(users, inp, target, exclude, np.array([0, -1])), {"k": [1, 2]})
    save_split(s, tmp_path / "u", manifest={})
    from safetensors.numpy import load_file

    assert load_file(str(tmp_path / "u" / "test.safetensors"))["layout"].tolist() == [0, 0]
    assert_same_split(s, load_split(tmp_path / "u"))
