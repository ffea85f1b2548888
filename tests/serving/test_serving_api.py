"""Every endpoint and every error of the HTTP service, through FastAPI's test client."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import pytest
import scipy.sparse as sp
import serving_helpers
from fastapi.testclient import TestClient
from serving_helpers import expected_top, user_items, wait_ready

from recgen.data import Interactions
from recgen.models.popularity import MostPopular
from recgen.serving import ModelStore, ServeSettings, create_app
from recgen.serving.engine import LoadedModel
from recgen.serving.schemas import MAX_BATCH, MAX_IDS

# shared fixtures (assigned, not imported, so pytest finds them and ruff sees no shadowed import)
artifacts = serving_helpers.artifacts
data_blocks = serving_helpers.data_blocks
ease = serving_helpers.ease
popular = serving_helpers.popular

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def client(ease):
    with TestClient(create_app(ease, name="ease")) as c:
        wait_ready(c)
        yield c


@pytest.fixture(scope="module")
def store_client(artifacts, tmp_path_factory):
    store = ModelStore(tmp_path_factory.mktemp("store"))
    store.publish(artifacts["ease"], "ease")
    with TestClient(create_app(store.root, settings=ServeSettings(poll_interval=0))) as c:
        wait_ready(c)
        yield c


def test_health_and_model_info_from_a_store(store_client, ease):
    assert store_client.get("/health").json() == {"status": "ready", "model": "ease", "version": "0001",
                                                  "reloads": 0, "last_error": None}
    info = store_client.get("/model").json()
    assert (info["name"], info["version"], info["model"]) == ("ease", "0001", "ease")
    assert info["config"]["l2"] == 10.0 and info["data_fingerprint"] == "fp-ease"
    assert info["metrics"] == {"ndcg@20": 0.5}
    assert (info["n_users"], info["n_items"]) == (120, 60)


def test_known_user_gets_the_models_top_k_from_its_training_history(client, ease):
    for user in ("0", "1", "59"):
        r = client.post("/recommend", json={"user_id": user, "k": 7})
        assert r.status_code == 200
        body = r.json()
        seen = user_items(ease, user)
        assert body["source"] == "user" and body["ignored_items"] == [] and body["version"] == "1"
        assert body["items"] == expected_top(ease, seen, 7)
        # planted structure: the missing items of the user's own block come first
        assert all(int(i) % 3 == int(user) % 3 for i in body["items"][:5])
        assert not set(map(int, body["items"])) & set(seen)
        assert body["scores"] == sorted(body["scores"], reverse=True)
        direct = ease.score(sp.csr_matrix(ease.train_[int(user)]))[0]
        np.testing.assert_allclose(body["scores"], direct[[int(i) for i in body["items"]]], rtol=1e-6)


def test_unseen_user_is_served_from_the_history_sent(client, ease):
    r = client.post("/recommend", json={"items": ["1", 4, "7"], "k": 5})  # ints and strings are the same ids
    body = r.json()
    assert r.status_code == 200 and body["source"] == "history"
    assert body["items"] == expected_top(ease, [1, 4, 7], 5)
    assert all(int(i) % 3 == 1 for i in body["items"])
    ids, _ = ease.recommend(items=["1", "4", "7"], k=5)
    assert body["items"] == ids[0]


def test_exclude_seen_false_may_return_history_items(client, ease):
    body = client.post("/recommend", json={"items": ["1", "4"], "k": 60, "exclude_seen": False}).json()
    assert len(body["items"]) == 60 and {"1", "4"} <= set(body["items"])


def test_exclude_and_candidates_filter_the_result(client, ease):
    cands = [str(i) for i in range(0, 30)]
    body = client.post("/recommend", json={"items": ["1", "4"], "k": 5, "exclude": ["7", "10"],
                                           "candidates": cands}).json()
    assert body["items"] == expected_top(ease, [1, 4], 5, extra_exclude=[7, 10], candidates=list(range(30)))
    assert {"1", "4", "7", "10"}.isdisjoint(body["items"]) and set(body["items"]) <= set(cands)
    # fewer candidates than k: all that are left, best first
    body = client.post("/recommend", json={"items": ["1"], "k": 10, "candidates": ["1", "2", "3"]}).json()
    assert sorted(body["items"]) == ["2", "3"]


def test_empty_history_falls_back_to_popularity(client, ease):
    pop = np.bincount(ease.train_.indices, minlength=60)
    want = [str(i) for i in sorted(range(60), key=lambda i: (-pop[i], i))[:6]]
    body = client.post("/recommend", json={"items": [], "k": 6}).json()
    assert body["source"] == "popularity" and body["items"] == want
    assert body["scores"] == [float(pop[int(i)]) for i in want]
    # a history whose ids are all unknown, under the ignore policy, also falls back, and says what it dropped
    body = client.post("/recommend", json={"items": ["x", "y"], "k": 6, "unknown_items": "ignore"}).json()
    assert body["source"] == "popularity" and body["items"] == want and body["ignored_items"] == ["x", "y"]


def test_unknown_items_are_rejected_or_ignored_and_reported(client, ease):
    r = client.post("/recommend", json={"items": ["1", "nope", "4"], "k": 5})
    assert r.status_code == 422
    err = r.json()
    assert err["error"] == "unknown_item" and "'nope'" in err["message"] and "ignore" in err["hint"]
    r = client.post("/recommend", json={"items": ["1", "nope", "4"], "k": 5, "exclude": ["gone"],
                                        "unknown_items": "ignore"})
    body = r.json()
    assert r.status_code == 200 and body["ignored_items"] == ["nope", "gone"]
    assert body["items"] == expected_top(ease, [1, 4], 5)
    r = client.post("/recommend", json={"items": ["1"], "k": 5, "candidates": ["2", "zz"]})
    assert r.status_code == 422 and "candidates" in r.json()["message"]


def test_server_policy_ignore_is_the_default_for_requests(ease):
    with TestClient(create_app(ease, settings=ServeSettings(unknown_items="ignore"))) as c:
        body = c.post("/recommend", json={"items": ["1", "nope"], "k": 3}).json()
        assert body["ignored_items"] == ["nope"] and body["items"] == expected_top(ease, [1], 3)
        r = c.post("/recommend", json={"items": ["1", "nope"], "k": 3, "unknown_items": "reject"})
        assert r.status_code == 422


def test_unknown_user_is_404_with_a_hint_to_send_items(client):
    r = client.post("/recommend", json={"user_id": "stranger", "k": 5})
    assert r.status_code == 404
    err = r.json()
    assert err["error"] == "unknown_user" and "'stranger'" in err["message"] and '"items"' in err["hint"]


@pytest.mark.parametrize("body, field", [
    ({}, "body"),
    ({"user_id": "0", "items": ["1"]}, "exactly one"),
    ({"user_id": "0", "k": 0}, "k"),
    ({"user_id": "0", "k": -3}, "k"),
    ({"user_id": "0", "k": "ten"}, "k"),
    ({"user_id": "0", "k": 1.5}, "k"),
    ({"user_id": "0", "colour": "red"}, "colour"),
    ({"items": "1,2"}, "items"),
    ({"items": [True]}, "items"),
    ({"user_id": True}, "user_id"),
    ({"items": [""]}, "items"),
    ({"items": ["1"], "unknown_items": "maybe"}, "unknown_items"),
    ({"items": ["1"], "candidates": []}, "candidates"),
    ([{"user_id": "0"}], "body"),
])
def test_invalid_bodies_are_422_naming_the_field(client, body, field):
    r = client.post("/recommend", json=body)
    assert r.status_code == 422, r.text
    err = r.json()
    assert err["error"] == "invalid_request" and field in err["message"], err
    assert isinstance(err["detail"], list) and err["detail"]


def test_malformed_json_and_oversized_lists_are_422(client):
    r = client.post("/recommend", content=b'{"user_id": "0",', headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    r = client.post("/recommend", content=b'{"items": ["\xff\xfe"]}', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "UTF-8" in r.json()["message"]  # not FastAPI's bare 400
    r = client.post("/recommend", json={"items": ["1"] * (MAX_IDS + 1)})
    assert r.status_code == 422 and "items" in r.json()["message"]


def test_k_larger_than_the_catalogue_is_422(client):
    r = client.post("/recommend", json={"user_id": "0", "k": 61})
    assert r.status_code == 422 and "k=61" in r.json()["message"] and "60" in r.json()["message"]
    assert client.post("/recommend", json={"user_id": "0", "k": 60}).status_code == 200


def test_batch_answers_in_order_like_single_requests(client):
    reqs = [{"user_id": "5", "k": 4}, {"items": ["2", "5"], "k": 3}, {"items": [], "k": 2},
            {"user_id": "6", "k": 4, "exclude": ["0"]}]
    r = client.post("/recommend/batch", json={"requests": reqs})
    assert r.status_code == 200
    results = r.json()["results"]
    assert results == [client.post("/recommend", json=q).json() for q in reqs]
    assert [x["source"] for x in results] == ["user", "history", "popularity", "user"]


def test_batch_errors_name_the_request_index(client):
    r = client.post("/recommend/batch", json={"requests": [{"user_id": "0"}, {"user_id": "ghost"}]})
    assert r.status_code == 404 and "requests[1]" in r.json()["message"]
    r = client.post("/recommend/batch", json={"requests": [{"user_id": "0"}, {"items": ["1"], "k": 99}]})
    assert r.status_code == 422 and "requests[1].k=99" in r.json()["message"]
    assert client.post("/recommend/batch", json={"requests": []}).status_code == 422
    too_many = {"requests": [{"user_id": "0"}] * (MAX_BATCH + 1)}
    assert client.post("/recommend/batch", json=too_many).status_code == 422


def test_similar_items_use_the_ease_weights(client, ease):
    r = client.get("/items/3/similar", params={"k": 5})
    body = r.json()
    assert r.status_code == 200 and body["method"] == "ease-weights" and body["item"] == "3"
    row = ease.weights_[3].astype(np.float64)
    want = [str(i) for i in sorted((i for i in range(60) if i != 3), key=lambda i: (-row[i], i))[:5]]
    assert body["items"] == want and all(int(i) % 3 == 0 for i in want)
    np.testing.assert_allclose(body["scores"], row[[int(i) for i in want]], rtol=1e-6)


def test_similar_items_by_cooccurrence_cosine_when_the_model_has_no_item_vectors():
    # 4 users × 4 items; cosine(0, j) = co(0, j) / sqrt(n_0 · n_j): items 0..3 taken by 3, 2, 2, 1 users
    x = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 1, 0], [1, 0, 1, 1], [0, 0, 0, 0.0]], dtype=np.float32))
    model = MostPopular().fit(Interactions(x))
    with TestClient(create_app(model)) as c:
        body = c.get("/items/0/similar", params={"k": 3}).json()
    assert body["method"] == "cooccurrence-cosine" and body["items"] == ["1", "2", "3"]
    np.testing.assert_allclose(body["scores"], [2 / np.sqrt(6), 2 / np.sqrt(6), 1 / np.sqrt(3)], rtol=1e-6)


def test_similar_items_errors(client):
    r = client.get("/items/nope/similar")
    assert r.status_code == 404 and r.json()["error"] == "unknown_item"
    r = client.get("/items/3/similar", params={"k": 60})
    assert r.status_code == 422 and "59" in r.json()["message"]
    for k in ("0", "-1", "x"):
        assert client.get("/items/3/similar", params={"k": k}).status_code == 422


def test_body_size_limit_is_413(ease):
    with TestClient(create_app(ease, settings=ServeSettings(max_body_bytes=200))) as c:
        r = c.post("/recommend", json={"items": [str(i) for i in range(50)]})
        assert r.status_code == 413 and r.json()["error"] == "too_large"

        def chunks():  # no content-length: the limit holds while streaming
            yield b'{"items": ['
            for i in range(100):
                yield f'"{i}",'.encode()
            yield b'"0"]}'

        r = c.post("/recommend", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert c.post("/recommend", json={"items": ["1"], "k": 2}).status_code == 200


def test_unknown_route_and_wrong_method_are_json(client):
    r = client.get("/nothing-here")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = client.get("/recommend")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


def test_health_is_503_until_the_model_is_loaded(artifacts, tmp_path, monkeypatch):
    store = ModelStore(tmp_path / "store")
    store.publish(artifacts["ease"], "ease")
    gate = threading.Event()
    real = LoadedModel.from_path.__func__

    def slow(cls, *args, **kwargs):
        gate.wait(10)
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(LoadedModel, "from_path", classmethod(slow))
    with TestClient(create_app(store.root, settings=ServeSettings(poll_interval=0))) as c:
        r = c.get("/health")
        assert r.status_code == 503 and r.json()["status"] == "loading"
        r = c.post("/recommend", json={"user_id": "0"})
        assert r.status_code == 503 and r.json()["error"] == "not_ready" and r.headers["retry-after"] == "1"
        assert c.get("/model").status_code == 503
        gate.set()
        assert wait_ready(c)["version"] == "0001"


def test_openapi_schema_is_published_with_the_limits(client):
    spec = client.get("/openapi.json").json()
    assert {"/health", "/model", "/recommend", "/recommend/batch", "/items/{item_id}/similar",
            "/admin/reload"} <= set(spec["paths"])
    req = spec["components"]["schemas"]["RecommendRequest"]["properties"]
    assert req["items"]["anyOf"][0]["maxItems"] == MAX_IDS and req["k"]["minimum"] == 1
    assert "404" in spec["paths"]["/recommend"]["post"]["responses"]


def test_recgen_imports_without_fastapi():
    code = ("import sys; sys.modules['fastapi'] = None; sys.modules['uvicorn'] = None\n"
            "import recgen, recgen.serving, recgen.cli.serve\n"
            "from recgen.serving import ModelStore\n"
            "try:\n    recgen.serving.create_app\nexcept ImportError as e:\n    print(json.dumps(str(e)))\n")
    out = subprocess.run([sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "recgen[serve]" in json.loads(out.stdout)


def test_an_autoencoder_is_served_by_fold_in_and_its_item_embeddings(data_blocks):
    from recgen.models.multvae import MultVAE

    vae = MultVAE(hidden_dims=(16,), latent_dim=8, epochs=2, batch_size=40, device="cpu", show_progress=False,
                  seed=0).fit(data_blocks[0])
    with TestClient(create_app(vae)) as c:
        body = c.post("/recommend", json={"items": ["1", "4", "stranger"], "k": 5, "unknown_items": "ignore"}).json()
        assert body["source"] == "history" and body["ignored_items"] == ["stranger"]
        assert body["items"] == expected_top(vae, [1, 4], 5)
        sim = c.get("/items/4/similar", params={"k": 3}).json()
    emb = vae.item_embeddings().astype(np.float64)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    cos = emb @ emb[4]
    want = sorted((i for i in range(60) if i != 4), key=lambda i: (-cos[i], i))[:3]
    assert sim["method"] == "embedding-cosine" and sim["items"] == [str(i) for i in want]
    np.testing.assert_allclose(sim["scores"], cos[want], rtol=1e-5)
