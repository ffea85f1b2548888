"""``recgen synth fit | sample | report | augment``: synthetic users and their report.

``--data`` / ``--real`` is a prepared dataset directory (``recgen data prepare --out``); ``fit`` also
accepts an interaction file. ``report`` needs held-out users (prepare with ``--split heldout-users``).
``recgen synth augment MODEL --synthetic FILE`` runs ``recgen train MODEL --augment FILE``: MODEL is
trained on the real training users plus the synthetic users of FILE (validation and test users untouched)
and saved like any ``recgen train`` artifact (evaluate it with ``recgen evaluate``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from recgen.cli._common import config_option, config_overrides, load_split, set_option
from recgen.errors import ConfigError


def _training_data(data: str) -> Any:
    p = Path(data)
    if p.is_dir() and (p / "manifest.json").is_file():
        return load_split(p).train
    from recgen.data.readers import read_interactions

    d = read_interactions(p)
    return d.with_values(d.matrix.data * 0 + 1)


@click.group("synth")
def synth() -> None:
    """Synthetic users: fit a generator, sample users, report fidelity / privacy / utility, augment."""


@synth.command("fit")
@click.option("--data", required=True, metavar="D", help="Prepared dataset dir (its training users) or an interaction file.")
@click.option("--out", required=True, metavar="DIR", help="Directory to save the generator to.")
@set_option
@config_option
def fit_cmd(data: str, out: str, sets: tuple[str, ...], config_file: str | None) -> None:
    """Fit a BehaviourGAN on the real (training) users of --data and save it to --out.

    BehaviourGAN options (see `recgen.synth.BehaviourGANConfig`): --set discriminator=energy,
    --set epochs=300, --set ae_epochs=100, --set temperature=1.0 ...
    """
    from recgen.synth import BehaviourGAN

    train = _training_data(data)
    overrides = config_overrides(config_file, sets)
    gan = BehaviourGAN(**overrides)
    click.echo(f"fitting BehaviourGAN on {train.n_users} users x {train.n_items} items", err=True)
    t0 = time.perf_counter()
    gan.fit(train)
    gan.save(out)
    click.echo(f"saved BehaviourGAN to {out} (fit {time.perf_counter() - t0:.1f} s, {len(gan.history_)} epochs)")


@synth.command("sample")
@click.argument("generator_dir", metavar="DIR")
@click.option("--n-users", type=int, required=True, help="Number of synthetic users.")
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed (same seed, same users).")
@click.option("--out", required=True, metavar="FILE", help="Output: .csv (user,item header), .parquet, or lines (.txt).")
def sample_cmd(generator_dir: str, n_users: int, seed: int, out: str) -> None:
    """Sample synthetic users from the generator saved in DIR."""
    from recgen.synth import BehaviourGAN, write_synthetic

    fake = BehaviourGAN.load(generator_dir).sample(n_users, seed=seed)
    write_synthetic(fake, out)
    click.echo(f"wrote {fake.n_users} synthetic users ({fake.nnz} interactions) to {out}")


@synth.command("report")
@click.option("--real", required=True, metavar="D", help="Prepared dataset with held-out users (the generator's data).")
@click.option("--synthetic", required=True, metavar="FILE", help="Synthetic users (.csv / .parquet / lines).")
@click.option("--out", required=True, metavar="DIR", help="Report directory (report.json, .md, .html, PNG plots).")
@click.option("--no-utility", is_flag=True, help="Skip the train-on-synthetic / test-on-real models (faster).")
@click.option("--k", type=int, default=20, show_default=True, help="Cut-off of the TSTR metrics.")
def report_cmd(real: str, synthetic: str, out: str, no_utility: bool, k: int) -> None:
    """Fidelity / privacy / utility report of --synthetic against the real users of --real."""
    from recgen.synth import fidelity_report, read_synthetic

    split = load_split(real)
    if split.meta.get("protocol") != "heldout-users":
        raise ConfigError(f"--real {real!r} has protocol {split.meta.get('protocol')!r}; the report needs held-out "
                          "users: prepare it with `recgen data prepare ... --split heldout-users`.")
    fake = read_synthetic(synthetic, items=split.train.items)
    rep = fidelity_report(split.train, fake, split.test, name=Path(synthetic).name, with_utility=not no_utility, k=k)
    rep.write(out)
    missed = [g["goal"] for g in rep.goals if g["met"] is False]
    click.echo(f"wrote report to {out}; goals missed: {', '.join(missed) if missed else 'none'}")


@synth.command("augment")
@click.argument("model")
@click.option("--data", required=True, metavar="D", help="Prepared dataset (its training users are the real data).")
@click.option("--synthetic", required=True, metavar="FILE", help="Synthetic users to add (.csv / .parquet / lines).")
@click.option("--out", required=True, metavar="DIR", help="Directory to save the trained model to.")
@set_option
@config_option
@click.pass_context
def augment_cmd(ctx: click.Context, model: str, data: str, synthetic: str, out: str, sets: tuple[str, ...],
                config_file: str | None) -> None:
    """Train MODEL on real + synthetic users: exactly `recgen train MODEL --augment FILE`, spelled this way."""
    from recgen.cli.train import VALIDATION_KS, train_cmd

    ctx.invoke(train_cmd, model=model, data=data, out=out, sets=sets, config_file=config_file, resume=False,
               ks=VALIDATION_KS, augment=synthetic, item_features=None, user_features=None)
