"""`recgen models`, help texts, `data generate`, `data download` (cache only) and the documented
`data prepare` commands on ../shared/data."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re

import pandas as pd
import pytest
from cli_helpers import assert_one_line_error, run


def _defaults(klass: type) -> dict[str, object]:
    out = {}
    for f in dataclasses.fields(klass.config_cls):
        v = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


def test_models_json_lists_every_registered_model_with_its_dataclass_defaults():
    from recgen.models.registry import available_models

    doc = json.loads(run("models", "--json").stdout)
    registry = available_models()
    assert set(doc) == set(registry)
    for name, klass in registry.items():
        assert doc[name]["defaults"] == _defaults(klass), name
        assert doc[name]["description"] and "\n" not in doc[name]["description"]


def test_models_table_and_detail_show_the_dataclass_defaults():
    from recgen.cli._common import fmt_value
    from recgen.models.registry import available_models

    wide = {"COLUMNS": "400"}
    table = run("models", env=wide).stdout
    detail = run("models", "ease", env=wide).stdout
    for name, klass in available_models().items():
        row = next(ln for ln in table.splitlines() if ln.startswith(f"│ {name} "))
        for field, value in _defaults(klass).items():
            assert f"{field}={fmt_value(value)}" in table, (name, field)
        assert row
    for field, value in _defaults(available_models()["ease"]).items():
        line = next(ln for ln in detail.splitlines() if ln.startswith(f"│ {field} "))
        assert f"│ {fmt_value(value)} " in line
    assert "L2 penalty" in detail  # the field's documentation comment is shown


def test_prepare_help_defaults_are_the_library_defaults():
    from recgen.data.prepared import prepare_dataset

    params = inspect.signature(prepare_dataset).parameters
    text = " ".join(run("data", "prepare", "--help", env={"COLUMNS": "200"}).stdout.split())
    for option, name in (("--seed", "seed"), ("--fold-in", "fold_in"), ("--min-user", "min_user"),
                         ("--min-target-items", "min_target_items"), ("--split", "split")):
        # the last mention is the options list (the usage examples above it mention options too)
        segment = [seg for seg in re.split(r"\s(?=--[a-z])", text) if seg.startswith(option + " ")][-1]
        m = re.search(r"\[default: ([^\]]+)\]", segment)
        assert m and m.group(1) == str(params[name].default), (option, segment)


def test_data_generate_writes_labelled_synthetic_csv(tmp_path):
    out = tmp_path / "synthetic.csv"
    res = run("data", "generate", "--users", "300", "--items", "120", "--seed", "3", "--out", out)
    assert "SYNTHETIC" in res.stdout
    df = pd.read_csv(out)
    assert list(df.columns) == ["user", "item", "rating", "timestamp"]
    assert df["user"].nunique() == 300 and df["item"].max() < 120 and not df.duplicated(["user", "item"]).any()
    label = json.loads((tmp_path / "synthetic.json").read_text())
    assert label["synthetic"] is True and label["params"]["seed"] == 3 and sum(label["user_cluster_sizes"]) == 300
    titles = pd.read_csv(tmp_path / "synthetic.items.csv")
    assert titles["title"].str.startswith("Synthetic item").all()
    # same seed → same file; the CSV is a valid input of `data prepare`
    run("data", "generate", "--users", "300", "--items", "120", "--seed", "3", "--out", tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == out.read_bytes()
    run("data", "prepare", out, "--split", "random", "--out", tmp_path / "prep")
    from recgen.data.prepared import load_split

    split = load_split(tmp_path / "prep")
    assert split.train.n_users == 300 and split.train.nnz + split.val.target.nnz + split.test.target.nnz == len(df)


def test_data_download_uses_the_cache_and_rejects_unknown_names(tmp_path, shared_data):
    home = tmp_path / "home"
    (home / "movielens").mkdir(parents=True)
    (home / "movielens" / "ml-100k").symlink_to(shared_data("ml-100k/u.data").parent, target_is_directory=True)
    res = run("data", "download", "ml-100k", env={"RECGEN_HOME": str(home)})
    assert res.stdout.strip() == str(home / "movielens" / "ml-100k")
    r = run("data", "download", "ml-100j", env={"RECGEN_HOME": str(home)}, ok=False)
    assert_one_line_error(r, "'ml-100j'", "ml-100k")


@pytest.mark.shared_data
def test_documented_prepare_commands_on_shared_data(tmp_path, shared_data):
    from recgen.data.prepared import load_split

    ml1m = shared_data("ml-1m-lightgcnpp/train.txt").parent
    run("data", "prepare", ml1m, "--format", "lines", "--split", "given", "--out", tmp_path / "ml1m")
    s = load_split(tmp_path / "ml1m")
    # README of ../shared/data: 6,039 users, 3,628 items; train 590,733, valid 80,897, test 164,848
    assert (s.train.n_users, s.n_items, s.train.nnz) == (6039, 3628, 590_733)
    assert (s.val.target.nnz, s.test.target.nnz) == (80_897, 164_848)

    ml100k = shared_data("ml-100k/u.data").parent
    run("data", "prepare", ml100k, "--format", "movielens", "--min-rating", "4", "--split", "heldout-users",
        "--val-users", "100", "--test-users", "100", "--fold-in", "0.8", "--seed", "98765", "--out", tmp_path / "ml100k")
    s = load_split(tmp_path / "ml100k")
    assert (s.val.n_users, s.test.n_users) == (100, 100)
    # every rating ≥ 4 is in train, a fold-in or a target, except held-out users' ratings of items no
    # training user has (dropped from the item universe and counted in the manifest)
    ratings = pd.read_csv(ml100k / "u.data", sep="\t", header=None, names=["u", "i", "r", "t"])
    pos = ratings[ratings["r"] >= 4]
    dropped = sum(s.meta["dropped_interactions"].values())
    total = s.train.nnz + sum(int(e.input.nnz + e.target.nnz) for e in (s.val, s.test))
    assert total + dropped == len(pos)
    assert s.train.n_users + 200 == pos["u"].nunique()
    manifest = json.loads((tmp_path / "ml100k" / "manifest.json").read_text())
    assert "--min-rating 4" in manifest["command"] and manifest["split"]["prepare"]["seed"] == 98765
