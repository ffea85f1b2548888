"""``recgen embed``: latent user (or item) representations of a trained autoencoder, as Parquet."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from recgen.cli._common import check_model_matches, eval_set, load_split
from recgen.errors import ConfigError


def _write_parquet(path: Path, ids: np.ndarray, vectors: np.ndarray, id_column: str) -> None:
    import pandas as pd

    from recgen._io import atomic_file

    frame = pd.DataFrame(vectors.astype(np.float32), columns=[f"dim_{j}" for j in range(vectors.shape[1])])
    frame.insert(0, id_column, ids.astype(str))
    with atomic_file(path, "wb") as fh:
        frame.to_parquet(fh, index=False)


@click.command("embed")
@click.argument("model_dir", type=click.Path(file_okay=False))
@click.option("--data", "data", type=click.Path(file_okay=False), default=None,
              help="Prepared dataset (`recgen data prepare --out`); its users' histories are encoded.")
@click.option("--split", "which", type=click.Choice(["train", "val", "test"]), default="train", show_default=True,
              help="Whose histories: the training users, or the validation / test users' inputs (fold-in).")
@click.option("--items", "items", is_flag=True, help="Write item representations (from the decoder) instead.")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True,
              help="Parquet file: one row per user (or item), columns user|item, dim_0 … dim_{d-1}.")
def embed_cmd(model_dir: str, data: str | None, which: str, items: bool, out: str) -> None:
    """Write a trained autoencoder's low-dimensional user (or item) representations to Parquet.

    User vectors are the encoder's output for each user's history (the mean μ for VAEs), so users of any
    split, including ones never seen in training, get one. Models without a latent space are refused.
    """
    import recgen

    model = recgen.load_model(model_dir)
    if items:
        try:
            vectors = model.item_embeddings()  # type: ignore[attr-defined]
        except (AttributeError, NotImplementedError):
            raise ConfigError(f"model {model.name!r} has no item representations; use an autoencoder such as "
                              "mult-vae, mult-dae, recvae or ae.") from None
        _write_parquet(Path(out), model.items_.ids, np.asarray(vectors), "item")
        click.echo(f"wrote {vectors.shape[0]} item vectors of dimension {vectors.shape[1]} to {out}")
        return
    if not hasattr(model, "encode"):
        raise ConfigError(f"model {model.name!r} has no latent user representation; use an autoencoder such as "
                          "mult-vae, mult-dae, recvae or ae.")
    if data is None:
        rows, ids = model.train_, model.users_.ids
    else:
        split = load_split(data)
        check_model_matches(model, split, model_dir, data)
        if which == "train":
            rows, ids = split.train.matrix, split.train.users.ids
        else:
            ev = eval_set(split, which)
            rows, ids = ev.input, ev.users.ids
    try:
        vectors = np.asarray(model.encode(rows))
    except NotImplementedError:
        raise ConfigError(f"model {model.name!r} has no latent user representation; use an autoencoder such as "
                          "mult-vae, mult-dae, recvae or ae.") from None
    _write_parquet(Path(out), np.asarray(ids), vectors, "user")
    click.echo(f"wrote {vectors.shape[0]} user vectors of dimension {vectors.shape[1]} to {out}")


COMMANDS = (embed_cmd,)
