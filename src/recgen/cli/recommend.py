"""``recgen recommend MODEL_DIR``: top-k lists for a split's users (JSONL), known users, or a new history."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import click
import numpy as np
from rich.console import Console
from rich.table import Table

from recgen.cli._common import eval_set
from recgen.cli.evaluate import load_checked
from recgen.errors import ConfigError, UnknownIdError, check_k


def _ids(value: str | None) -> list[str] | None:
    if value is None:
        return None
    ids = [v.strip() for v in value.split(",") if v.strip()]
    if not ids:
        raise ConfigError(f"{value!r} holds no ids; pass a comma-separated list such as 12,57,301.")
    return ids


def split_recommendations(model: Any, evalset: Any, k: int, *, batch_size: int = 1024) -> Iterator[dict[str, Any]]:
    """``{"user", "items"}`` per user of ``evalset``: the top-``k`` with the split's exclude items removed.

    The same ranking :func:`recgen.evaluation.evaluate` makes (same exclusion, ties to the lower item index),
    so the metrics can be recomputed from these lists by any tool.
    """
    from recgen.evaluation.topk import topk

    items = evalset.exclude.shape[1]
    k = check_k(k, items, name="--k")
    item_ids = model.items_.ids
    for start in range(0, evalset.n_users, batch_size):
        sl = slice(start, min(start + batch_size, evalset.n_users))
        scores = model.score(evalset.input[sl], user_rows=evalset.rows[sl])
        top, _ = topk(scores, k, evalset.exclude[sl])
        for user, row in zip(evalset.users.ids[sl], top, strict=True):
            yield {"user": str(user), "items": [str(item_ids[i]) for i in row if i >= 0]}


@click.command("recommend")
@click.argument("model_dir", metavar="MODEL_DIR")
@click.option("--data", metavar="DIR", default=None, help="Prepared dataset: recommend for its --split users.")
@click.option("--split", "which", type=click.Choice(["test", "val"]), default="test", show_default=True,
              help="With --data: whose histories to use (test or val users).")
@click.option("--users", metavar="ID,ID", default=None, help="Known user ids (served from their training history).")
@click.option("--items", metavar="ID,ID", default=None, help="A history of item ids (a user never seen).")
@click.option("--k", type=int, default=10, show_default=True, help="Length of each list.")
@click.option("--out", metavar="FILE", default=None,
              help="With --data: write JSON lines {\"user\", \"items\"} here ('-' = stdout).")
@click.option("--ignore-unknown", is_flag=True, help="Drop --items ids the model does not know instead of failing.")
@click.option("--user-features", metavar="K=V,K=V", default=None,
              help="A new user described by features (age=25,gender=F,occupation=student), optionally with "
                   "--items; the fallback step that answered is reported.")
def recommend_cmd(model_dir: str, data: str | None, which: str, users: str | None, items: str | None, k: int,
                  out: str | None, ignore_unknown: bool, user_features: str | None = None) -> None:
    """Recommend with a trained model.

    \b
    Three ways:
      --data DIR [--split test] --out recs.jsonl   every user of the split (exclude items removed)
      --users 17,42                                known users, from their training history
      --items 12,57,301                            a new user, from a history of item ids
      --user-features age=25,gender=F [--items ..] a new user from features (feature-aware models)
    """
    import recgen

    if user_features is not None:
        if data is not None or users is not None or out is not None:
            raise ConfigError("--user-features combines only with --items (a new user's history) and --k.")
        from recgen.cli.coldstart import recommend_cold_cmd

        recommend_cold_cmd(model_dir, user_features, items, k, ignore_unknown)
        return
    modes = sum(x is not None for x in (data, users, items))
    if modes != 1:
        raise ConfigError("pass exactly one of --data DIR (a split's users), --users ID,... or --items ID,...; "
                          f"got {modes}.")
    if data is not None:
        model, split, _ = load_checked(model_dir, data)
        evalset = eval_set(split, which)
        check_k(k, split.n_items, name="--k")
        lines = split_recommendations(model, evalset, k)
        if out is None or out == "-":
            for rec in lines:
                sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
            return
        from recgen._io import atomic_file

        n = 0
        with atomic_file(out, encoding="utf-8") as fh:
            for rec in lines:
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                n += 1
        click.echo(f"wrote {n} lists of up to {k} items for the {which} users of {data} to {out}", err=True)
        return
    if out is not None:
        raise ConfigError("--out is for --data (one JSON line per user of a split); drop it with --users/--items.")
    model = recgen.load_model(model_dir)
    check_k(k, model.n_items, name="--k")
    if users is not None:
        user_ids = _ids(users) or []
        try:
            lists, scores = model.recommend(users=user_ids, k=k)
        except UnknownIdError as exc:
            msg = str(exc).replace("pass items=[...]", "pass their history with --items ID,...")
            raise UnknownIdError(msg) from None
        labels = user_ids
    else:
        history = _ids(items) or []
        try:
            lists, scores = model.recommend(items=history, k=k, unknown="ignore" if ignore_unknown else "error")
        except UnknownIdError as exc:
            msg = str(exc).replace("pass unknown='ignore'", "pass --ignore-unknown")
            raise UnknownIdError(msg) from None
        labels = ["(history)"]
    table = Table("user", "rank", "item", "score")
    for label, row, sc in zip(labels, lists, scores, strict=True):
        for rank, (item, s) in enumerate(zip(row, sc, strict=True), start=1):
            if not np.isfinite(s):
                continue
            table.add_row(label if rank == 1 else "", str(rank), str(item), f"{s:.4f}")
    Console().print(table)
