"""The contract every registered model must honour, run over ``recgen.models.available_models()``.

Data: planted blocks (tests/conftest.py) — 3 user blocks × 3 item blocks, users interact only with
their own block. Per-model fast settings live in contract_configs.py.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re

import numpy as np
import pytest
import scipy.sparse as sp
from contract_configs import FAST_OVERRIDES, NON_PERSONALISED, PER_USER_PARAMETERS
from testkit import planted_blocks

from recgen.data import Interactions
from recgen.errors import ArtifactError, ConfigError, DataFormatError, NotFittedError, UnknownIdError
from recgen.models import available_models, load_model

MODELS = sorted(available_models())
N_HELDOUT = 15  # the last 15 users (5 per block) are never seen in training
TOP = 10  # cut-off of the planted-structure check
MIN_PRECISION = 0.8  # share of the top-10 in the user's own block; a random ranking gets ~1/3


def make(name: str, **extra):
    return available_models()[name](**{**FAST_OVERRIDES.get(name, {}), **extra})


@pytest.fixture(scope="module")
def data():
    full, ub, ib = planted_blocks(n_users=120, n_items=60, n_blocks=3, p_in=0.6, seed=0)
    n_train = full.n_users - N_HELDOUT
    train = full.select_users(np.arange(n_train))
    # held-out users: half of each history (seeded) is the fold-in input
    rng = np.random.default_rng(1)
    held = full.matrix[n_train:].tolil()
    fold_in = sp.lil_matrix(held.shape, dtype=np.float32)
    for r, cols in enumerate(held.rows):
        chosen = rng.choice(cols, size=max(1, len(cols) // 2), replace=False)
        fold_in[r, chosen] = 1.0
    return {"train": train, "fold_in": fold_in.tocsr(), "held_blocks": ub[n_train:], "item_blocks": ib}


_FITTED: dict[str, object] = {}


@pytest.fixture(params=MODELS)
def fitted(request, data):
    """One fitted model per name, shared by the read-only tests of this module."""
    name = request.param
    if name not in _FITTED:
        _FITTED[name] = make(name).fit(data["train"])
    return _FITTED[name]


@pytest.mark.parametrize("name", MODELS)
def test_fit_returns_self_learned_attributes_and_leaves_input_alone(name, data):
    train: Interactions = data["train"]
    before = [a.copy() for a in (train.matrix.data, train.matrix.indices, train.matrix.indptr)]
    model = make(name)
    config = model.config
    attrs = set(vars(model))
    assert model.fit(train) is model
    assert model.config == config  # hyperparameters are never changed by fit
    learned = [a for a in set(vars(model)) - attrs if not a.startswith("_")]
    assert learned and all(a.endswith("_") for a in learned), learned
    after = (train.matrix.data, train.matrix.indices, train.matrix.indptr)
    assert all(np.array_equal(b, a) for b, a in zip(before, after, strict=True))


def test_score_shape_dtype_finite(fitted, data):
    s = fitted.score(data["fold_in"])
    assert s.shape == (N_HELDOUT, data["train"].n_items)
    assert s.dtype == np.float32
    assert np.isfinite(s).all()
    # a dense single row and a sparse row give the same scores
    np.testing.assert_allclose(fitted.score(data["fold_in"][0].toarray().ravel()), s[:1], rtol=1e-5, atol=1e-6)


def test_unseen_users_get_their_own_block(fitted, data):
    """Correct answers: users never seen in training, served from half their history."""
    rows = data["fold_in"]
    s = fitted.score(rows)
    if fitted.name in NON_PERSONALISED:
        assert np.array_equal(s, np.broadcast_to(s[0], s.shape))  # one ranking for everyone
        counts = data["train"].item_counts()
        more = counts[:, None] > counts[None, :]
        assert np.all(s[0][:, None] > s[0][None, :], where=more)  # more popular ⇒ strictly higher score
        return
    s[rows.nonzero()] = -np.inf
    top = np.argsort(-s, axis=1, kind="stable")[:, :TOP]
    own = data["item_blocks"][top] == data["held_blocks"][:, None]
    assert own.mean() >= MIN_PRECISION, f"{fitted.name}: precision of own-block items {own.mean():.2f}"


def test_fold_in_of_a_seen_users_history_equals_serving_that_user(fitted, data):
    """An unseen user with exactly a training user's history is scored like that user."""
    train: Interactions = data["train"]
    rows = train.matrix[[0, 7, 20]]
    as_unseen = fitted.score(rows)
    as_known = fitted.score(rows, user_rows=np.array([0, 7, 20]))
    if fitted.name in PER_USER_PARAMETERS:
        assert np.isfinite(as_known).all()
        return
    np.testing.assert_allclose(as_unseen, as_known, rtol=1e-5, atol=1e-6)
    (recs_known,), _ = fitted.recommend(users=[train.users.ids[7]], k=5)
    (recs_hist,), _ = fitted.recommend(items=list(train.items.ids[train.matrix[7].indices]), k=5)
    assert recs_known == recs_hist


