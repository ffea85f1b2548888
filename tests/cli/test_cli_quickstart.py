"""`recgen quickstart` offline: the README's command on the bundled data, plus the ML-100K and synthetic paths."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from cli_helpers import run

from recgen import quickstart as qs
from recgen.errors import ConfigError
from recgen.models import available_models
from recgen.models.coldstart import STEPS


def test_readme_quickstart_offline_uses_bundled_movietweetings(tmp_path):
    """`recgen quickstart` (as in the README) with an empty cache and no network: MovieTweetings 100K."""
    out = tmp_path / "qs"
    res = run("quickstart", "--out", out, "--no-download", env={"RECGEN_HOME": str(tmp_path / "empty-home"),
                                                                 "COLUMNS": "160"})
    text = res.stdout
    assert "MovieTweetings 100K" in text and "MIT" in text and "Dooms" in text
    assert "ratings >= 7 of 10" in text and "5-core" in text  # the preparation is stated
    doc = json.loads((out / "results.json").read_text())
    assert doc["data"] == "movietweetings" and doc["synthetic"] is False
    expected = [name for name, _ in qs.QUICKSTART_MODELS if name in available_models()]
    assert doc["models"] == expected
    for name in expected:
        assert re.search(rf"│ {re.escape(name)}\s+│\s+500 │", text), name  # one table row per model, 500 users
        r = doc["test"][name]
        lo, hi = r["ci95"]["ndcg@20"]
        assert 0 < lo <= r["summary"]["ndcg@20"] <= hi < 1
        assert (out / "models" / name / "config.json").is_file()
    # deterministic models: personalised ones beat popularity on this split (measured: 0.193 vs 0.158)
    assert doc["test"]["ease"]["summary"]["ndcg@20"] > doc["test"]["most-popular"]["summary"]["ndcg@20"]
    assert (out / "ndcg@20.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "recall@20 (std)" in (out / "results.md").read_text()
    # recommendations: the new user's history is shown by title and not recommended back
    block = text[text.index("a new user"):]
    history = block.splitlines()[1]
    assert "Despicable Me 2 (2013)" in history and "Wreck-It Ralph (2012)" in history
    recs = re.findall(r"^\s+\d\. (.+)$", block, flags=re.M)[:5]
    assert len(recs) == 5 and not set(recs) & {"Despicable Me 2 (2013)", "Monsters University (2013)",
                                                 "Wreck-It Ralph (2012)"}
    assert all(re.search(r"\(\d{4}\)$", t) for t in recs)  # titles, not ids
    # the saved model serves the printed next step
    best = doc["best_model_by_validation"]
    assert f"recgen evaluate {out / 'models' / best}" in text
    # cold start: MovieTweetings has no user features, so the cold user falls through to popularity
    cold = doc["coldstart"]
    assert cold["model"] == "content-knn" and cold["user_features"] is None
    assert set(cold["item_features"]) == {"genre", "title", "year"}
    cu = cold["cold_user"]
    assert cu["source"] == "popularity" and [c["step"] for c in cu["chain"]] == list(STEPS)
    assert [c["used"] for c in cu["chain"]] == [False, False, False, True]
    assert len(cu["items"]) == 5 and all(re.search(r"\(\d{4}\)$", r["title"]) for r in cu["items"])
    scores = [r["score"] for r in cu["items"]]
    assert scores == sorted(scores, reverse=True)
    ni = cold["new_item"]
    assert ni["interactions"] == 0 and re.search(r"\(\d{4}\)$", ni["title"]) and ni["title"] != ni["item"]
    assert ni["item"] not in {r["item"] for r in ni["similar"]} and len(ni["similar"]) == 5
    assert all(re.search(r"\(\d{4}\)$", r["title"]) for r in ni["similar"])
    block = text[text.index("Cold start"):]
    assert "'popularity' fallback" in block and ni["title"] in block
    assert all(r["title"] in block for r in cu["items"] + ni["similar"])
    # synthetic users: a small BehaviourGAN, labelled, with its report headline in results.json and the output
    syn = doc["synthetic_users"]  # doc["synthetic"] (a bool) says whether the data is synthetic
    assert syn["label"].startswith("SYNTHETIC USERS") and syn["synthetic_users"] == syn["holdout_users"] == 500
    heads = {h["name"]: h for h in syn["headline"]}
    assert list(heads) == ["popularity_jsd", "activity_ks", "exact_copy_rate", "mia_auc", "tstr_ratio_ease"]
    assert 0 <= heads["popularity_jsd"]["value"] <= 1 and 0 <= heads["activity_ks"]["value"] <= 1
    assert heads["exact_copy_rate"]["value"] == 0 and 0 < heads["mia_auc"]["value"] < 1  # copies are re-drawn
    assert 0 < heads["tstr_ratio_ease"]["value"] < 2
    for h in heads.values():  # met flag agrees with value, op and threshold
        assert h["met"] == (h["value"] >= h["threshold"] if h["op"] == ">=" else h["value"] <= h["threshold"])
    assert "utility (EASE TSTR only)" in syn["computed"] and "model-ranking Kendall tau" in syn["not_computed"]
    frame = pd.read_csv(out / "synthetic_users.csv", dtype=str)
    assert list(frame.columns) == ["user", "item"] and len(frame) == syn["synthetic_interactions"]
    assert frame["user"].nunique() == 500 and not frame.duplicated().any()
    assert set(frame["item"]) <= set(json.loads((out / "data" / "items.json").read_text()))  # real vocabulary
    block = text[text.index("SYNTHETIC USERS"):]
    assert "500 synthetic users" in block and "not real people" in block
    assert block.count("-> met") + block.count("-> MISSED") == len(heads)
    assert all(f"{name} " in block for name in heads) and str(out / "synthetic_users.csv") in block


def test_quickstart_uses_cached_movielens_100k(tmp_path, shared_data):
    home = tmp_path / "home"
    (home / "movielens").mkdir(parents=True)
    (home / "movielens" / "ml-100k").symlink_to(shared_data("ml-100k/u.data").parent, target_is_directory=True)
    res = run("quickstart", "--out", tmp_path / "qs", "--no-download", "--models", "most-popular,ease",
              "--no-synthetic-users", env={"RECGEN_HOME": str(home), "COLUMNS": "160"})
    assert "MovieLens 100K" in res.stdout and "Harper" in res.stdout
    doc = json.loads((tmp_path / "qs" / "results.json").read_text())
    assert doc["data"] == "ml-100k" and doc["models"] == ["most-popular", "ease"]
    # the split is the README's ML-100K command: 100 test users (all with ≥ 1 target item at fold-in 0.8)
    assert doc["test"]["ease"]["n_users"] + doc["test"]["ease"]["n_skipped"] == 100
    assert "Toy Story (1995)" in res.stdout
    # ML-100K has user features: the cold user (25, F, student) is answered by the learned feature map
    cold = doc["coldstart"]
    assert set(cold["user_features"]) == {"age", "gender", "occupation"}
    cu = cold["cold_user"]
    assert cu["features"] == {"age": 25, "gender": "F", "occupation": "student"}
    assert cu["source"] == "feature-map" and cu["chain"][1] == {"step": "feature-map", "used": True,
                                                                 "reason": "3 feature value(s)"}
    assert len(cu["items"]) == 5 and all(re.search(r"\(\d{4}\)$", r["title"]) for r in cu["items"])
    ni = cold["new_item"]
    assert ni["interactions"] == 0 and ni["title"] != ni["item"] and len(ni["similar"]) == 5
    assert "'feature-map' fallback" in res.stdout and ni["title"] in res.stdout


def test_quickstart_synthetic_is_labelled_and_recovers_clusters(tmp_path):
    res = run("quickstart", "--out", tmp_path / "qs", "--data", "synthetic", "--models", "most-popular,ease",
              "--no-synthetic-users", env={"COLUMNS": "160"})
    assert res.stdout.startswith("SYNTHETIC DATA")
    doc = json.loads((tmp_path / "qs" / "results.json").read_text())
    assert doc["synthetic"] is True
    block = res.stdout[res.stdout.index("a new user"):]
    history_clusters = set(re.findall(r"taste cluster (\d+)", block.splitlines()[1]))
    assert len(history_clusters) == 1  # the new user's history comes from one planted cluster
    rec_clusters = re.findall(r"^\s+\d\. Synthetic item \d+ \(taste cluster (\d+)\)$", block, flags=re.M)[:5]
    # most of the list comes from that cluster (chance: 5/8 of one item); popularity pulls in the rest
    assert len(rec_clusters) == 5 and sum(c in history_clusters for c in rec_clusters) >= 3
    test = doc["test"]
    assert test["ease"]["summary"]["ndcg@20"] > 1.5 * test["most-popular"]["summary"]["ndcg@20"]
    assert doc["coldstart"]["cold_user"]["source"] == "popularity"


def test_resolve_data_order(tmp_path, monkeypatch):
    monkeypatch.setenv("RECGEN_HOME", str(tmp_path / "empty"))
    assert qs.resolve_data("auto", download=False) == "movietweetings"
    monkeypatch.setattr(qs, "_bundled", lambda: None)
    assert qs.resolve_data("auto", download=False) == "synthetic"
    assert qs.resolve_data("ml-100k", download=False) == "ml-100k"
    with pytest.raises(ConfigError, match="movietweetings"):
        qs.resolve_data("movietweeting", download=False)
    r = run("quickstart", "--out", tmp_path / "x", "--data", "ml-100k", "--no-download",
            env={"RECGEN_HOME": str(tmp_path / "empty")}, ok=False)
    assert r.exit_code == 2 and r.stderr.startswith("error: data='ml-100k'") and "recgen data download" in r.stderr
