"""``recgen evaluate MODEL_DIR --data DIR``: full-ranking metrics with bootstrap CIs, optionally as JSON."""

from __future__ import annotations

import logging
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from recgen.cli._common import (
    MultiValue,
    check_ks,
    check_model_matches,
    eval_set,
    load_split,
    parse_ks,
    split_fingerprint,
)

log = logging.getLogger(__name__)

TABLE_METRICS = ("recall", "trecall", "ndcg", "precision", "mrr", "coverage")
_LABELS = {"recall": "recall (std)", "trecall": "trecall (trunc)"}


def metric_by_k_table(result: Any, metrics: tuple[str, ...], *, title: str | None = None, ci: bool = True
                      ) -> Table:
    """One model: a row per metric, a column per cut-off; ``mean [95% bootstrap CI]`` per cell."""
    from recgen.evaluation.tables import RECALL_NOTE

    caption = RECALL_NOTE + (" Brackets: 95 % percentile-bootstrap interval over users." if ci else "")
    table = Table(title=title, caption=caption, caption_justify="left")
    table.add_column("metric")
    for k in result.ks:
        table.add_column(f"@{k}", justify="right")
    for m in metrics:
        cells = []
        for k in result.ks:
            key = f"{m}@{k}"
            if key not in result.summary:
                cells.append("—")
                continue
            text = f"{result.summary[key]:.4f}"
            if ci and key in result.per_user:
                _, lo, hi = result.ci(key)
                text += f" [{lo:.4f}, {hi:.4f}]"
            cells.append(text)
        if any(c != "—" for c in cells):
            table.add_row(_LABELS.get(m, m), *cells)
    return table


def load_checked(model_dir: str, data: str) -> tuple[Any, Any, bool]:
    """The model, the prepared split, and whether the split is the one the model was trained on."""
    import recgen
    from recgen._io import read_json

    model = recgen.load_model(model_dir)
    split = load_split(data)
    check_model_matches(model, split, model_dir, data)
    trained_on = read_json(f"{model_dir}/config.json").get("data_fingerprint")
    same = trained_on is None or trained_on == split_fingerprint(split)
    if not same:
        log.warning("model %s was trained on other data than %s (fingerprints differ); the items match, "
                    "so it is evaluated anyway", model_dir, data)
    return model, split, same


@click.command("evaluate")
@click.argument("model_dir", metavar="MODEL_DIR")
@click.option("--data", required=True, metavar="DIR", help="Prepared dataset the model was trained on.")
@click.option("--split", "which", type=click.Choice(["test", "val"]), default="test", show_default=True,
              help="Which held-out users to score (choose hyperparameters on val, report test once).")
@click.option("--k", "ks", cls=MultiValue, type=click.UNPROCESSED, metavar="K [K ...]", default=("20", "50", "100"),
              show_default=True, help="Cut-offs, e.g. --k 20 50 100.")
@click.option("--json", "json_out", metavar="FILE", default=None, help="Also write the results as JSON.")
@click.option("--per-user", is_flag=True, help="Include per-user values and user ids in the JSON.")
@click.option("--no-ci", is_flag=True, help="Skip the bootstrap confidence intervals.")
def evaluate_cmd(model_dir: str, data: str, which: str, ks: tuple[str, ...], json_out: str | None,
                 per_user: bool, no_ci: bool) -> None:
    """Evaluate a trained model (MODEL_DIR, the --out of `recgen train`) by full ranking.

    Every item of the split is ranked for each held-out user, minus the items the protocol excludes
    (train items; for a given split's test set also validation items). Recall is the standard
    hits/|held-out|; tRecall the truncated one of Liang et al. (2018).
    """
    from recgen._io import atomic_file, read_json
    from recgen.evaluation import evaluate

    model, split, same = load_checked(model_dir, data)
    evalset = eval_set(split, which)
    cutoffs = check_ks(parse_ks(ks), split.n_items)
    res = evaluate(model, evalset, ks=cutoffs)
    title = (f"{model.name} on {data} ({which}: {res.n_users} users"
             f"{f', {res.n_skipped} without targets skipped' if res.n_skipped else ''}; "
             f"{res.n_items} items; protocol {split.meta.get('protocol', '?')})")
    Console(width=max(Console().width, 100)).print(metric_by_k_table(res, TABLE_METRICS, title=title, ci=not no_ci))
    if json_out:
        out = res.to_dict(per_user=per_user)
        if not no_ci:
            out["ci95"] = {key: list(res.ci(key)[1:]) for key in res.per_user}
        out.update({"model": model.name, "model_dir": str(model_dir), "config": read_json(f"{model_dir}/config.json")["config"],
                    "data": str(data), "split": which, "protocol": split.meta.get("protocol"),
                    "data_fingerprint": split_fingerprint(split), "trained_on_this_data": same,
                    "recall_definitions": {"recall": "hits@k / |heldout|", "trecall": "hits@k / min(k, |heldout|)"}})
        import json

        with atomic_file(json_out) as fh:
            fh.write(json.dumps(out, indent=2, sort_keys=True) + "\n")
        click.echo(f"wrote {json_out}", err=True)
