"""Hot reload: a new version is swapped in under load without errors, in-flight requests finish on
the old model, and a rollback swaps the old version back."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import httpx
import pytest
import serving_helpers
import uvicorn
from fastapi.testclient import TestClient
from serving_helpers import expected_top, user_items, wait_ready

from recgen.errors import ConfigError
from recgen.serving import ModelStore, ServeSettings, create_app

# shared fixtures (assigned, not imported, so pytest finds them and ruff sees no shadowed import)
artifacts = serving_helpers.artifacts
data_blocks = serving_helpers.data_blocks
ease = serving_helpers.ease
popular = serving_helpers.popular

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

REQUESTS = [{"user_id": "0", "k": 5}, {"items": ["1", "4"], "k": 5}, {"user_id": "8", "k": 3},
            {"items": ["2"], "k": 4, "exclude": ["5"]}]


def _expected(model, req):
    seen = user_items(model, req["user_id"]) if "user_id" in req else [int(i) for i in req["items"]]
    return expected_top(model, seen, req["k"], extra_exclude=[int(i) for i in req.get("exclude", [])])


def test_in_flight_request_finishes_on_the_old_model(tmp_path, artifacts, ease, popular):
    store = ModelStore(tmp_path)
    store.publish(artifacts["ease"], "m")
    app = create_app(tmp_path, name="m", settings=ServeSettings(poll_interval=0, workers=2))
    with TestClient(app) as c:
        wait_ready(c)
        old = app.state.holder.current
        gate, entered = threading.Event(), threading.Event()
        real_score = old.model.score

        def held_score(rows, user_rows=None):
            entered.set()
            gate.wait(10)
            return real_score(rows, user_rows=user_rows)

        old.model.score = held_score  # only this loaded instance waits
        out: dict = {}
        t = threading.Thread(target=lambda: out.update(r=c.post("/recommend", json=REQUESTS[0])))
        t.start()
        assert entered.wait(10)  # request A is being scored by version 0001
        store.publish(artifacts["pop"], "m")
        r = c.post("/admin/reload")
        assert r.json() == {"changed": True, "version": "0002", "last_error": None}
        b = c.post("/recommend", json=REQUESTS[0]).json()  # request B is answered by the new model at once
        assert b["version"] == "0002" and b["items"] == _expected(popular, REQUESTS[0])
        gate.set()
        t.join(10)
        a = out["r"]
        assert a.status_code == 200 and a.json()["version"] == "0001"
        assert a.json()["items"] == _expected(ease, REQUESTS[0])
        assert c.post("/admin/reload").json()["changed"] is False
        store.rollback("m")
        assert c.post("/admin/reload").json()["version"] == "0001"
        assert c.get("/health").json()["reloads"] == 2


def test_broken_version_keeps_the_old_one_serving(tmp_path, artifacts):
    store = ModelStore(tmp_path)
    store.publish(artifacts["ease"], "m")
    with TestClient(create_app(tmp_path, settings=ServeSettings(poll_interval=0))) as c:
        wait_ready(c)
        v2 = store.path("m", store.publish(artifacts["pop"], "m"))
        (v2 / "weights.safetensors").write_bytes(b"not safetensors")
        r = c.post("/admin/reload").json()
        assert r["changed"] is False and r["version"] == "0001" and r["last_error"]
        health = c.get("/health").json()
        assert health["status"] == "ready" and health["version"] == "0001" and health["last_error"]
        assert c.post("/recommend", json=REQUESTS[1]).status_code == 200


@contextlib.contextmanager
def _serve(app):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_reload_and_rollback_under_concurrent_load_over_http(tmp_path, artifacts, ease, popular):
    store = ModelStore(tmp_path)
    store.publish(artifacts["ease"], "m")
    want = {"0001": [_expected(ease, q) for q in REQUESTS], "0002": [_expected(popular, q) for q in REQUESTS]}
    app = create_app(tmp_path, name="m", settings=ServeSettings(poll_interval=0.05))
    with _serve(app) as url:
        with httpx.Client(base_url=url) as probe:
            wait_ready(probe)
        stop = threading.Event()
        records: list[tuple[int, int, str, list[str]]] = []
        errors: list[BaseException] = []

        def client(seed: int) -> None:
            with httpx.Client(base_url=url, timeout=10) as c:
                i = seed
                while not stop.is_set():
                    q = i % len(REQUESTS)
                    try:
                        r = c.post("/recommend", json=REQUESTS[q])
                    except httpx.HTTPError as exc:  # a dropped request
                        errors.append(exc)
                        continue
                    body = r.json()
                    records.append((r.status_code, q, body.get("version"), body.get("items")))
                    i += 1

        threads = [threading.Thread(target=client, args=(s,)) for s in range(6)]
        for t in threads:
            t.start()

        def wait_for(cond) -> None:  # phases are counted in answered requests, not seconds (the box is shared)
            deadline = time.monotonic() + 30
            while not cond() and time.monotonic() < deadline:
                time.sleep(0.005)

        def more_answers(n: int) -> None:
            start = len(records)
            wait_for(lambda: len(records) >= start + n)

        more_answers(20)
        store.publish(artifacts["pop"], "m")  # the service notices CURRENT within 50 ms, under load
        wait_for(lambda: app.state.holder.current.version == "0002")
        more_answers(20)
        store.rollback("m")
        wait_for(lambda: app.state.holder.current.version == "0001")
        more_answers(20)
        stop.set()
        for t in threads:
            t.join(10)
    assert not errors
    assert len(records) >= 60
    assert {s for s, *_ in records} == {200}
    assert {v for _, _, v, _ in records} == {"0001", "0002"}
    # every answer is entirely the answer of the version that reports it
    assert all(items == want[v][q] for _, q, v, items in records)
    assert app.state.holder.reloads == 2


def test_admin_token_guards_reload(tmp_path, artifacts):
    store = ModelStore(tmp_path)
    store.publish(artifacts["ease"], "m")
    token = "s3cret-token-of-32-characters-xx"
    with TestClient(create_app(tmp_path, settings=ServeSettings(poll_interval=0, admin_token=token))) as c:
        wait_ready(c)
        store.publish(artifacts["pop"], "m")
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token},
                        {"Authorization": f"Basic {token}"}):
            r = c.post("/admin/reload", headers=headers)
            assert r.status_code == 401 and r.json()["error"] == "unauthorized", headers
            assert r.headers["www-authenticate"] == "Bearer"
        assert c.get("/health").json()["version"] == "0001"  # nothing was reloaded by the refused calls
        r = c.post("/admin/reload", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["version"] == "0002"
        assert c.post("/recommend", json=REQUESTS[1]).status_code == 200  # other endpoints need no token


def test_short_admin_token_is_refused():
    with pytest.raises(ConfigError, match="admin_token is shorter than 16"):
        ServeSettings(admin_token="short").validate()
