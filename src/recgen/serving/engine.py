"""Batched, thread-bounded inference over loaded models.

Requests are queued as :class:`Task` objects; a fixed number of worker threads (one by default)
drain the queue, stack every queued history row of the same model into one CSR matrix, call
``model.score`` once for the stack and cut the per-request top-k from it. The HTTP event loop never
scores, and the number of threads that do is fixed, so a burst of requests cannot oversubscribe the
CPU cores: it makes the batches larger instead. (The CLI also pins torch's intra-op threads; see
``recgen serve --threads``.)

A task holds a reference to the :class:`LoadedModel` it was admitted with, so a request that was in
flight when a new version was swapped in finishes on the old model.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from recgen._io import read_json
from recgen.serving.similar import ItemSimilarity, top_k

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    """A model ready to serve, with what the endpoints need precomputed."""

    model: Any
    name: str
    version: str
    info: dict[str, Any]
    metrics: dict[str, Any]
    popularity: np.ndarray
    loaded_at: float = field(default_factory=time.time)
    _similarity: ItemSimilarity | None = None
    _sim_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_model(cls, model: Any, *, name: str, version: str, info: dict[str, Any] | None = None,
                   metrics: dict[str, Any] | None = None) -> LoadedModel:
        """Wrap a fitted :class:`~recgen.models.Recommender` (no disk access)."""
        train = sp.csr_matrix(model.train_)
        pop = np.bincount(train.indices, minlength=len(model.items_)).astype(np.float32)
        if info is None:
            import recgen
            from recgen.models.config import config_to_dict

            info = {"model": model.name, "config": config_to_dict(model.config), "recgen_version": recgen.__version__}
        return cls(model=model, name=name, version=version, info=info, metrics=metrics or {}, popularity=pop)

    @classmethod
    def from_path(cls, path: str | Path, *, name: str, version: str, warm_up: bool = True) -> LoadedModel:
        """Load a saved model directory (safetensors and JSON only: never unpickles)."""
        from recgen.models.base import load_model

        p = Path(path)
        model = load_model(p)
        info = read_json(p / "config.json")
        metrics = read_json(p / "metrics.json") if (p / "metrics.json").is_file() else {}
        loaded = cls.from_model(model, name=name, version=version, info=info, metrics=metrics)
        if warm_up:  # first-call costs (lazy allocations, torch kernels) paid here, not by a request
            model.score(sp.csr_matrix((1, len(model.items_)), dtype=np.float32))
        return loaded

    @property
    def n_items(self) -> int:
        return len(self.model.items_)

    def __post_init__(self) -> None:
        # raw id -> index dicts: one lookup costs ~0.1 µs instead of ~200 µs through pandas per call
        self.item_index: dict[str, int] = {k: i for i, k in enumerate(self.model.items_.ids)}
        self.user_index: dict[str, int] = {k: i for i, k in enumerate(self.model.users_.ids)}
        self.item_ids: list[str] = self.model.items_.ids.tolist()
        train = sp.csr_matrix(self.model.train_)
        self._indptr, self._indices, self._data = train.indptr, train.indices, train.data

    def user_history(self, user: int) -> tuple[np.ndarray, np.ndarray]:
        """Item indices and values of training user ``user`` (views, no copy)."""
        a, b = self._indptr[user], self._indptr[user + 1]
        return self._indices[a:b], self._data[a:b]

    def similarity(self) -> ItemSimilarity:
        """The item-similarity state, built on first use (under a lock, once per model)."""
        with self._sim_lock:
            if self._similarity is None:
                self._similarity = ItemSimilarity(self.model)
            return self._similarity


@dataclass
class Job:
    """One top-k question: a history row, what to leave out and which items may be returned."""

    items: np.ndarray  # item indices of the history (int32, sorted, unique)
    values: np.ndarray  # their interaction values (float32)
    user_row: int = -1  # training row of a known user, else -1
    k: int = 10
    exclude: np.ndarray | None = None  # item indices never returned
    candidates: np.ndarray | None = None  # only these item indices may be returned
    popularity: bool = False  # answer from item popularity (empty history) instead of the model


@dataclass
class Task:
    """A unit of queued work: recommendation jobs, or one similar-items query (``similar_item >= 0``)."""

    served: LoadedModel
    jobs: list[Job]
    future: concurrent.futures.Future[Any]
    similar_item: int = -1
    similar_k: int = 0


class EngineOverloaded(RuntimeError):
    """The queue is full; the caller should answer 503 and ask the client to retry."""


class InferenceEngine:
    """A bounded queue drained by ``workers`` threads that score queued requests in batches.

    ``max_batch`` bounds the rows scored at once (memory: max_batch × n_items float32), ``max_queue``
    the tasks waiting (beyond it :meth:`submit` raises :class:`EngineOverloaded`).
    """

    def __init__(self, *, workers: int = 1, max_batch: int = 64, max_queue: int = 4096) -> None:
        if workers < 1 or max_batch < 1 or max_queue < 1:
            raise ValueError(f"workers={workers}, max_batch={max_batch}, max_queue={max_queue} must be >= 1")
        self.workers = workers
        self.max_batch = max_batch
        self._queue: queue.Queue[Task | None] = queue.Queue(maxsize=max_queue)
        self._threads: list[threading.Thread] = []
        self.batches = 0  # statistics, read by /health
        self.rows_scored = 0

    def start(self) -> None:
        if self._threads:
            return
        for i in range(self.workers):
            t = threading.Thread(target=self._run, name=f"recgen-infer-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish queued work, then stop the workers."""
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout)
        self._threads = []

    def submit(self, served: LoadedModel, jobs: list[Job]) -> concurrent.futures.Future[Any]:
        """Queue ``jobs``; the future resolves to one ``(item_indices, scores)`` pair per job."""
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._put(Task(served, jobs, fut))
        return fut

    def submit_similar(self, served: LoadedModel, item: int, k: int) -> concurrent.futures.Future[Any]:
        """Queue a similar-items query; the future resolves to ``(item_indices, scores, method)``."""
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._put(Task(served, [], fut, similar_item=item, similar_k=k))
        return fut

    def _put(self, task: Task) -> None:
        if not self._threads:
            raise RuntimeError("the inference engine is not started")
        try:
            self._queue.put_nowait(task)
        except queue.Full:
            raise EngineOverloaded(f"{self._queue.maxsize} requests are queued") from None

    # ------------------------------------------------------------------ workers
    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            tasks, rows, stop = [first], len(first.jobs), False
            while rows < self.max_batch:  # drain what queued up while we were busy: that is the batch
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                tasks.append(nxt)
                rows += len(nxt.jobs)
            self._process(tasks)
            if stop:
                return

    def _process(self, tasks: list[Task]) -> None:
        groups: dict[int, list[Task]] = {}
        for t in tasks:
            if t.future.set_running_or_notify_cancel():
                if t.similar_item >= 0:
                    self._similar(t)
                else:
                    groups.setdefault(id(t.served), []).append(t)
        for group in groups.values():
            try:
                results = self._score_group(group)
            except Exception as exc:  # noqa: BLE001 - delivered to every waiting request
                log.exception("scoring failed")
                for t in group:
                    t.future.set_exception(exc)
                continue
            for t, res in zip(group, results, strict=True):
                t.future.set_result(res)

    def _similar(self, t: Task) -> None:
        try:
            sim = t.served.similarity()
            idx, vals = top_k(sim.scores(t.similar_item), t.similar_k)
            t.future.set_result((idx, vals, sim.method))
        except Exception as exc:  # noqa: BLE001
            log.exception("similar items failed")
            t.future.set_exception(exc)

    def _score_group(self, group: list[Task]) -> list[list[tuple[np.ndarray, np.ndarray]]]:
        served = group[0].served
        jobs = [j for t in group for j in t.jobs]
        model_jobs = [j for j in jobs if not j.popularity]
        scores: dict[int, np.ndarray] = {}
        for start in range(0, len(model_jobs), self.max_batch):
            chunk = model_jobs[start:start + self.max_batch]
            stacked = _stack(chunk, served.n_items)
            user_rows = np.array([j.user_row for j in chunk], dtype=np.int64)
            out = served.model.score(stacked, user_rows=user_rows)
            self.batches += 1
            self.rows_scored += len(chunk)
            for j, s in zip(chunk, out, strict=True):
                scores[id(j)] = s
        results: list[list[tuple[np.ndarray, np.ndarray]]] = []
        for t in group:
            results.append([_top(scores[id(j)] if not j.popularity else served.popularity, j) for j in t.jobs])
        return results


