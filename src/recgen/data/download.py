"""Download MovieLens releases from GroupLens, verify them and cache them unzipped.

The archive's MD5 is checked against the ``<name>.zip.md5`` file the publisher serves beside it, the
archive is unzipped into a temporary directory and renamed into the cache in one step, and the parsed
ratings are checked against the published counts. Nothing half-done is ever left in the cache.

Cache: ``$RECGEN_HOME`` or ``~/.cache/recgen``, in ``<cache>/movielens/<name>/``. Base URL: the ``base_url``
argument, else ``$RECGEN_MOVIELENS_URL``, else ``https://files.grouplens.org/datasets/movielens/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from recgen.errors import DataFormatError, DownloadError, suggest

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://files.grouplens.org/datasets/movielens/"
# published (ratings, users, items); None = only check that it parses (latest-small changes over time)
EXPECTED_COUNTS: dict[str, tuple[int, int, int] | None] = {
    "ml-100k": (100_000, 943, 1_682),
    "ml-1m": (1_000_209, 6_040, 3_706),
    "ml-10m": (10_000_054, 69_878, 10_677),
    "ml-20m": (20_000_263, 138_493, 26_744),
    "ml-25m": (25_000_095, 162_541, 59_047),
    "ml-latest-small": None,
}
TIMEOUT_S = 60.0
_MD5_RE = re.compile(r"\b([0-9a-fA-F]{32})\b")


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``cache_dir``, else ``$RECGEN_HOME``, else ``~/.cache/recgen``."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("RECGEN_HOME")
    return Path(env) if env else Path.home() / ".cache" / "recgen"


def _check_name(name: str) -> None:
    if name not in EXPECTED_COUNTS:
        raise DownloadError(f"name={name!r} is not a known MovieLens release; choose one of "
                            f"{list(EXPECTED_COUNTS)}.{suggest(name, EXPECTED_COUNTS)}")


def _fetch(url: str, dest: Path | None, *, show_progress: bool, what: str) -> bytes | None:
    """GET ``url`` into ``dest`` (streamed, with a progress bar) or into memory when ``dest`` is None."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
            if dest is None:
                return resp.read()
            total = int(resp.headers.get("Content-Length") or 0) or None
            with open(dest, "wb") as fh:
                if show_progress:
                    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

                    with Progress(*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn(),
                                  transient=True) as bar:
                        task = bar.add_task(f"downloading {what}", total=total)
                        while block := resp.read(1 << 20):
                            fh.write(block)
                            bar.advance(task, len(block))
                else:
                    shutil.copyfileobj(resp, fh, 1 << 20)
            return None
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"GET {url} failed with HTTP {exc.code} ({exc.reason}); check the name and base_url "
                            "(or $RECGEN_MOVIELENS_URL), or download the zip by hand and unzip it into the cache.") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DownloadError(f"GET {url} failed ({exc}); check the network connection or proxy, or set "
                            "$RECGEN_MOVIELENS_URL to a mirror, then retry.") from exc


def parse_md5(text: str, name: str) -> str:
    """The hex digest from ``MD5 (x.zip) = hex`` or ``hex  x.zip``."""
    m = _MD5_RE.search(text)
    if m is None:
        raise DownloadError(f"the checksum file for {name} holds no MD5 digest ({text[:80]!r}); "
                            "the publisher's file changed or the mirror is broken.")
    return m.group(1).lower()


def _md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def verify_counts(name: str, directory: Path) -> tuple[int, int, int]:
    """Parse the release's ratings and compare with the published (ratings, users, items)."""
    from recgen.data.movielens import read_movielens

    try:
        df = read_movielens(directory)
    except DataFormatError as exc:
        raise DownloadError(f"{name}: the downloaded ratings do not parse ({exc}); retry with force=True.") from exc
    got = (len(df), int(df["user"].nunique()), int(df["item"].nunique()))
    want = EXPECTED_COUNTS[name]
    if want is not None and got != want:
        raise DownloadError(
            f"{name}: parsed {got[0]} ratings / {got[1]} users / {got[2]} items, but GroupLens publishes "
            f"{want[0]} / {want[1]} / {want[2]}; the archive is not the published release. Retry with force=True."
        )
    return got


def download_movielens(name: str, *, cache_dir: str | os.PathLike[str] | None = None, base_url: str | None = None,
                       show_progress: bool = True, force: bool = False) -> Path:
    """Download, verify and unzip a MovieLens release; return the directory holding its files.

    A cached copy is returned without any network access unless ``force``.
    """
    _check_name(name)
    target = cache_root(cache_dir) / "movielens" / name
    if target.is_dir() and not force:
        return target
    base = base_url or os.environ.get("RECGEN_MOVIELENS_URL") or DEFAULT_BASE_URL
    base = base if base.endswith("/") else base + "/"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=target.parent))
    try:
        md5_text = _fetch(f"{base}{name}.zip.md5", None, show_progress=False, what=f"{name}.zip.md5")
        want = parse_md5((md5_text or b"").decode("ascii", errors="replace"), name)
        archive = tmp / f"{name}.zip"
        _fetch(f"{base}{name}.zip", archive, show_progress=show_progress, what=f"{name}.zip")
        got = _md5(archive)
        if got != want:
            raise DownloadError(f"{name}.zip has MD5 {got} but the publisher lists {want}; the download is corrupt "
                                "or truncated. Retry (force=True) or check base_url.")
        unpacked = tmp / "unpacked"
        try:
            with zipfile.ZipFile(archive) as zf:
                for member in zf.namelist():  # refuse paths escaping the directory
                    if member.startswith("/") or ".." in Path(member).parts:
                        raise DownloadError(f"{name}.zip holds an unsafe path {member!r}; refusing to unzip it.")
                zf.extractall(unpacked)
        except zipfile.BadZipFile as exc:
            raise DownloadError(f"{name}.zip is not a valid zip archive ({exc}); retry with force=True.") from exc
        entries = list(unpacked.iterdir())  # ml-10m unpacks into "ml-10M100K/", the others into "<name>/"
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else unpacked
        verify_counts(name, root)
        if target.exists():
            shutil.rmtree(target)
        os.replace(root, target)
        logger.info("MovieLens %s ready in %s", name, target)
        return target
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)


def movielens_path(name: str, download: bool = True, *, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cached directory of a MovieLens release, downloading it first when ``download`` is true."""
    _check_name(name)
    target = cache_root(cache_dir) / "movielens" / name
    if target.is_dir():
        return target
    if not download:
        raise DownloadError(f"{name} is not in the cache ({target}); call download_movielens({name!r}) or pass "
                            "download=True.")
    return download_movielens(name, cache_dir=cache_dir)
