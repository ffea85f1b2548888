"""Which model the service answers with, and hot reload from a model store.

A :class:`ModelHolder` owns one reference to the current :class:`LoadedModel`. A background thread
polls the store's ``CURRENT`` file; when it names another version, that version is loaded completely
(and warmed up) *beside* the old one, then the reference is swapped in one assignment. Requests take
the reference once when admitted, so those in flight finish on the old model; the old model is freed
when the last of them is done. A version that fails to load is reported and the old one keeps serving.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from recgen.errors import ArtifactError
from recgen.serving.engine import LoadedModel
from recgen.serving.store import ModelStore, check_artifact, is_artifact

log = logging.getLogger(__name__)


class ModelHolder:
    """The current model of a service: from a fitted model, an artifact directory, or a store entry."""

    def __init__(self, source: Any, *, name: str | None = None, poll_interval: float = 2.0) -> None:
        self.store: ModelStore | None = None
        self.artifact: Path | None = None
        self._model: Any = None
        if hasattr(source, "score") and hasattr(source, "items_"):  # a fitted Recommender, served as is
            self._model = source
            self.name = name or source.name
        else:
            p = Path(os.fspath(source))
            if is_artifact(p):
                self.artifact = check_artifact(p)
                self.name = name or p.resolve().name
            elif p.is_dir():
                self.store = ModelStore(p)
                self.name = name or self.store.default_name()
                self.store.versions(self.name)  # raises now, naming the models there, when absent
            else:
                raise ArtifactError(f"source={str(p)!r} is neither a saved model directory nor a model store; pass "
                                    "the --out directory of `recgen train` or a store made by `recgen publish`.")
        self.poll_interval = float(poll_interval)
        self.current: LoadedModel | None = None
        self.last_error: str | None = None
        self.reloads = 0
        self._lock = threading.Lock()  # one load at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def can_reload(self) -> bool:
        return self.store is not None

    def wanted_version(self) -> str:
        """The version that should be served now (the store's CURRENT; "1" for a fixed artifact)."""
        if self.store is not None:
            return self.store.current(self.name)
        return "1"

    def reload(self) -> bool:
        """Load the wanted version when it differs from the served one; True when a swap happened."""
        with self._lock:
            try:
                version = self.wanted_version()
                if self.current is not None and self.current.version == version:
                    return False
                t0 = time.perf_counter()
                if self._model is not None:
                    loaded = LoadedModel.from_model(self._model, name=self.name, version=version)
                else:
                    path = self.store.path(self.name, version) if self.store is not None else self.artifact
                    loaded = LoadedModel.from_path(Path(str(path)), name=self.name, version=version)
            except Exception as exc:  # noqa: BLE001 - a broken version must not take the service down
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.error("loading %s failed, still serving %s: %s", self.name,
                          self.current.version if self.current else "nothing", self.last_error)
                return False
            old = self.current
            self.current = loaded  # the swap: one reference assignment
            self.last_error = None
            self.reloads += old is not None
            log.info("serving %s version %s (loaded in %.2fs%s)", self.name, version, time.perf_counter() - t0,
                     f", replacing {old.version}" if old else "")
            return True

    # ------------------------------------------------------------------ background thread
    def start(self) -> None:
        """Load the first model and keep polling the store, both in a background thread.

        A model given in memory is wrapped at once instead (there is nothing to load or poll).
        """
        if self._thread is not None:
            return
        if self._model is not None:  # in memory: nothing to read, ready at once
            self.reload()
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="recgen-model-loader", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        self.reload()
        while self.can_reload and self.poll_interval > 0 and not self._stop.wait(self.poll_interval):
            self.reload()

    def wait_ready(self, timeout: float = 30.0) -> bool:
        """Block until a model is loaded (or ``timeout`` seconds pass); True when ready."""
        deadline = time.monotonic() + timeout
        while self.current is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.current is not None
