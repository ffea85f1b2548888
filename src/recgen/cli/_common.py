"""Helpers shared by the CLI commands: ``--set`` / ``--config`` parsing, loading splits and models, output."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click

from recgen.errors import ArtifactError, ConfigError, check_k

SET_HELP = "Set one config field, KEY=VALUE (repeatable). Unknown keys list the valid names."
CONFIG_HELP = "JSON file of config fields (an object; a model's config.json also works). --set wins over it."


def set_option(f: Any) -> Any:
    return click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=SET_HELP)(f)


def config_option(f: Any) -> Any:
    return click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
                        help=CONFIG_HELP)(f)


def parse_sets(values: Iterable[str]) -> dict[str, str]:
    """``("l2=250", "dtype=float32")`` → ``{"l2": "250", "dtype": "float32"}``; later keys win."""
    out: dict[str, str] = {}
    for v in values:
        key, eq, val = v.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or not key:
            raise ConfigError(f"--set {v!r} is not KEY=VALUE; write it like --set l2=250.")
        out[key] = val.strip()
    return out


def read_config_file(path: str | None, *, model: str | None = None) -> dict[str, Any]:
    """Config fields from a JSON object; a saved model's ``config.json`` (``{"model", "config"}``) also works."""
    if path is None:
        return {}
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"--config {str(p)!r} does not exist; pass a JSON file of config fields.")
    try:
        obj = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--config {str(p)!r} is not valid JSON ({exc}); write an object such as "
                          '{"l2": 250}.') from exc
    if not isinstance(obj, dict):
        raise ConfigError(f"--config {str(p)!r} holds a {type(obj).__name__}; it must be a JSON object of fields.")
    if isinstance(obj.get("config"), dict) and "model" in obj:
        if model is not None and str(obj["model"]) != model:
            raise ConfigError(f"--config {str(p)!r} is a config of model {obj['model']!r}, not {model!r}; "
                              f"use `recgen train {obj['model']}` or another file.")
        obj = obj["config"]
    return dict(obj)


def config_overrides(config_file: str | None, sets: Iterable[str], *, model: str | None = None) -> dict[str, Any]:
    """Merge ``--config`` and ``--set`` (``--set`` wins); values are coerced later by ``make_config``."""
    values = read_config_file(config_file, model=model)
    values.update(parse_sets(sets))
    return values


def load_split(data: str | Path) -> Any:
    """Load a prepared dataset directory (``recgen data prepare --out``), with a one-line error if absent."""
    p = Path(data)
    if not p.is_dir():
        raise ArtifactError(
            f"--data {str(p)!r} is not a directory; pass the --out directory of `recgen data prepare`."
        )
    from recgen.data.prepared import load_split as _load

    return _load(p)


def eval_set(split: Any, which: str) -> Any:
    """``split.test`` or ``split.val`` with a clear error when the split has no validation set."""
    if which == "test":
        return split.test
    if split.val is None:
        raise ConfigError("--split val: this prepared dataset has no validation users; use --split test or "
                          "re-prepare with validation (e.g. --val-users 100).")
    return split.val


def check_model_matches(model: Any, split: Any, model_dir: str | Path, data: str | Path) -> None:
    """The model must score over the split's item universe (same raw ids in the same order)."""
    items = split.train.items
    if model.items_ != items:
        raise ArtifactError(
            f"model {str(model_dir)!r} was trained on {len(model.items_)} items but --data {str(data)!r} has "
            f"{len(items)} different items; evaluate a model on the prepared dataset it was trained on."
        )


def check_ks(ks: Sequence[int], n_items: int) -> tuple[int, ...]:
    if not ks:
        raise ConfigError("--k needs at least one cut-off, e.g. --k 20 50 100.")
    return tuple(sorted({check_k(k, n_items, name="--k") for k in ks}))


def parse_ks(values: Sequence[str]) -> list[int]:
    """``--k 20 50 100`` arrives as ``("20", "50", "100")``; also accept ``20,50``."""
    out: list[int] = []
    for v in values:
        for part in str(v).replace(",", " ").split():
            try:
                f = float(part)
            except ValueError:
                raise ConfigError(f"--k {part!r} is not an integer; pass cut-offs such as --k 20 50 100.") from None
            if not math.isfinite(f) or f != int(f):
                raise ConfigError(f"--k {part!r} is not an integer; pass cut-offs such as --k 20 50 100.")
            out.append(int(f))
    return out


_NUMBERS = re.compile(r"^[0-9.eE+,-]+$")


class MultiValue(click.Option):
    """An option taking one or more numbers after it: ``--k 20 50 100`` (use with ``type=click.UNPROCESSED``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._previous_parser_process: Any = None
        self._eat_all_parser: Any = None

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        for name in self.opts:
            our_parser = parser._long_opt.get(name) or parser._short_opt.get(name)
            if our_parser:
                self._eat_all_parser = our_parser
                self._previous_parser_process = our_parser.process
                our_parser.process = self._process
                break

    def _process(self, value: Any, state: Any) -> None:
        values = [value]
        # only numbers are eaten, so `--k 20 50 work/ease` still leaves the positional argument alone
        while state.rargs and _NUMBERS.match(state.rargs[0]):
            values.append(state.rargs.pop(0))
        self._previous_parser_process(tuple(values), state)


def fmt_value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, tuple | list):
        return ",".join(fmt_value(x) for x in v)
    return str(v)


def split_fingerprint(split: Any) -> str:
    """The prepared dataset's fingerprint (recorded at prepare time), else the training matrix's."""
    fp = split.meta.get("fingerprint") if isinstance(split.meta, dict) else None
    return str(fp) if fp else split.train.fingerprint()
