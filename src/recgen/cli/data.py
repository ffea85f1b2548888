"""``recgen data``: prepare a split, generate synthetic data, download MovieLens."""

from __future__ import annotations

import inspect
import json
import logging
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from recgen.data.generate import generate_interactions
from recgen.data.prepared import SPLITS, prepare_dataset

log = logging.getLogger(__name__)
_PREPARE = inspect.signature(prepare_dataset).parameters
_GENERATE = inspect.signature(generate_interactions).parameters


def _default(name: str) -> Any:
    """Defaults of `data prepare` options are the library function's (one source of truth)."""
    return _PREPARE[name].default


@click.group("data")
def data() -> None:
    """Prepare, generate and download interaction data."""


@data.command("prepare")
@click.argument("source", metavar="SOURCE")
@click.option("--out", required=True, metavar="DIR", help="Directory to write the prepared split to.")
@click.option("--format", "fmt", default=_default("format"), show_default=True,
              help="auto, csv, tsv, parquet, movielens, movietweetings, lastfm, lines, pairs.")
@click.option("--split", "split", type=click.Choice(SPLITS), default=_default("split"), show_default=True,
              help="given (train/valid/test files as published), heldout-users (strong generalisation), "
                   "random (per-user), leave-last, time.")
@click.option("--min-rating", type=float, default=_default("min_rating"),
              help="Keep ratings >= this as positives (binarise); default keeps every interaction.")
@click.option("--min-user", type=int, default=_default("min_user"), show_default=True,
              help="k-core: minimum interactions per user.")
@click.option("--min-item", type=int, default=_default("min_item"), show_default=True,
              help="k-core: minimum interactions per item.")
@click.option("--val-users", type=int, default=_default("val_users"), help="heldout-users: validation users.")
@click.option("--test-users", type=int, default=_default("test_users"), help="heldout-users: test users.")
@click.option("--fold-in", type=float, default=_default("fold_in"), show_default=True,
              help="heldout-users: share of a held-out user's items given as input (the rest is the target).")
@click.option("--min-target-items", type=int, default=_default("min_target_items"), show_default=True,
              help="heldout-users: held-out users with fewer items get no target.")
@click.option("--val-ratio", type=float, default=_default("val_ratio"), show_default=True,
              help="random: share of each user's items for validation.")
@click.option("--test-ratio", type=float, default=_default("test_ratio"), show_default=True,
              help="random: share of each user's items for test.")
@click.option("--last-k", "k", type=int, default=_default("k"), show_default=True,
              help="leave-last: test items per user (the latest).")
@click.option("--val-k", type=int, default=_default("val_k"), show_default=True,
              help="leave-last: validation items per user (the latest before the test ones).")
@click.option("--test-from", type=float, default=_default("test_from"), help="time: test cut-off.")
@click.option("--val-from", type=float, default=_default("val_from"), help="time: validation cut-off.")
@click.option("--cutoff-unit", type=click.Choice(["quantile", "seconds"]), default=_default("cutoff_unit"),
              show_default=True, help="time: cut-offs as quantiles of the timestamps or unix seconds.")
@click.option("--seed", type=int, default=_default("seed"), show_default=True, help="Seed of random splits.")
@click.option("--user", default=None, help="csv/tsv/parquet: user column.")
@click.option("--item", default=None, help="csv/tsv/parquet: item column.")
@click.option("--rating", default=None, help="csv/tsv/parquet: rating column.")
@click.option("--time", default=None, help="csv/tsv/parquet: timestamp column.")
@click.option("--sep", default=None, help="csv/tsv: field separator.")
@click.option("--duplicates", type=click.Choice(["error", "sum", "max", "mean", "first", "last"]),
              default=_default("duplicates"), show_default=True, help="Repeated (user, item) pairs.")
