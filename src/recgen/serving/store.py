"""A model store: a directory of named models, each with numbered versions and an active one.

Layout::

    STORE/NAME/versions/0001/      a saved model directory (config.json, weights.safetensors, ...)
    STORE/NAME/versions/0002/
    STORE/NAME/CURRENT             one line naming the active version ("0002")
    STORE/NAME/HISTORY             one line per activation: "<unix time> <version> <publish|rollback|activate>"

Every change is atomic: a version is copied into a hidden temporary directory and renamed into
``versions/`` in one step, and ``CURRENT`` is replaced with :func:`os.replace`, so a reader (the
service polling ``CURRENT``) always sees a complete version. Nothing here imports FastAPI.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from recgen._io import atomic_file, read_json
from recgen.errors import ArtifactError, ConfigError, suggest

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_VERSION = re.compile(r"^[0-9]{4,}$")
_ARTIFACT_FILES = ("config.json", "vocab.json", "weights.safetensors")


def is_artifact(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` looks like a saved model directory (it has config.json, vocab.json, weights)."""
    p = Path(path)
    return all((p / f).is_file() for f in _ARTIFACT_FILES)


def check_artifact(path: str | os.PathLike[str]) -> Path:
    """Raise :class:`ArtifactError` unless ``path`` is a complete saved model directory."""
    p = Path(path)
    if not p.is_dir():
        raise ArtifactError(f"artifact {str(p)!r} is not a directory; pass the --out directory of `recgen train`.")
    missing = [f for f in _ARTIFACT_FILES if not (p / f).is_file()]
    if missing:
        raise ArtifactError(f"artifact {str(p)!r} lacks {', '.join(missing)}; it is not a complete saved model "
                            "(save it with model.save(dir) or `recgen train --out`).")
    cfg = read_json(p / "config.json")
    if not isinstance(cfg, dict) or "model" not in cfg:
        raise ArtifactError(f"artifact {str(p)!r}: config.json has no 'model' field; re-save the model.")
    return p


class ModelStore:
    """Named, versioned models under one directory (see the module docstring for the layout)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ModelStore({str(self.root)!r})"

    # ------------------------------------------------------------------ reading
    def names(self) -> list[str]:
        """Names of the models in the store (those with a ``versions/`` folder), sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "versions").is_dir() and _NAME.match(p.name))

    def _dir(self, name: str) -> Path:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(f"name={name!r} is not a valid model name; use letters, digits, '.', '_' or '-' "
                              "(at most 64 characters, not starting with a dot).")
        return self.root / name

    def _existing(self, name: str) -> Path:
        d = self._dir(name)
        if not (d / "versions").is_dir():
            names = self.names()
            raise ArtifactError(
                f"name={name!r} is not in the store {str(self.root)!r}.{suggest(name, names)} "
                f"Models there: {', '.join(names) or 'none'}; publish one with `recgen publish ARTIFACT --store "
                f"{self.root} --name {name}`."
            )
        return d

    def versions(self, name: str) -> list[str]:
        """Version labels of ``name`` in increasing order (``["0001", "0002", ...]``)."""
        d = self._existing(name) / "versions"
        return sorted((p.name for p in d.iterdir() if p.is_dir() and _VERSION.match(p.name)), key=int)

    def current(self, name: str) -> str:
        """The active version of ``name`` (read from ``CURRENT``)."""
        d = self._existing(name)
        try:
            version = (d / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise ArtifactError(f"{str(d)!r} has no CURRENT file; activate a version with "
                                f"`recgen store activate --store {self.root} --name {name} VERSION`.") from None
        if not _VERSION.match(version) or not (d / "versions" / version).is_dir():
            raise ArtifactError(f"{str(d / 'CURRENT')!r} names version {version!r}, which does not exist; "
                                f"roll back or activate one of {self.versions(name)}.")
        return version

    def path(self, name: str, version: str | None = None) -> Path:
        """Directory of ``version`` of ``name`` (the active one by default)."""
        version = self.current(name) if version is None else self._check_version(name, version)
        return self._existing(name) / "versions" / version

    def default_name(self) -> str:
        """The only model name in the store; raises when there are none or several."""
        names = self.names()
        if not names:
            raise ConfigError(f"store {str(self.root)!r} holds no models; publish one with `recgen publish ARTIFACT "
                              f"--store {self.root} --name NAME`.")
        if len(names) > 1:
            raise ConfigError(f"store {str(self.root)!r} holds {len(names)} models ({', '.join(names)}); "
                              "pass --name to choose one.")
        return names[0]

    def _check_version(self, name: str, version: str | int) -> str:
        label = f"{int(version):04d}" if str(version).isdigit() else str(version)
        versions = self.versions(name)
        if label not in versions:
            raise ArtifactError(f"version={version!r} of {name!r} does not exist; versions: {', '.join(versions)}.")
        return label

    # ------------------------------------------------------------------ writing
    def publish(self, artifact: str | os.PathLike[str], name: str, *, activate: bool = True) -> str:
        """Copy a saved model directory in as the next version of ``name``; activate it unless told not to.

        The copy is made in a hidden temporary directory inside the store and renamed into place, so a
        half-copied version is never visible. Returns the new version label.
        """
        src = check_artifact(artifact)
        d = self._dir(name)
        (d / "versions").mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".publish.", suffix=".tmp", dir=d))
        try:
            staged = tmp / "artifact"
            shutil.copytree(src, staged)
            for f in staged.iterdir():  # data on disk before the rename makes it visible
                if f.is_file():
                    with open(f, "rb") as fh:
                        os.fsync(fh.fileno())
            while True:  # another publisher may take a number between our listing and our rename
                existing = [int(v) for v in self.versions(name)]
                version = f"{(max(existing) + 1) if existing else 1:04d}"
                try:
                    os.rename(staged, d / "versions" / version)  # fails when the (non-empty) target exists
                    break
                except OSError:
                    if not (d / "versions" / version).exists():
                        raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("published %s as %s version %s", src, name, version)
        if activate:
            self._set_current(name, version, "publish")
        return version

    def activate(self, name: str, version: str | int) -> str:
        """Make ``version`` the active one of ``name``."""
        label = self._check_version(name, version)
        self._set_current(name, label, "activate")
        return label

    def rollback(self, name: str, to: str | int | None = None) -> str:
        """Activate the version before the active one (or ``to``); returns the version now active."""
        if to is not None:
            label = self._check_version(name, to)
        else:
            cur = int(self.current(name))
            older = [v for v in self.versions(name) if int(v) < cur]
            if not older:
                raise ArtifactError(f"{name!r} is at its oldest version {cur:04d}; there is nothing to roll back to.")
            label = older[-1]
        self._set_current(name, label, "rollback")
        return label

    def _set_current(self, name: str, version: str, why: str) -> None:
        d = self._existing(name)
        with atomic_file(d / "CURRENT", "w", encoding="utf-8") as fh:
            fh.write(version + "\n")
        with open(d / "HISTORY", "a", encoding="utf-8") as fh:
            fh.write(f"{time.time():.3f} {version} {why}\n")
        log.info("%s: active version is now %s (%s)", name, version, why)
