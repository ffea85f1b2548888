"""The model store: atomic publish, versions, CURRENT, rollback, and the store CLI."""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest
import serving_helpers
from click.testing import CliRunner

from recgen.errors import ArtifactError, ConfigError
from recgen.serving import ModelStore
from recgen.serving.engine import LoadedModel

# shared fixtures (assigned, not imported, so pytest finds them and ruff sees no shadowed import)
artifacts = serving_helpers.artifacts
data_blocks = serving_helpers.data_blocks
ease = serving_helpers.ease
popular = serving_helpers.popular



def _files(d):
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_publish_copies_versions_and_moves_current(tmp_path, artifacts):
    store = ModelStore(tmp_path / "store")
    assert store.names() == []
    assert store.publish(artifacts["ease"], "rec") == "0001"
    assert store.publish(artifacts["pop"], "rec") == "0002"
    assert store.names() == ["rec"] and store.versions("rec") == ["0001", "0002"]
    assert store.current("rec") == "0002" and store.default_name() == "rec"
    assert (tmp_path / "store/rec/CURRENT").read_text() == "0002\n"
    assert _files(store.path("rec", "1")) == _files(artifacts["ease"])  # byte-identical copy
    assert _files(store.path("rec")) == _files(artifacts["pop"])
    # nothing half-made is left behind
    assert sorted(p.name for p in (tmp_path / "store/rec").iterdir()) == ["CURRENT", "HISTORY", "versions"]
    history = (tmp_path / "store/rec/HISTORY").read_text().splitlines()
    assert [line.split()[1:] for line in history] == [["0001", "publish"], ["0002", "publish"]]


def test_publish_without_activating_and_rollback(tmp_path, artifacts):
    store = ModelStore(tmp_path)
    store.publish(artifacts["ease"], "m")
    assert store.publish(artifacts["pop"], "m", activate=False) == "0002"
    assert store.current("m") == "0001"
    store.activate("m", "2")
    assert store.current("m") == "0002"
    store.publish(artifacts["ease"], "m")
    assert store.rollback("m") == "0002" and store.current("m") == "0002"
    assert store.rollback("m") == "0001"
    with pytest.raises(ArtifactError, match="oldest version 0001"):
        store.rollback("m")
    assert store.rollback("m", to="0003") == "0003"
    with pytest.raises(ArtifactError, match="version=7.*0001, 0002, 0003"):
        store.activate("m", 7)


def test_bad_names_and_artifacts_are_refused_and_leave_the_store_untouched(tmp_path, artifacts):
    store = ModelStore(tmp_path / "s")
    for bad in ("", "../x", ".hidden", "a/b", "x" * 65):
        with pytest.raises(ConfigError, match="name="):
            store.publish(artifacts["ease"], bad)
    not_model = tmp_path / "empty"
    not_model.mkdir()
    with pytest.raises(ArtifactError, match="lacks config.json"):
        store.publish(not_model, "m")
    with pytest.raises(ArtifactError, match="is not a directory"):
        store.publish(tmp_path / "missing", "m")
    assert store.names() == []
    with pytest.raises(ArtifactError, match="'m' is not in the store"):
        store.current("m")
    with pytest.raises(ConfigError, match="holds no models"):
        store.default_name()
    store.publish(artifacts["ease"], "a")
    store.publish(artifacts["ease"], "b")
    with pytest.raises(ConfigError, match="pass --name"):
        store.default_name()


def test_concurrent_publishers_get_distinct_complete_versions(tmp_path, artifacts):
    store = ModelStore(tmp_path)
    got: list[str] = []
    threads = [threading.Thread(target=lambda: got.append(store.publish(artifacts["ease"], "m"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == ["0001", "0002", "0003", "0004"] == store.versions("m")
    for v in got:
        assert _files(store.path("m", v)) == _files(artifacts["ease"])


def test_loading_from_the_store_never_unpickles(tmp_path, artifacts, ease, monkeypatch):
    import torch

    def forbidden(*a, **k):
        raise AssertionError("unpickling during model load")

    for mod, attr in ((pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (torch, "load"), (np, "load")):
        monkeypatch.setattr(mod, attr, forbidden)
    store = ModelStore(tmp_path)
    store.publish(artifacts["ease"], "m")
    loaded = LoadedModel.from_path(store.path("m"), name="m", version="0001")
    np.testing.assert_array_equal(loaded.model.weights_, ease.weights_)
    assert loaded.info["data_fingerprint"] == "fp-ease" and loaded.metrics == {"ndcg@20": 0.5}


def test_store_cli_publish_list_rollback_activate(tmp_path, artifacts):
    from recgen.cli.main import cli

    run = CliRunner().invoke
    st = str(tmp_path / "store")
    r = run(cli, ["publish", str(artifacts["ease"]), "--store", st, "--name", "rec"])
    assert r.exit_code == 0 and "rec version 0001 published" in r.output
    r = run(cli, ["publish", str(artifacts["pop"]), "--store", st, "--name", "rec", "--no-activate"])
    assert r.exit_code == 0 and "current stays 0001" in r.output
    assert run(cli, ["store", "list", st]).output == "rec: 0001* 0002\n"
    assert run(cli, ["store", "activate", "--store", st, "--name", "rec", "2"]).exit_code == 0
    assert run(cli, ["store", "list", st]).output == "rec: 0001 0002*\n"
    r = run(cli, ["store", "rollback", "--store", st, "--name", "rec"])
    assert r.exit_code == 0 and "version 0001 is current" in r.output
    r = run(cli, ["store", "rollback", "--store", st, "--name", "rec"])
    assert r.exit_code == 2 and r.output.startswith("error:") and "nothing to roll back" in r.output
    r = run(cli, ["publish", str(tmp_path), "--store", st, "--name", "rec"])
    assert r.exit_code == 2 and "lacks config.json" in r.output
