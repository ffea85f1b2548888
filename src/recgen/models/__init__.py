"""Recommender models: one registry, one estimator API (see :mod:`recgen.models.base`)."""

from recgen.models.base import Recommender, load_model
from recgen.models.registry import available_models, create_model, get_model_class, register

__all__ = ["Recommender", "load_model", "available_models", "create_model", "get_model_class", "register"]
