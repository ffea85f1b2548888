"""`recgen serve` end to end: a real uvicorn process on loopback, called over HTTP."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx
import serving_helpers
from serving_helpers import expected_top, user_items

# shared fixtures (assigned, not imported, so pytest finds them and ruff sees no shadowed import)
artifacts = serving_helpers.artifacts
data_blocks = serving_helpers.data_blocks
ease = serving_helpers.ease
popular = serving_helpers.popular



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_recgen_serve_answers_over_http_and_stops_cleanly(artifacts, ease):
    port = _free_port()
    cmd = [sys.executable, "-m", "recgen.cli.main", "serve", str(artifacts["ease"]), "--port", str(port),
           "--poll", "0", "--threads", "1", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"{url}/health", timeout=1)
                if health.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        assert health is not None and health.json()["status"] == "ready", proc.stderr.read() if proc.poll() else ""
        assert health.json()["model"] == "ease"
        r = httpx.post(f"{url}/recommend", json={"user_id": "2", "k": 4})
        assert r.status_code == 200 and r.json()["items"] == expected_top(ease, user_items(ease, "2"), 4)
        r = httpx.post(f"{url}/recommend", json={"user_id": "nobody"})
        assert r.status_code == 404 and r.headers["content-type"] == "application/json"
        assert httpx.get(f"{url}/model").json()["data_fingerprint"] == "fp-ease"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def test_recgen_serve_refuses_a_path_that_is_no_model(tmp_path):
    from click.testing import CliRunner

    from recgen.cli.main import cli

    r = CliRunner().invoke(cli, ["serve", str(tmp_path / "nothing")])
    assert r.exit_code == 2 and "neither a saved model directory nor a model store" in r.output
    r = CliRunner().invoke(cli, ["serve", str(tmp_path)])  # an empty directory: a store without models
    assert r.exit_code == 2 and "holds no models" in r.output


def test_recgen_serve_beyond_loopback_needs_a_token_or_no_admin(tmp_path, artifacts, monkeypatch):
    from click.testing import CliRunner

    from recgen.cli.main import cli

    monkeypatch.delenv("RECGEN_ADMIN_TOKEN", raising=False)
    r = CliRunner().invoke(cli, ["serve", str(artifacts["ease"]), "--host", "0.0.0.0"])
    assert r.exit_code == 2 and "RECGEN_ADMIN_TOKEN" in r.output and "--no-admin" in r.output