def prepare_cmd(source: str, out: str, fmt: str, **options: Any) -> None:
    """Read SOURCE (a file or dataset directory), filter, split, and save the split to --out.

    \b
    Examples:
      recgen data prepare ../shared/data/ml-1m-lightgcnpp --format lines --split given --out work/ml1m
      recgen data prepare ml-100k/ --format movielens --min-rating 4 --split heldout-users \\
          --val-users 100 --test-users 100 --fold-in 0.8 --seed 98765 --out work/ml100k
    """
    split = prepare_dataset(source, format=fmt, out=out, **options)
    c = split.meta.get("counts", {})
    parts = [f"{split.train.n_users} train users", f"{split.n_items} items", f"{split.train.nnz} train interactions"]
    for role, ev in (("val", split.val), ("test", split.test)):
        if ev is not None:
            parts.append(f"{ev.n_users} {role} users ({int(ev.target.nnz)} target interactions)")
    click.echo(f"prepared {split.meta.get('protocol', '?')} split of {source}: {', '.join(parts)} -> {out}")
    if c:
        log.info("counts: %s", json.dumps(c, sort_keys=True))


@data.command("generate")
@click.option("--out", required=True, metavar="FILE", help="CSV file to write (user,item,rating,timestamp).")
@click.option("--users", "n_users", type=int, default=_GENERATE["n_users"].default, show_default=True, help="Number of users.")
@click.option("--items", "n_items", type=int, default=_GENERATE["n_items"].default, show_default=True, help="Number of items.")
@click.option("--clusters", "n_clusters", type=int, default=_GENERATE["n_clusters"].default, show_default=True, help="Planted taste clusters.")
@click.option("--mean-items", "mean_items_per_user", type=float, default=_GENERATE["mean_items_per_user"].default, show_default=True,
              help="Mean interactions per user.")
@click.option("--seed", type=int, default=_GENERATE["seed"].default, show_default=True, help="Random seed.")
def generate_cmd(out: str, **params: Any) -> None:
    """Write SYNTHETIC interactions with planted taste clusters (for trying recgen out; not real people).

    Beside the CSV it writes OUT.items.csv (item titles, labelled synthetic) and OUT.json (the generator's
    parameters and the planted clusters' sizes).
    """
    import numpy as np

    from recgen._io import atomic_file, write_json

    inter, truth = generate_interactions(**params)
    df = inter.to_frame().rename(columns={"value": "rating", "time": "timestamp"})
    df["timestamp"] = df["timestamp"].astype("int64")
    out_p = Path(out)
    with atomic_file(out_p, newline="", encoding="utf-8") as fh:
        df.to_csv(fh, index=False)
    base = out_p.with_suffix("")
    with atomic_file(base.with_name(base.name + ".items.csv"), newline="", encoding="utf-8") as fh:
        truth.item_info().to_csv(fh, index=False)
    write_json(base.with_name(base.name + ".json"), {
        "synthetic": True,
        "note": "SYNTHETIC data from recgen.data.generate_interactions; not real user behaviour.",
        "params": truth.params, "interactions": int(inter.nnz),
        "user_cluster_sizes": np.bincount(truth.user_cluster).tolist(),
        "command": "recgen data generate " + " ".join(f"--{k} {shlex.quote(str(v))}" for k, v in (
            ("out", out), ("users", params["n_users"]), ("items", params["n_items"]), ("seed", params["seed"]))),
    })
    click.echo(f"wrote SYNTHETIC data: {inter.nnz} interactions of {inter.n_users} users x {inter.n_items} items "
               f"-> {out} (labels in {base.name}.json, titles in {base.name}.items.csv)")


@data.command("download")
@click.argument("name", metavar="NAME")
@click.option("--force", is_flag=True, help="Download again even when cached.")
def download_cmd(name: str, force: bool) -> None:
    """Download a MovieLens release (ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-latest-small) into the cache.

    The cache is $RECGEN_HOME (default ~/.cache/recgen). The archive is checked against the publisher's MD5
    and the published counts. MovieLens is for research use under GroupLens' terms: recgen never
    redistributes it.
    """
    from recgen.data.download import download_movielens

    path = download_movielens(name, force=force, show_progress=sys.stderr.isatty())
    click.echo(str(path))
