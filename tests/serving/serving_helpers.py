"""Shared pieces of the serving tests: small fitted models, a store, a ready test client."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from testkit import planted_blocks

from recgen.models.ease import EASE
from recgen.models.popularity import MostPopular


def blocks_data():
    """120 users × 60 items in 3 planted blocks (user u and item i in block u % 3 / i % 3)."""
    return planted_blocks(n_users=120, n_items=60, n_blocks=3, p_in=0.5, seed=3)


@pytest.fixture(scope="module")
def data_blocks():
    return blocks_data()


@pytest.fixture(scope="module")
def ease(data_blocks):
    return EASE(l2=10.0).fit(data_blocks[0])


@pytest.fixture(scope="module")
def popular(data_blocks):
    return MostPopular().fit(data_blocks[0])


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory, ease, popular):
    """Saved EASE and MostPopular directories (with metrics and a data fingerprint)."""
    root = tmp_path_factory.mktemp("artifacts")
    ease.save(root / "ease", metrics={"ndcg@20": 0.5}, data_fingerprint="fp-ease")
    popular.save(root / "pop", metrics={"ndcg@20": 0.1}, data_fingerprint="fp-pop")
    return {"ease": root / "ease", "pop": root / "pop"}


def wait_ready(client, timeout: float = 20.0) -> dict:
    """Poll GET /health until 200 (the model loads in the background)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get("/health")
        if r.status_code == 200:
            return r.json()
        time.sleep(0.01)
    raise AssertionError(f"service not ready after {timeout}s: {r.json()}")


def expected_top(model, row_items: list[int], k: int, extra_exclude=(), candidates=None) -> list[str]:
    """The right answer, computed directly from model.score: ids of the top-k, ties to the smaller index."""
    n = len(model.items_)
    x = np.zeros((1, n), dtype=np.float32)
    x[0, row_items] = 1.0
    s = model.score(x)[0].astype(np.float64)
    allowed = np.ones(n, dtype=bool) if candidates is None else np.isin(np.arange(n), candidates)
    allowed[list(row_items) + list(extra_exclude)] = False
    idx = [i for i in sorted(range(n), key=lambda i: (-s[i], i)) if allowed[i]][:k]
    return [str(model.items_.ids[i]) for i in idx]


def user_items(model, user: str) -> list[int]:
    u = model.users_.lookup([user])[0]
    return model.train_[u].indices.tolist()


__all__ = ["Path", "artifacts", "blocks_data", "data_blocks", "ease", "expected_top", "popular", "user_items",
           "wait_ready"]
