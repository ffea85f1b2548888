"""Hyperparameter configs: frozen dataclasses, the one source of defaults."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, TypeVar

from recgen.errors import ConfigError, suggest

C = TypeVar("C")


def config_fields(cls: type) -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(cls)}


def _coerce(name: str, value: Any, tp: Any) -> Any:
    """Convert strings from the CLI (``--set lr=1e-3``) and JSON values to the field's type."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and (value is None or (isinstance(value, str) and value.lower() in ("none", "null"))):
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(name, value, a)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{name}={value!r} is invalid.")
    if origin is typing.Literal:
        for a in args:
            if value == a or (isinstance(value, str) and str(a) == value):
                return a
        raise ConfigError(f"{name}={value!r} is not allowed; choose one of {list(args)}.{suggest(str(value), map(str, args))}")
    if origin in (tuple, list):
        if isinstance(value, str):
            text = value.strip()
            try:
                value = json.loads(text) if text.startswith("[") else [v for v in text.split(",") if v.strip()]
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{name}={value!r} is not a list; write it as 600,200 or [600, 200].") from exc
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{name}={value!r} must be a list such as 600,200.")
        inner = args[0] if args else Any
        return tuple(_coerce(name, v, inner) for v in value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
            return value.lower() in ("true", "1", "yes", "on")
        raise ConfigError(f"{name}={value!r} must be true or false.")
    if tp is int:
        try:
            f = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}={value!r} must be an integer, e.g. {name}=10.") from None
        if isinstance(value, bool) or f != int(f):
            raise ConfigError(f"{name}={value!r} must be an integer, e.g. {name}=10.")
        return int(f)
    if tp is float:
        try:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}={value!r} must be a number, e.g. {name}=0.001.") from None
    if tp is str:
        return str(value)
    return value


def make_config(cls: type[C], base: C | None = None, overrides: dict[str, Any] | None = None) -> C:
    """Build ``cls`` from ``base`` (or its defaults) and ``overrides``; unknown keys raise listing valid ones."""
    fields = config_fields(cls)
    overrides = dict(overrides or {})
    unknown = [k for k in overrides if k not in fields]
    if unknown:
        raise ConfigError(
            f"unknown hyperparameter {unknown[0]!r} for {cls.__name__}.{suggest(unknown[0], fields)} "
            f"Valid names: {', '.join(sorted(fields))}."
        )
    hints = typing.get_type_hints(cls)
    values = dataclasses.asdict(base) if base is not None else {}  # type: ignore[call-overload]
    for k, v in overrides.items():
        values[k] = _coerce(k, v, hints[k])
    try:
        cfg = cls(**values)
    except TypeError as exc:  # pragma: no cover - all fields have defaults
        raise ConfigError(str(exc)) from exc
    validate = getattr(cfg, "validate", None)
    if callable(validate):
        validate()
    return cfg


def config_to_dict(cfg: Any) -> dict[str, Any]:
    d = dataclasses.asdict(cfg)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def require(cond: bool, name: str, value: Any, fix: str) -> None:
    """Raise :class:`ConfigError` naming ``name`` and ``value`` unless ``cond``."""
    if not cond:
        raise ConfigError(f"{name}={value!r} is invalid; {fix}")
