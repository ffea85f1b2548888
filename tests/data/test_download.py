"""Downloader against a local HTTP server on 127.0.0.1 (never the network): checksum, counts, cache, atomicity."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest

from recgen.data import download as dl
from recgen.errors import DownloadError

U_DATA = "1\t10\t5\t881250949\n1\t20\t3\t881250950\n2\t10\t4\t881250951\n"  # 3 ratings, 2 users, 2 items


def make_zip(u_data: str = U_DATA) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ml-100k/u.data", u_data)
        zf.writestr("ml-100k/README", "tiny fake MovieLens 100K for tests\n")
    return buf.getvalue()


class Server:
    """Serves ``files`` (name → bytes) and counts requests."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                outer.requests.append(self.path)
                body = outer.files.get(self.path.rsplit("/", 1)[-1])
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/ml/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch):
    s = Server()
    monkeypatch.setitem(dl.EXPECTED_COUNTS, "ml-100k", (3, 2, 2))
    monkeypatch.setenv("RECGEN_MOVIELENS_URL", s.url)
    yield s
    s.close()


def publish(server: Server, archive: bytes, md5_line: str | None = None) -> None:
    digest = hashlib.md5(archive).hexdigest()
    server.files["ml-100k.zip"] = archive
    server.files["ml-100k.zip.md5"] = (md5_line or f"MD5 (ml-100k.zip) = {digest}\n").encode()


def leftovers(cache: Path) -> list[str]:
    root = cache / "movielens"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_success_then_cached_without_http(server, tmp_path):
    publish(server, make_zip())
    path = dl.download_movielens("ml-100k", cache_dir=tmp_path, show_progress=True)
    assert path == tmp_path / "movielens" / "ml-100k"
    assert (path / "u.data").read_text() == U_DATA and (path / "README").is_file()
    assert leftovers(tmp_path) == ["ml-100k"]  # no temp directory left beside it
    assert server.requests == ["/ml/ml-100k.zip.md5", "/ml/ml-100k.zip"]
    assert dl.download_movielens("ml-100k", cache_dir=tmp_path) == path
    assert dl.movielens_path("ml-100k", cache_dir=tmp_path) == path
    assert len(server.requests) == 2  # the cached calls made no request


def test_md5sum_format_and_env_cache(server, tmp_path, monkeypatch):
    archive = make_zip()
    publish(server, archive, f"{hashlib.md5(archive).hexdigest()}  ml-100k.zip\n")
    monkeypatch.setenv("RECGEN_HOME", str(tmp_path / "home"))
    path = dl.download_movielens("ml-100k", show_progress=False)
    assert path == tmp_path / "home" / "movielens" / "ml-100k"


def test_bad_checksum_leaves_nothing(server, tmp_path):
    publish(server, make_zip(), "MD5 (ml-100k.zip) = " + "0" * 32 + "\n")
    with pytest.raises(DownloadError, match=r"MD5 [0-9a-f]{32} but the publisher lists 0{32}"):
        dl.download_movielens("ml-100k", cache_dir=tmp_path, show_progress=False)
    assert leftovers(tmp_path) == []


def test_missing_md5(server, tmp_path):
    server.files["ml-100k.zip"] = make_zip()
    with pytest.raises(DownloadError, match=r"ml-100k.zip.md5 failed with HTTP 404"):
        dl.download_movielens("ml-100k", cache_dir=tmp_path, show_progress=False)
    assert leftovers(tmp_path) == []


def test_count_mismatch(server, tmp_path):
    publish(server, make_zip(U_DATA + "3\t30\t1\t881250952\n"))
    with pytest.raises(DownloadError, match=r"parsed 4 ratings / 3 users / 3 items, but GroupLens publishes 3 / 2 / 2"):
        dl.download_movielens("ml-100k", cache_dir=tmp_path, show_progress=False)
    assert leftovers(tmp_path) == []


def test_unknown_name_and_no_download(tmp_path):
    with pytest.raises(DownloadError, match="Did you mean 'ml-10m'"):
        dl.download_movielens("ml-10", cache_dir=tmp_path)
    with pytest.raises(DownloadError, match="not in the cache"):
        dl.movielens_path("ml-1m", download=False, cache_dir=tmp_path)


def test_parse_md5_formats():
    h = "0123456789abcdef0123456789ABCDEF"
    assert dl.parse_md5(f"MD5 (ml-1m.zip) = {h}", "ml-1m") == h.lower()
    assert dl.parse_md5(f"{h}  ml-1m.zip\n", "ml-1m") == h.lower()
    with pytest.raises(DownloadError, match="no MD5 digest"):
        dl.parse_md5("<html>not found</html>", "ml-1m")
