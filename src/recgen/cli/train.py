"""``recgen train MODEL --data DIR --out DIR``: fit on the training split, validate, save the artifact.

``--augment FILE`` appends synthetic users (``recgen synth sample --out FILE``) after the real training
rows before fitting; validation / test users are never touched (their ``rows`` stay valid because the
real rows keep their indices). The file's sha256 and counts go to ``metrics.json["augment"]``.

Models trained in epochs (every model with a ``history_``: the autoencoders, CFGAN, AutoRec; latent-knn
draws its base autoencoder's) also get ``OUT/curves.png``: the training loss and its parts and the
validation metric per epoch, the best epoch marked (:func:`recgen.training.plots.plot_history`);
``--no-plot`` skips it.
"""

from __future__ import annotations

import inspect
import logging
import time
from pathlib import Path
from typing import Any

import click

from recgen._io import sha256_file
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
from recgen.cli._features import read_feature_options
from recgen.errors import ConfigError, DataFormatError, RecgenError, UnknownIdError

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


def _augment(train: Any, path: str) -> tuple[Any, dict[str, Any]]:
    """``train`` with the synthetic users of ``path`` appended, and what was added (sha256, counts)."""
    from recgen.synth import augment_with_users, read_synthetic

    try:
        fake = read_synthetic(path, items=train.items)
    except UnknownIdError as exc:
        raise DataFormatError(f"--augment {path!r}: {str(exc).split(';')[0]}; the synthetic users may only use "
                              "items of the prepared data's training vocabulary (sample them from a generator "
                              "fitted on this --data).") from None
    except (ValueError, KeyError, OSError) as exc:
        raise DataFormatError(f"--augment {path!r} could not be read ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}); pass the --out file of "
                              "`recgen synth sample` (.csv, .parquet or lines).") from None
    if fake.n_users == 0 or fake.nnz == 0:
        raise DataFormatError(f"--augment {path!r} holds no synthetic interactions; pass the --out file of "
                              "`recgen synth sample`.")
    digest = sha256_file(path)
    info = {"file": str(path), "sha256": digest, "synthetic_users": int(fake.n_users),
            "synthetic_interactions": int(fake.nnz), "real_users": int(train.n_users),
            "real_interactions": int(train.nnz)}
    return augment_with_users(train, fake), info


def _write_curves(estimator: Any, out: Path, title: str) -> Path | None:
    """``out/curves.png`` from the estimator's per-epoch history; None (and a note) when there is none to draw."""
    history = getattr(estimator, "history_", None)
    base = getattr(estimator, "base_", None)  # latent-knn: neighbours in a trained autoencoder's latent space
    if not history and getattr(base, "history_", None):
        history, title = base.history_, f"{title} (its base model {base.name})"
    if not history:
        return None  # closed-form / neighbourhood models: no epochs
    from recgen.training.plots import plot_history

    try:
        return plot_history(history, out / "curves.png", title=title)
    except RecgenError as exc:  # a history in another format: the artifact is complete without the plot
        log.warning("no curves.png for %s: %s", estimator.name, exc)
        click.echo(f"no curves.png: {exc}", err=True)
        return None


@click.command("train")
@click.argument("model")
@click.option("--data", required=True, metavar="DIR", help="Prepared dataset (the --out of `recgen data prepare`).")
@click.option("--out", required=True, metavar="DIR", help="Directory to save the trained model to.")
@set_option
@config_option
@click.option("--resume", is_flag=True, help="Continue an interrupted training from the last checkpoint in --set checkpoint_dir=DIR.")
@click.option("--k", "ks", cls=MultiValue, type=click.UNPROCESSED, metavar="K [K ...]", default=VALIDATION_KS, show_default=True,
              help="Cut-offs of the validation metrics saved in metrics.json.")
@click.option("--augment", "augment", default=None, metavar="FILE",
              help="Synthetic users (.csv / .parquet / lines, from `recgen synth sample`) appended to the training users.")
@click.option("--item-features", "item_features", default=None, metavar="KIND:PATH",
              help="Item side information for content-knn / content-ae / hybrid-ae: movielens:DIR, movietweetings:DIR, "
                   "lastfm:DIR, or 'source' (the prepared data's source).")
@click.option("--user-features", "user_features", default=None, metavar="KIND:PATH",
              help="User side information (cold users from features): movielens:DIR or 'source'.")
@click.option("--plot/--no-plot", "plot", default=True, show_default=True,
              help="Write OUT/curves.png (loss and validation metric per epoch, best epoch marked) for models "
                   "trained in epochs.")
def train_cmd(model: str, data: str, out: str, sets: tuple[str, ...], config_file: str | None, resume: bool,
              ks: tuple[str, ...], augment: str | None, item_features: str | None, user_features: str | None,
              plot: bool) -> None:
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
    feature_kwargs, feature_info = read_feature_options(estimator, item_features, user_features, split.meta)
    train, augment_info = split.train, None
    if augment is not None:
        train, augment_info = _augment(split.train, augment)
        click.echo(f"augmenting with {augment_info['synthetic_users']} synthetic users "
                   f"({augment_info['synthetic_interactions']} interactions) from {augment}", err=True)
    click.echo(f"training {klass.name} on {data}: {train.n_users} users x {split.n_items} items, "
               f"{train.nnz} interactions", err=True)
    t0 = time.perf_counter()
    estimator.fit(train, validation=split.val, **fit_kwargs, **feature_kwargs)
    fit_s = time.perf_counter() - t0
    metrics: dict[str, Any] = {"fit_seconds": round(fit_s, 3), "data": str(data),
                               "protocol": split.meta.get("protocol")}
    if augment_info is not None:
        metrics["augment"] = augment_info
    if feature_info:
        metrics["features"] = feature_info
    if split.val is not None:
        res = evaluate(estimator, split.val, ks=cutoffs, metrics=("recall", "trecall", "ndcg"))
        metrics["validation"] = res.to_dict()
    estimator.save(out, metrics=metrics, data_fingerprint=split_fingerprint(split))
    curves = _write_curves(estimator, Path(out), f"{klass.name} on {Path(data).name}") if plot else None
    if curves is not None:
        click.echo(f"training curves: {curves}", err=True)
    line = f"saved {klass.name} to {out} (fit {fit_s:.1f} s)"
    if split.val is not None:
        s = metrics["validation"]["summary"]
        k0 = cutoffs[0]
        line += f"; validation Recall@{k0} {s[f'recall@{k0}']:.4f}, NDCG@{k0} {s[f'ndcg@{k0}']:.4f}"
    click.echo(line)