def _stack(jobs: list[Job], n_items: int) -> sp.csr_matrix:
    """One CSR matrix (len(jobs), n_items) from the jobs' histories, built in one constructor call."""
    indptr = np.zeros(len(jobs) + 1, dtype=np.int64)
    np.cumsum([len(j.items) for j in jobs], out=indptr[1:])
    indices = np.concatenate([j.items for j in jobs]).astype(np.int32, copy=False) if jobs else np.zeros(0, np.int32)
    data = np.concatenate([j.values for j in jobs]).astype(np.float32, copy=False) if jobs else np.zeros(0, np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(jobs), n_items))


def _top(row_scores: np.ndarray, job: Job) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of one score row after exclusions and the candidate filter."""
    if job.candidates is not None:
        cand = job.candidates
        s = np.asarray(row_scores[cand], dtype=np.float32).copy()
        if job.exclude is not None and len(job.exclude):
            s[np.isin(cand, job.exclude)] = -np.inf
        local, vals = top_k(s, job.k)
        # ties broken by item index (not by position in the candidate list)
        order = np.lexsort((cand[local], -vals))
        return cand[local][order], vals[order]
    s = np.array(row_scores, dtype=np.float32)
    if job.exclude is not None and len(job.exclude):
        s[job.exclude] = -np.inf
    return top_k(s, job.k)
