"""Cold-start commands: ``recgen similar MODEL_DIR --item ID`` and the ``--user-features`` path of
``recgen recommend`` (:func:`recommend_cold_cmd`, called from :mod:`recgen.cli.recommend`)."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from recgen.errors import ConfigError, check_k


def recommend_cold_cmd(model_dir: str, user_features: str, items: str | None, k: int, ignore_unknown: bool,
                       as_json: bool = False) -> None:
    """Recommend for a user described by ``age=25,gender=F,...`` (and optionally a history), reporting which
    step of the fallback chain (history → feature-map → segment-popularity → popularity) answered."""
    import recgen
    from recgen.data.features import parse_feature_string

    feats = parse_feature_string(user_features)
    model = recgen.load_model(model_dir)
    if not hasattr(model, "recommend_cold"):
        raise ConfigError(f"--user-features: the model in {model_dir!r} ({model.name}) has no user-feature support; "
                          "train content-ae, content-knn or hybrid-ae with user features, or pass --items.")
    k = check_k(k, model.n_items, name="--k")
    history = [v.strip() for v in items.split(",") if v.strip()] if items else None
    res = model.recommend_cold(feats, items=history, k=k, unknown="ignore" if ignore_unknown else "error")
    if as_json:
        click.echo(json.dumps(res.to_dict(), ensure_ascii=False))
        return
    table = Table("rank", "item", "score", title=f"answered by: {res.source}")
    for rank, (item, s) in enumerate(zip(res.items, res.scores, strict=True), start=1):
        table.add_row(str(rank), str(item), f"{s:.4f}")
    Console().print(table)
    for step in res.chain:
        click.echo(f"  {step['step']}: {'used' if step['used'] else 'skipped'} ({step['reason']})", err=True)


@click.command("similar")
@click.argument("model_dir", metavar="MODEL_DIR")
@click.option("--item", "item", metavar="ID", required=True, help="Item id whose neighbours to list.")
@click.option("--k", type=int, default=10, show_default=True, help="Number of similar items.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def similar_cmd(model_dir: str, item: str, k: int, as_json: bool) -> None:
    """Items most similar to --item, from the model's item representations (content codes for content
    models, so items with no interactions have neighbours too). The method used is printed."""
    import recgen
    from recgen.serving.similar import similar_items

    model = recgen.load_model(model_dir)
    k = check_k(k, model.n_items - 1, name="--k")
    idx = int(model.items_.lookup([item], what="item")[0])
    top, vals, method = similar_items(model, idx, k)
    ids = [str(model.items_.ids[t]) for t in top]
    if as_json:
        click.echo(json.dumps({"item": item, "method": method, "items": ids, "scores": [float(v) for v in vals]}))
        return
    table = Table("rank", "item", "similarity", title=f"similar to {item} ({method})")
    for rank, (i, v) in enumerate(zip(ids, vals, strict=True), start=1):
        table.add_row(str(rank), i, f"{v:.4f}")
    Console().print(table)


COMMANDS = (similar_cmd,)
