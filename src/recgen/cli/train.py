"""``recgen train MODEL --data DIR --out DIR``: fit on the training split, validate, save the artifact."""

from __future__ import annotations

import inspect
import logging
import time
from typing import Any

import click

from recgen.cli._common import (
    MultiValue,
    check_ks,
    config_option,
    config_overrides,
    load_split,
    parse_ks,
    set_option,
    split_fingerprint,
)
from recgen.errors import ConfigError

log = logging.getLogger(__name__)

VALIDATION_KS = ("20", "50", "100")


def _fit_kwargs(estimator: Any, resume: bool) -> dict[str, Any]:
    """``{"resume": True}`` for a model trained in epochs with checkpoints, else a ConfigError naming the fix."""
    if not resume:
        return {}
    if "resume" not in inspect.signature(estimator.fit).parameters:
        raise ConfigError(f"--resume: model {estimator.name!r} is not trained in epochs and has no checkpoints "
                          "to resume from; drop --resume.")
    if getattr(estimator.config, "checkpoint_dir", None) is None:
        raise ConfigError("--resume needs the checkpoint directory of the interrupted run: pass "
                          "--set checkpoint_dir=DIR (train with the same --set to write checkpoints).")
    return {"resume": True}


@click.command("train")
@click.argument("model")
@click.option("--data", required=True, metavar="DIR", help="Prepared dataset (the --out of `recgen data prepare`).")
@click.option("--out", required=True, metavar="DIR", help="Directory to save the trained model to.")
@set_option
@config_option
@click.option("--resume", is_flag=True, help="Continue an interrupted training from the last checkpoint in --set checkpoint_dir=DIR.")
@click.option("--k", "ks", cls=MultiValue, type=click.UNPROCESSED, metavar="K [K ...]", default=VALIDATION_KS, show_default=True,
              help="Cut-offs of the validation metrics saved in metrics.json.")
def train_cmd(model: str, data: str, out: str, sets: tuple[str, ...], config_file: str | None, resume: bool,
              ks: tuple[str, ...]) -> None:
    """Fit MODEL on the training part of --data and save it to --out.

    The validation users (when the split has them) drive early stopping / model selection and their
    metrics are saved in OUT/metrics.json with the data fingerprint. Hyperparameters: `recgen models MODEL`
    lists every field and its default; change them with --set KEY=VALUE or --config FILE.
    """
    from recgen.evaluation import evaluate
    from recgen.models.registry import get_model_class

    klass = get_model_class(model)
    overrides = config_overrides(config_file, sets, model=klass.name)
    estimator = klass(**overrides)
    fit_kwargs = _fit_kwargs(estimator, resume)
    split = load_split(data)
    wanted = parse_ks(ks)
    if tuple(ks) == VALIDATION_KS:  # the defaults shrink to small catalogues; explicit --k values are checked
        wanted = [k for k in wanted if k <= split.n_items] or [split.n_items]
    cutoffs = check_ks(wanted, split.n_items)
    click.echo(f"training {klass.name} on {data}: {split.train.n_users} users x {split.n_items} items, "
               f"{split.train.nnz} interactions", err=True)
    t0 = time.perf_counter()
    estimator.fit(split.train, validation=split.val, **fit_kwargs)
    fit_s = time.perf_counter() - t0
    metrics: dict[str, Any] = {"fit_seconds": round(fit_s, 3), "data": str(data),
                               "protocol": split.meta.get("protocol")}
    if split.val is not None:
        res = evaluate(estimator, split.val, ks=cutoffs, metrics=("recall", "trecall", "ndcg"))
        metrics["validation"] = res.to_dict()
    estimator.save(out, metrics=metrics, data_fingerprint=split_fingerprint(split))
    line = f"saved {klass.name} to {out} (fit {fit_s:.1f} s)"
    if split.val is not None:
        s = metrics["validation"]["summary"]
        k0 = cutoffs[0]
        line += f"; validation Recall@{k0} {s[f'recall@{k0}']:.4f}, NDCG@{k0} {s[f'ndcg@{k0}']:.4f}"
    click.echo(line)
