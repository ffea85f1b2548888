"""``recgen models``: the registry, one line per model, with every config field and its default."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from recgen.cli._common import fmt_value


def field_docs(config_cls: type) -> dict[str, str]:
    """The ``#: comment`` lines written above each field of a config dataclass."""
    try:
        lines = inspect.getsource(config_cls).splitlines()
    except (OSError, TypeError):  # pragma: no cover - source not available (zipped install)
        return {}
    docs: dict[str, str] = {}
    pending: list[str] = []
    names = {f.name for f in dataclasses.fields(config_cls)}
    for line in lines:
        s = line.strip()
        if s.startswith("#:"):
            pending.append(s[2:].strip())
            continue
        name = s.split(":", 1)[0].strip()
        if name in names and pending:
            docs[name] = " ".join(pending)
        if not s.startswith("#"):
            pending = []
    return docs


def summary_line(klass: type) -> str:
    """First sentence of a model class docstring (its first paragraph, cut at a sentence end)."""
    doc = inspect.getdoc(klass) or ""
    first = " ".join(doc.strip().split("\n\n")[0].split())
    return re.split(r"(?<=[.!?])\s+(?=[A-Z])", first, maxsplit=1)[0]


def config_defaults(config_cls: type) -> list[tuple[str, Any]]:
    """``(name, default)`` of every field, read from the dataclass (the one source of defaults)."""
    out = []
    for f in dataclasses.fields(config_cls):
        if f.default is not dataclasses.MISSING:
            out.append((f.name, f.default))
        elif f.default_factory is not dataclasses.MISSING:
            out.append((f.name, f.default_factory()))
    return out


@click.command("models")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print {model: {description, class, defaults}} as JSON.")
def models_cmd(name: str | None, as_json: bool) -> None:
    """List the registered models with a one-line description and their config defaults.

    With NAME, show every config field of that model with its type, default and meaning; set any of
    them on `recgen train NAME` with --set KEY=VALUE.
    """
    from recgen.models.registry import available_models, get_model_class

    if as_json:
        registry = {name: get_model_class(name)} if name else available_models()
        doc = {key: {"class": f"{k.__module__}.{k.__name__}", "description": summary_line(k),
                     "defaults": {n: list(v) if isinstance(v, tuple) else v for n, v in config_defaults(k.config_cls)}}
               for key, k in registry.items()}
        click.echo(json.dumps(doc, indent=2))
        return
    console = Console(soft_wrap=False, width=max(Console().width, 110))
    if name is not None:
        klass = get_model_class(name)
        cfg = klass.config_cls
        console.print(f"[bold]{klass.name}[/] ({klass.__module__}.{klass.__name__}): {summary_line(klass)}",
                      highlight=False)
        table = Table("field", "type", "default", "meaning", show_lines=False)
        docs = field_docs(cfg)
        hints = {f.name: f.type for f in dataclasses.fields(cfg)}
        for fname, default in config_defaults(cfg):
            t = hints[fname]
            table.add_row(fname, t if isinstance(t, str) else getattr(t, "__name__", str(t)),
                          fmt_value(default), docs.get(fname, ""))
        console.print(table)
        console.print(f"Set a field with: recgen train {klass.name} --data DIR --out DIR --set FIELD=VALUE",
                      highlight=False)
        return
    table = Table("model", "description", "defaults (--set KEY=VALUE)", show_lines=True)
    for key, klass in available_models().items():
        defaults = " ".join(f"{n}={fmt_value(v)}" for n, v in config_defaults(klass.config_cls))
        table.add_row(key, summary_line(klass), defaults or "(none)")
    console.print(table)
    console.print("Details of one model: recgen models NAME", highlight=False)
