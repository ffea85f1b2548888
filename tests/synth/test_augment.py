"""Augmentation bookkeeping: real rows and real test users are never changed."""

from __future__ import annotations

import numpy as np
import pytest

from recgen.data import random_split
from recgen.errors import ConfigError
from recgen.evaluation import evaluate
from recgen.models.registry import create_model
from recgen.synth import augment_sparse_users, augment_with_users, augmentation_experiment
from recgen.synth.augment import Control, augmentation_markdown


def test_augment_with_users_appends_after_the_real_rows(fitted_gan, planted_split):
    train = planted_split.train
    fake = fitted_gan.sample(50, seed=0)
    aug = augment_with_users(train, fake)
    assert aug.n_users == train.n_users + 50 and aug.items == train.items
    assert (aug.matrix[:train.n_users] != train.matrix).nnz == 0
    assert (aug.matrix[train.n_users:] != fake.matrix).nnz == 0
    assert list(aug.users.ids[:train.n_users]) == list(train.users.ids)
    assert all(u.startswith("synth:") for u in aug.users.ids[train.n_users:])


def test_augment_sparse_users_only_adds_items_to_sparse_users(fitted_gan, planted_split):
    train = planted_split.train
    aug, info = augment_sparse_users(train, fitted_gan, seed=0)
    counts, new = train.user_counts(), aug.user_counts()
    sparse = counts <= info["max_activity"]
    assert info["users_augmented"] == int(sparse.sum()) > 0
    assert np.all(new[sparse] == info["target_activity"])
    assert np.array_equal(new[~sparse], counts[~sparse])
    assert train.matrix.multiply(aug.matrix).nnz == train.nnz          # every real interaction kept
    assert info["interactions_added"] == aug.nnz - train.nnz
    assert list(aug.users.ids) == list(train.users.ids)


def test_experiment_leaves_the_test_users_untouched_and_pairs_users(fitted_gan, planted):
    split = random_split(planted, val_ratio=0.0, test_ratio=0.2, seed=0)
    test_before = (split.test.input.copy(), split.test.target.copy(), split.test.exclude.copy())
    gan = fitted_gan  # fitted on other users of the same item set: enough for bookkeeping
    assert gan.items_ == split.train.items
    conditions = {"+users": augment_with_users(split.train, gan.sample(100, seed=1)),
                  "+copy": split.train}
    res = augmentation_experiment(split.train, split.test, conditions, {"ease": {"l2": 50.0}}, n_groups=2)
    for before, after in zip(test_before, (split.test.input, split.test.target, split.test.exclude), strict=True):
        assert (before != after).nnz == 0
    rows = res["models"]["ease"]
    # training on an identical copy of the real data changes nothing: Δ = 0 exactly, p = 1
    assert rows["+copy"]["delta"] == 0.0 and rows["+copy"]["p_value"] == 1.0
    assert sum(g["users"] for g in rows["+users"]["groups"]) == res["n_test_users"]
    assert rows["+users"]["ndcg"] == pytest.approx(rows["real"]["ndcg"] + rows["+users"]["delta"])


def test_control_is_trained_on_real_data_and_compared_with_its_condition(fitted_gan, planted):
    split = random_split(planted, val_ratio=0.0, test_ratio=0.2, seed=0)
    conditions = {"+users": augment_with_users(split.train, fitted_gan.sample(100, seed=1))}
    controls = {"same settings": Control("ease", {"l2": 50.0}, versus="+users"),
                "other l2": Control("ease", {"l2": 5.0}, versus="+users")}
    res = augmentation_experiment(split.train, split.test, conditions, {"ease": {"l2": 50.0}}, n_groups=2,
                                  controls=controls)
    rows = res["models"]["ease"]
    # EASE is deterministic: the control with the experiment's own settings *is* the real-only run
    same = rows["same settings"]
    assert same["delta"] == 0.0 and same["p_value"] == 1.0 and same["settings"] == {"l2": 50.0}
    # ... so the augmented run compared with it is the augmented run compared with real-only
    assert same["versus"]["condition"] == "+users"
    assert same["versus"]["delta"] == pytest.approx(rows["+users"]["delta"])
    assert same["versus"]["p_value"] == pytest.approx(rows["+users"]["p_value"])
    other = rows["other l2"]
    assert other["ndcg"] != rows["real"]["ndcg"]
    assert other["versus"]["delta"] == pytest.approx(rows["+users"]["ndcg"] - other["ndcg"])
    for g, gv in zip(other["groups"], other["versus"]["groups"], strict=True):
        assert gv["ndcg_real"] == pytest.approx(g["ndcg_aug"])   # the control's NDCG in that group
    assert all(r["fit_cpu_s"] >= 0 for r in rows.values())
    assert "control" in augmentation_markdown(res)


@pytest.mark.parametrize(("control", "label"), [(Control("mult-vae", {}, versus="+users"), "c"),
                                                 (Control("ease", {}, versus="+nothing"), "c"),
                                                 (Control("ease", {}, versus="+users"), "+users")])
def test_control_must_name_a_model_a_condition_and_a_new_label(planted, control, label):
    split = random_split(planted, val_ratio=0.0, test_ratio=0.2, seed=0)
    with pytest.raises(ConfigError, match="control"):
        augmentation_experiment(split.train, split.test, {"+users": split.train}, {"ease": {"l2": 50.0}},
                                controls={label: control})


def test_selection_on_validation_picks_each_conditions_best_candidate(fitted_gan, planted):
    split = random_split(planted, val_ratio=0.15, test_ratio=0.2, seed=0)
    conditions = {"+users": augment_with_users(split.train, fitted_gan.sample(100, seed=1))}
    models = {"ease": {"l2": 50.0},
              "mult-vae": {"hidden_dims": (), "latent_dim": 8, "epochs": 6, "eval_every": 2, "patience": 1,
                           "batch_size": 64, "show_progress": False, "device": "cpu"}}
    grids = {"ease": [{"l2": 0.5}, {"l2": 50.0}, {"l2": 5000.0}]}
    res = augmentation_experiment(split.train, split.test, conditions, models, n_groups=2, validation=split.val,
                                  grids=grids)
    for cond in ("real", "+users"):
        row = res["models"]["ease"][cond]
        scores = [c["val_ndcg"] for c in row["candidates"]]
        assert [c["settings"] for c in row["candidates"]] == grids["ease"]
        assert row["selected"] == grids["ease"][int(np.argmax(scores))] and row["val_ndcg"] == max(scores)
        assert row["best_epoch"] is None                                  # closed form: no epochs
        vae = res["models"]["mult-vae"][cond]
        assert vae["selected"] == {} and 1 <= vae["best_epoch"] <= 6       # early stopping on validation
    # the real-only EASE row is exactly a fresh EASE with the selected l2, scored on test
    l2 = res["models"]["ease"]["real"]["selected"]["l2"]
    fresh = evaluate(create_model("ease", l2=l2).fit(split.train), split.test.nonempty(), ks=(20,), metrics=("ndcg",))
    assert res["models"]["ease"]["real"]["ndcg"] == pytest.approx(fresh.per_user["ndcg@20"].mean())
    assert "Chosen on the validation users" in augmentation_markdown(res)
    with pytest.raises(ConfigError, match="validation"):
        augmentation_experiment(split.train, split.test, conditions, models, grids=grids)
