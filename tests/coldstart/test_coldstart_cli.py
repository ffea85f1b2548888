"""``recgen recommend ARTIFACT --user-features ...`` and ``recgen similar ARTIFACT --item ID``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from cold_helpers import planted, without_items

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cli_helpers import assert_one_line_error, run  # noqa: E402

from recgen.models import available_models  # noqa: E402
from recgen.models.similar import similar_items  # noqa: E402


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    full, ub, ib, item_f, user_f = planted()
    cold = np.arange(full.n_items) == 4
    root = tmp_path_factory.mktemp("coldstart-cli")
    model = available_models()["content-knn"](k=30, min_segment_users=5).fit(
        without_items(full, cold), item_features=item_f, user_features=user_f)
    model.save(root / "knn")
    available_models()["most-popular"]().fit(full).save(root / "pop")
    return {"root": root, "model": model, "ib": ib, "full": full}


def test_recommend_from_user_features_reports_the_source(artifacts):
    r = run("recommend", artifacts["root"] / "knn", "--user-features", "occupation=job2,gender=F", "--k", "5")
    assert "answered by: feature-map" in r.stdout
    assert "feature-map: used" in r.stderr and "history: skipped" in r.stderr
    expected = artifacts["model"].recommend_cold({"occupation": "job2", "gender": "F"}, k=5).items
    for item in expected:
        assert f" {item} " in r.stdout


def test_recommend_features_and_history_together_prefers_history(artifacts):
    r = run("recommend", artifacts["root"] / "knn", "--user-features", "occupation=job2", "--items", "0,3,6",
            "--k", "3")
    assert "answered by: history" in r.stdout


def test_bad_features_give_one_line_errors(artifacts):
    knn, pop = artifacts["root"] / "knn", artifacts["root"] / "pop"
    assert_one_line_error(run("recommend", knn, "--user-features", "occupaton=job1", ok=False),
                          "unknown feature field 'occupaton'", "Did you mean 'occupation'")
    assert_one_line_error(run("recommend", knn, "--user-features", "occupation=astronaut", ok=False),
                          "occupation='astronaut' is not a known value", "--ignore-unknown")
    assert_one_line_error(run("recommend", knn, "--user-features", "age", ok=False), "not name=value")
    assert_one_line_error(run("recommend", pop, "--user-features", "gender=F", ok=False),
                          "no user-feature support")
    assert_one_line_error(run("recommend", knn, "--user-features", "gender=F", "--users", "1", ok=False),
                          "combines only with --items")
    r = run("recommend", knn, "--user-features", "occupation=astronaut", "--ignore-unknown")
    assert "answered by: popularity" in r.stdout and "ignored unknown occupation=astronaut" in r.stderr


def test_similar_lists_content_neighbours_of_a_new_item(artifacts):
    r = run("similar", artifacts["root"] / "knn", "--item", "4", "--k", "3", "--json")
    out = json.loads(r.stdout)
    assert out["method"] == "embedding-cosine" and len(out["items"]) == 3 and "4" not in out["items"]
    (expected,), scores = similar_items(artifacts["model"], ["4"], k=3)
    assert out["items"] == expected and np.allclose(out["scores"], scores[0])
    assert_one_line_error(run("similar", artifacts["root"] / "knn", "--item", "nope", ok=False), "unknown item")