def test_recommend_by_user_and_by_history(fitted, data):
    train: Interactions = data["train"]
    users = list(train.users.ids[[0, 1, 5]])
    items, scores = fitted.recommend(users=users, k=7)
    assert len(items) == 3 and scores.shape == (3, 7)
    for u, recs, sc in zip(users, items, scores, strict=True):
        history = set(train.items.ids[train.matrix[train.users.lookup([u])[0]].indices])
        assert all(isinstance(i, str) and i in train.items for i in recs)
        assert not history & set(recs) and len(set(recs)) == 7
        assert np.all(np.diff(sc) <= 0)
    hist = list(train.items.ids[[0, 3, 6]])  # block-0 items
    (recs,), sc = fitted.recommend(items=hist, k=5)
    assert not set(hist) & set(recs) and np.all(np.diff(sc[0]) <= 0)


def test_save_load_round_trip(fitted, data, tmp_path):
    out = fitted.save(tmp_path / "model")
    files = {p.name for p in out.iterdir()}
    assert files == {"config.json", "weights.safetensors", "vocab.json", "metrics.json"}
    for p in out.iterdir():  # no pickle anywhere: pickles start with the PROTO opcode 0x80
        assert not p.read_bytes()[:1] == b"\x80", p
    loaded = load_model(out)
    assert type(loaded) is type(fitted) and loaded.config == fitted.config
    np.testing.assert_array_equal(loaded.score(data["fold_in"]), fitted.score(data["fold_in"]))
    cfg = json.loads((out / "config.json").read_text())
    cfg["format_version"] = 999
    (out / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ArtifactError, match="format"):
        load_model(out)


def test_two_fits_give_identical_scores(fitted, data):
    again = make(fitted.name).fit(data["train"])
    np.testing.assert_array_equal(again.score(data["fold_in"]), fitted.score(data["fold_in"]))


def test_errors_name_the_fix(fitted, data):
    name = fitted.name
    field = next(iter(dataclasses.fields(fitted.config_cls))).name
    typo = field + "x"
    with pytest.raises(ConfigError, match=f"Did you mean '{re.escape(field)}'"):
        make(name, **{typo: 1})
    n_items = data["train"].n_items
    user = [data["train"].users.ids[0]]
    for bad_k in (0, -1, n_items + 1):
        with pytest.raises(ConfigError, match="k="):
            fitted.recommend(users=user, k=bad_k)
    with pytest.raises(UnknownIdError, match="items="):
        fitted.recommend(users=["no-such-user"])
    with pytest.raises(NotFittedError, match="fit"):
        make(name).score(data["fold_in"])
    with pytest.raises(DataFormatError, match=str(n_items)):
        fitted.score(sp.csr_matrix((2, n_items + 1), dtype=np.float32))


@pytest.mark.parametrize("name", MODELS)
def test_config_is_documented_with_defaults_and_cited(name):
    cls = available_models()[name]
    cfg_cls = cls.config_cls
    assert dataclasses.is_dataclass(cfg_cls) and cfg_cls.__dataclass_params__.frozen
    for f in dataclasses.fields(cfg_cls):
        assert f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING, f.name
        # documented where it is declared (this class or an inherited config such as TrainingConfig):
        # a `#:` comment right above the field, or the field named in that class's docstring
        owner = next(c for c in cfg_cls.__mro__ if f.name in c.__dict__.get("__annotations__", {}))
        source = inspect.getsource(owner)
        above = source.split(f"\n    {f.name}:")[0].rstrip().splitlines()[-1].strip()
        documented = above.startswith("#:") or f.name in (owner.__doc__ or "") or f.name in (cfg_cls.__doc__ or "")
        assert documented, f"{name}: field {f.name} undocumented (in {owner.__name__})"
    cfg_cls()  # constructible from defaults alone
    doc = cls.__doc__ or ""
    assert re.search(r"\b(19|20)\d\d\b", doc) or "heuristic" in doc.lower(), f"{name}: cite a paper or say heuristic"
