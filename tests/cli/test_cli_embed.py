"""``recgen embed``: user vectors for any split's users, item vectors from the decoder, clear refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from cli_helpers import assert_one_line_error, run, write_given_split

import recgen


def test_embed_users_and_items_of_a_trained_autoencoder(tmp_path):
    write_given_split(tmp_path / "raw", n_users=60, n_items=30)
    run("data", "prepare", tmp_path / "raw", "--format", "lines", "--split", "given", "--out", tmp_path / "prep")
    run("train", "mult-dae", "--data", tmp_path / "prep", "--out", tmp_path / "dae", "--set", "epochs=3",
        "--set", "hidden_dims=", "--set", "latent_dim=8", "--set", "batch_size=16", "--set", "show_progress=false")
    model = recgen.load_model(tmp_path / "dae")

    run("embed", tmp_path / "dae", "--data", tmp_path / "prep", "--out", tmp_path / "users.parquet")
    users = pd.read_parquet(tmp_path / "users.parquet")
    assert list(users.columns) == ["user"] + [f"dim_{j}" for j in range(8)]
    assert users["user"].tolist() == model.users_.ids.tolist()
    np.testing.assert_allclose(users.iloc[:, 1:].to_numpy(), model.encode(model.train_), rtol=1e-6, atol=1e-6)

    # test users are encoded from their input rows (what the model sees at test time)
    run("embed", tmp_path / "dae", "--data", tmp_path / "prep", "--split", "test", "--out", tmp_path / "t.parquet")
    from recgen.data.prepared import load_split

    split = load_split(tmp_path / "prep")
    test = pd.read_parquet(tmp_path / "t.parquet")
    assert test["user"].tolist() == split.test.users.ids.tolist()
    np.testing.assert_allclose(test.iloc[:, 1:].to_numpy(), model.encode(split.test.input), rtol=1e-6, atol=1e-6)

    run("embed", tmp_path / "dae", "--items", "--out", tmp_path / "items.parquet")
    items = pd.read_parquet(tmp_path / "items.parquet")
    assert items["item"].tolist() == model.items_.ids.tolist()
    np.testing.assert_allclose(items.iloc[:, 1:].to_numpy(), model.item_embeddings(), rtol=1e-6, atol=1e-6)


def test_embed_refuses_a_model_without_latent_space(tmp_path):
    write_given_split(tmp_path / "raw", n_users=30, n_items=15)
    run("data", "prepare", tmp_path / "raw", "--format", "lines", "--split", "given", "--out", tmp_path / "prep")
    run("train", "most-popular", "--data", tmp_path / "prep", "--out", tmp_path / "pop")
    result = run("embed", tmp_path / "pop", "--out", tmp_path / "u.parquet", ok=False)
    assert_one_line_error(result, "most-popular", "no latent user representation")
    assert not (tmp_path / "u.parquet").exists()
