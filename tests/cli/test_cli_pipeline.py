"""prepare → train → evaluate → recommend through the CLI on a tiny given split with planted blocks.

The recommendation lists written by ``recgen recommend --out`` are scored again here by an independent
few-line implementation reading the raw test file, and must give exactly ``recgen evaluate``'s numbers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from cli_helpers import run, write_given_split

import recgen


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, list[str]]]]:
    root = tmp_path_factory.mktemp("cli")
    parts = write_given_split(root / "raw")
    run("data", "prepare", root / "raw", "--format", "lines", "--split", "given", "--out", root / "prep")
    run("train", "ease", "--data", root / "prep", "--out", root / "ease", "--set", "l2=5")
    return root, parts


def _independent_metrics(recs_path: Path, test: dict[str, list[str]], k: int) -> dict[str, float]:
    """Standard recall, truncated recall and NDCG@k from JSONL lists and raw test items (binary relevance)."""
    recall, trecall, ndcg = [], [], []
    for line in recs_path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        relevant = set(test.get(rec["user"], []))
        if not relevant:
            continue
        hits = [item in relevant for item in rec["items"][:k]]
        recall.append(sum(hits) / len(relevant))
        trecall.append(sum(hits) / min(k, len(relevant)))
        dcg = sum(1 / math.log2(r + 2) for r, h in enumerate(hits) if h)
        ndcg.append(dcg / sum(1 / math.log2(r + 2) for r in range(min(k, len(relevant)))))
    n = len(recall)
    return {f"recall@{k}": sum(recall) / n, f"trecall@{k}": sum(trecall) / n, f"ndcg@{k}": sum(ndcg) / n,
            "n_users": n}


def test_train_saves_artifact_with_fingerprint_and_validation_metrics(workdir):
    root, _ = workdir
    cfg = json.loads((root / "ease" / "config.json").read_text())
    assert cfg["model"] == "ease" and cfg["config"]["l2"] == 5.0  # --set coerced to the field's type
    from recgen.data.prepared import load_split

    split = load_split(root / "prep")
    assert cfg["data_fingerprint"] == split.train.fingerprint()
    metrics = json.loads((root / "ease" / "metrics.json").read_text())
    val = metrics["validation"]
    assert val["ks"] == [20]  # the default cut-offs 50 and 100 exceed the 45 items and are dropped
    assert 0.0 < val["summary"]["ndcg@20"] <= 1.0


def test_evaluate_json_matches_independent_recomputation_from_recommend_jsonl(workdir):
    root, parts = workdir
    run("evaluate", root / "ease", "--data", root / "prep", "--k", "5", "10", "--json", root / "ease.json",
        "--per-user")
    doc = json.loads((root / "ease.json").read_text())
    assert doc["split"] == "test" and doc["model"] == "ease" and doc["ks"] == [5, 10]
    assert len(doc["users"]) == doc["n_users"] == len(doc["per_user"]["recall@5"])
    for key in ("recall@5", "ndcg@10"):
        lo, hi = doc["ci95"][key]
        assert lo <= doc["summary"][key] <= hi
    run("recommend", root / "ease", "--data", root / "prep", "--split", "test", "--k", "10",
        "--out", root / "recs.jsonl")
    lines = [json.loads(x) for x in (root / "recs.jsonl").read_text().splitlines()]
    assert all(set(x) == {"user", "items"} and len(x["items"]) == 10 for x in lines)
    # exclude items (train ∪ valid) never appear in a test list
    for x in lines:
        seen = set(parts["train"].get(x["user"], [])) | set(parts["valid"].get(x["user"], []))
        assert not seen & set(x["items"])
    for k in (5, 10):
        mine = _independent_metrics(root / "recs.jsonl", parts["test"], k)
        assert mine["n_users"] == doc["n_users"]
        for key in (f"recall@{k}", f"trecall@{k}", f"ndcg@{k}"):
            assert mine[key] == pytest.approx(doc["summary"][key], abs=1e-6), key
    # the planted blocks are found: far better than chance (3 blocks → ~1/3 of the lists)
    assert doc["summary"]["recall@10"] > 0.6


def test_evaluate_val_split_excludes_only_train(workdir):
    root, parts = workdir
    run("recommend", root / "ease", "--data", root / "prep", "--split", "val", "--k", "10",
        "--out", root / "val.jsonl")
    run("evaluate", root / "ease", "--data", root / "prep", "--split", "val", "--k", "10", "--json",
        root / "val.json", "--no-ci")
    doc = json.loads((root / "val.json").read_text())
    mine = _independent_metrics(root / "val.jsonl", parts["valid"], 10)
    assert mine["ndcg@10"] == pytest.approx(doc["summary"]["ndcg@10"], abs=1e-6)
    # validation lists may contain test items (only train is excluded) but never train items
    lines = [json.loads(x) for x in (root / "val.jsonl").read_text().splitlines()]
    assert any(set(x["items"]) & set(parts["test"].get(x["user"], [])) for x in lines)
    assert not any(set(x["items"]) & set(parts["train"].get(x["user"], [])) for x in lines)


def test_recommend_from_history_and_known_user(workdir):
    root, _ = workdir
    # items 500, 503, 506 belong to block 0 (index % 3 == 0): the new user's list is block 0 first
    res = run("recommend", root / "ease", "--items", "500,503,506", "--k", "5")
    model = recgen.load_model(root / "ease")
    lists, _ = model.recommend(items=["500", "503", "506"], k=5)
    shown = [ln.split("│")[3].strip() for ln in res.stdout.splitlines() if ln.count("│") == 5]
    assert shown == lists[0]
    assert sum((int(i) - 500) % 3 == 0 for i in lists[0]) >= 4
    res = run("recommend", root / "ease", "--users", "1001", "--k", "3")
    lists, _ = model.recommend(users=["1001"], k=3)
    assert [ln.split("│")[3].strip() for ln in res.stdout.splitlines() if ln.count("│") == 5] == lists[0]


def test_config_file_and_set_precedence(workdir, tmp_path):
    root, _ = workdir
    cfg = tmp_path / "itemknn.json"
    cfg.write_text(json.dumps({"k": 7, "shrink": 3}))
    run("train", "itemknn", "--data", root / "prep", "--out", tmp_path / "knn", "--config", cfg, "--set", "k=9")
    saved = json.loads((tmp_path / "knn" / "config.json").read_text())["config"]
    assert saved["k"] == 9 and saved["shrink"] == 3.0  # --set wins over --config; the rest comes from the file
    # a saved model's config.json is accepted as --config
    run("train", "ease", "--data", root / "prep", "--out", tmp_path / "ease2", "--config", root / "ease" / "config.json")
    assert json.loads((tmp_path / "ease2" / "config.json").read_text())["config"]["l2"] == 5.0
