"""The inference engine: batching gives the unbatched answers, threads are bounded, top-k is exact."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import serving_helpers
from serving_helpers import expected_top

from recgen.serving.engine import EngineOverloaded, InferenceEngine, Job, LoadedModel
from recgen.serving.similar import top_k

# shared fixtures (assigned, not imported, so pytest finds them and ruff sees no shadowed import)
data_blocks = serving_helpers.data_blocks
ease = serving_helpers.ease



def test_top_k_hand_cases():
    s = np.array([0.5, 2.0, np.nan, 2.0, -np.inf, 1.0, 2.0], dtype=np.float32)
    idx, vals = top_k(s, 3)
    assert idx.tolist() == [1, 3, 6] and vals.tolist() == [2.0, 2.0, 2.0]  # ties to the smaller index
    idx, vals = top_k(s, 10)  # NaN and -inf are never returned
    assert idx.tolist() == [1, 3, 6, 5, 0]
    assert top_k(np.full(4, -np.inf, dtype=np.float32), 2)[0].tolist() == []
    ties = np.zeros(100, dtype=np.float32)
    assert top_k(ties, 3)[0].tolist() == [0, 1, 2]


class _GatedModel:
    """Wraps a model; score() waits on a gate and records how many calls run at once."""

    def __init__(self, model, gate: threading.Event) -> None:
        self._m, self.gate = model, gate
        self.items_, self.users_, self.train_, self.name = model.items_, model.users_, model.train_, model.name
        self.calls: list[int] = []
        self.active = self.peak = 0
        self._lock = threading.Lock()

    def score(self, rows, user_rows=None):
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            self.gate.wait(10)
            self.calls.append(rows.shape[0])
            return self._m.score(rows, user_rows=user_rows)
        finally:
            with self._lock:
                self.active -= 1


def _job(model, items, k=5):
    idx = np.array(sorted(items), dtype=np.int32)
    return Job(items=idx, values=np.ones(len(idx), np.float32), k=k, exclude=idx)


def test_queued_requests_are_scored_in_batches_with_unbatched_answers(ease):
    gate = threading.Event()
    gated = _GatedModel(ease, gate)
    served = LoadedModel.from_model(gated, name="e", version="1", info={"model": "ease"})
    engine = InferenceEngine(workers=1, max_batch=8)
    engine.start()
    try:
        rng = np.random.default_rng(0)
        histories = [rng.choice(60, size=rng.integers(1, 6), replace=False).tolist() for _ in range(21)]
        futures = [engine.submit(served, [_job(ease, histories[0])])]
        while gated.active == 0:  # the worker is now busy with the first request
            time.sleep(0.001)
        futures += [engine.submit(served, [_job(ease, h)]) for h in histories[1:]]
        gate.set()
        results = [f.result(10)[0] for f in futures]
    finally:
        engine.stop()
    # 1 request, then the 20 that queued meanwhile in batches of at most 8
    assert gated.calls == [1, 8, 8, 4] and engine.batches == 4 and engine.rows_scored == 21
    for h, (idx, _) in zip(histories, results, strict=True):
        assert [str(i) for i in idx] == expected_top(ease, h, 5)


def test_workers_bound_the_threads_that_score(ease):
    gate = threading.Event()
    gated = _GatedModel(ease, gate)
    served = LoadedModel.from_model(gated, name="e", version="1", info={"model": "ease"})
    engine = InferenceEngine(workers=2, max_batch=1)
    engine.start()
    try:
        names = sorted(t.name for t in threading.enumerate() if t.name.startswith("recgen-infer"))
        assert names == ["recgen-infer-0", "recgen-infer-1"]
        futures = [engine.submit(served, [_job(ease, [i])]) for i in range(12)]
        deadline = time.monotonic() + 5
        while gated.active < 2 and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(0.05)
        assert gated.active == 2  # never more than the 2 workers, though 12 requests wait
        gate.set()
        for f in futures:
            f.result(10)
    finally:
        engine.stop()
    assert gated.peak == 2
    assert not [t for t in threading.enumerate() if t.name.startswith("recgen-infer")]


def test_full_queue_overloads_and_errors_reach_the_caller(ease):
    gate = threading.Event()
    gated = _GatedModel(ease, gate)
    served = LoadedModel.from_model(gated, name="e", version="1", info={"model": "ease"})
    engine = InferenceEngine(workers=1, max_batch=1, max_queue=2)
    engine.start()
    try:
        first = engine.submit(served, [_job(ease, [1])])
        while gated.active == 0:
            time.sleep(0.001)
        queued = [engine.submit(served, [_job(ease, [2])]) for _ in range(2)]
        with pytest.raises(EngineOverloaded):
            engine.submit(served, [_job(ease, [3])])
        gate.set()
        for f in [first, *queued]:
            assert len(f.result(10)[0][0]) == 5
        bad = LoadedModel.from_model(gated, name="e", version="1", info={"model": "ease"})
        bad.model = None  # scoring raises: the error is delivered, the worker survives
        with pytest.raises(AttributeError):
            engine.submit(bad, [_job(ease, [1])]).result(10)
        assert len(engine.submit(served, [_job(ease, [1])]).result(10)[0][0]) == 5
    finally:
        engine.stop()
