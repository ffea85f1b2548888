"""The one registry of models, by name."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

from recgen.errors import UnknownModelError, suggest

if TYPE_CHECKING:
    from recgen.models.base import Recommender

_REGISTRY: dict[str, type[Recommender]] = {}

# every module of this package that is not infrastructure defines (and registers) models;
# they are imported on first registry access, so ``import recgen`` stays cheap
_INFRA = frozenset({"base", "config", "registry", "selection"})


def register(cls: type[Recommender]) -> type[Recommender]:
    """Class decorator: add a model to the registry under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"model name {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _load_all() -> None:
    import recgen.models as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name not in _INFRA and not info.name.startswith("_"):
            importlib.import_module(f"recgen.models.{info.name}")


def get_model_class(name: str) -> type[Recommender]:
    _load_all()
    key = name.lower().replace("_", "-")
    if key not in _REGISTRY:
        raise UnknownModelError(
            f"unknown model {name!r}.{suggest(key, _REGISTRY)} Available: {', '.join(sorted(_REGISTRY))} "
            "(see `recgen models`)."
        )
    return _REGISTRY[key]


def available_models() -> dict[str, type[Recommender]]:
    _load_all()
    return dict(sorted(_REGISTRY.items()))


def create_model(name: str, **config: object) -> Recommender:
    return get_model_class(name)(**config)
