"""Serving: an HTTP recommendation service over saved models, and a versioned model store.

``recgen.serving.ModelStore`` needs nothing beyond recgen itself; :func:`create_app` needs the
``serve`` extra (FastAPI, uvicorn): ``pip install 'recgen[serve]'``. It is imported on first use, so
``import recgen.serving`` works without FastAPI.
"""

from __future__ import annotations

from typing import Any

from recgen.serving.store import ModelStore, check_artifact, is_artifact

__all__ = ["ModelStore", "check_artifact", "is_artifact", "create_app", "ServeSettings", "similar_items"]


def __getattr__(name: str) -> Any:
    if name == "ServeSettings":
        from recgen.serving.settings import ServeSettings

        return ServeSettings
    if name == "create_app":
        try:
            from recgen.serving import app
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(f"recgen.serving.{name} needs FastAPI ({exc}); install it with "
                              "pip install 'recgen[serve]'.") from exc
        return getattr(app, name)
    if name == "similar_items":
        from recgen.serving.similar import similar_items

        return similar_items
    raise AttributeError(f"module 'recgen.serving' has no attribute {name!r}")
