"""``recgen train MODEL --augment FILE``: synthetic users appended after the real training rows."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run, write_given_split

from recgen.cli._common import load_split
from recgen.models.base import Recommender


def _digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-augment")
    write_given_split(root / "raw", n_users=30, n_items=24)
    run("data", "prepare", root / "raw", "--format", "lines", "--out", root / "prep")
    # 3 synthetic users over real item ids (500..523); user s2 repeats an item (counted once)
    (root / "syn.csv").write_text("user,item\ns0,500\ns0,501\ns1,502\ns2,503\ns2,503\ns2,510\n", encoding="utf-8")
    return root


def test_augment_appends_rows_and_records_the_file(prepared):
    before = _digest(prepared / "prep")
    split = load_split(prepared / "prep")
    run("train", "most-popular", "--data", prepared / "prep", "--out", prepared / "plain")
    run("train", "most-popular", "--data", prepared / "prep", "--out", prepared / "aug",
        "--augment", prepared / "syn.csv")
    plain, aug = Recommender.load(prepared / "plain"), Recommender.load(prepared / "aug")
    n = split.train.n_users
    assert aug.train_.shape == (n + 3, split.n_items) and plain.train_.shape == (n, split.n_items)
    # real rows unchanged and first; synthetic rows are the file's items, binary
    assert (aug.train_[:n] != plain.train_).nnz == 0
    syn = aug.train_[n:]
    items = aug.items_.ids
    assert [sorted(items[syn[r].indices].tolist()) for r in range(3)] == [["500", "501"], ["502"], ["503", "510"]]
    assert np.all(syn.data == 1.0)
    assert aug.users_.ids[n:].tolist() == ["synth:s0", "synth:s1", "synth:s2"]
    # popularity counts include the synthetic interactions (item 503: real count + 1)
    col = split.train.items.lookup(["503"])[0]
    assert aug.train_[:, col].sum() == plain.train_[:, col].sum() + 1
    # metrics record the file; validation users and the prepared data are untouched
    m = json.loads((prepared / "aug" / "metrics.json").read_text())
    assert m["augment"] == {"file": str(prepared / "syn.csv"),
                            "sha256": hashlib.sha256((prepared / "syn.csv").read_bytes()).hexdigest(),
                            "synthetic_users": 3, "synthetic_interactions": 5, "real_users": n,
                            "real_interactions": int(split.train.nnz)}
    mp = json.loads((prepared / "plain" / "metrics.json").read_text())
    assert "augment" not in mp
    assert m["validation"]["n_users"] == mp["validation"]["n_users"] == split.val.nonempty().n_users
    assert _digest(prepared / "prep") == before
    after = load_split(prepared / "prep")
    assert (after.val.target != split.val.target).nnz == 0 and (after.test.target != split.test.target).nnz == 0


@pytest.mark.parametrize("content, fragments", [
    ("user,item\ns0,500\ns0,99999\n", ("--augment", "99999", "training vocabulary")),
    ("who,what\na,b\n", ("'user' and 'item'",)),
    ("user,item\n", ("no synthetic interactions",)),
])
def test_bad_augment_file_is_a_one_line_error(prepared, content, fragments):
    bad = prepared / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    r = run("train", "most-popular", "--data", prepared / "prep", "--out", prepared / "x", "--augment", bad, ok=False)
    assert_one_line_error(r, *fragments)
    assert not (prepared / "x").exists()


def test_missing_augment_file(prepared):
    r = run("train", "most-popular", "--data", prepared / "prep", "--out", prepared / "x",
            "--augment", prepared / "nope.csv", ok=False)
    assert_one_line_error(r, "nope.csv")
