"""``recgen train --item-features SPEC --user-features SPEC``: side information for feature-aware models.

``SPEC`` is ``KIND:PATH``, a bare ``PATH`` (kind = the prepared data's source format) or ``source`` (the
prepared data's own source directory and format, as recorded in its manifest). Kinds:

- item features: ``movielens`` / ``movietweetings`` (genres, title words, release decade;
  :func:`recgen.data.features_readers.movielens_item_features`), ``lastfm`` (artist tags;
  :func:`~recgen.data.features_readers.lastfm_item_features`);
- user features: ``movielens`` (age, gender, occupation of ML-100K / ML-1M;
  :func:`~recgen.data.features_readers.movielens_user_features`).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from recgen.errors import ConfigError

ITEM_KINDS = ("movielens", "movietweetings", "lastfm")
USER_KINDS = ("movielens",)


def _parse(spec: str, option: str, kinds: tuple[str, ...], split_meta: dict[str, Any]) -> tuple[str, Path]:
    source = split_meta.get("source") or {}
    kind, _, path = spec.partition(":")
    if spec == "source" or not path or kind not in kinds and Path(spec).exists():
        kind, path = str(source.get("format", "")), (source.get("path") if spec == "source" else spec)
        if not path:
            raise ConfigError(f"{option}={spec!r}: the prepared data records no source directory; pass "
                              f"KIND:PATH, e.g. {option} movielens:/data/ml-100k.")
    if kind not in kinds:
        raise ConfigError(f"{option}={spec!r}: unknown feature kind {kind!r}; pass KIND:PATH with KIND one of "
                          f"{', '.join(kinds)} (e.g. {option} movielens:/data/ml-100k).")
    return kind, Path(path)


def read_feature_options(estimator: Any, item_spec: str | None, user_spec: str | None,
                         split_meta: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``fit`` keyword arguments (``item_features`` / ``user_features``) and what was read, for metrics.json."""
    if item_spec is None and user_spec is None:
        return {}, {}
    params = inspect.signature(estimator.fit).parameters
    if "item_features" not in params:
        raise ConfigError(f"--item-features / --user-features: model {estimator.name!r} takes no side "
                          "information; use content-knn, content-ae or hybrid-ae, or drop the option.")
    from recgen.data.features_readers import (
        lastfm_item_features,
        movielens_item_features,
        movielens_user_features,
    )

    kwargs: dict[str, Any] = {}
    info: dict[str, Any] = {}
    if item_spec is not None:
        kind, path = _parse(item_spec, "--item-features", ITEM_KINDS, split_meta)
        feats = lastfm_item_features(path) if kind == "lastfm" else movielens_item_features(path, kind)
        kwargs["item_features"] = feats
        info["item"] = {"kind": kind, "path": str(path), "rows": len(feats.ids), "columns": len(feats.columns),
                        "fields": [f.name for f in feats.fields]}
    if user_spec is not None:
        kind, path = _parse(user_spec, "--user-features", USER_KINDS, split_meta)
        feats = movielens_user_features(path)
        kwargs["user_features"] = feats
        info["user"] = {"kind": kind, "path": str(path), "rows": len(feats.ids), "columns": len(feats.columns),
                        "fields": [f.name for f in feats.fields]}
    return kwargs, info
