"""The estimator API every recgen model implements.

A model is a frozen config dataclass plus learned state (attributes ending in ``_``).
The core primitive is :meth:`Recommender.score`: from users' interaction rows (histories) to
scores over all items, so users never seen in training are served by fold-in.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import scipy.sparse as sp
import torch

import recgen
from recgen._io import atomic_dir, load_arrays, read_json, save_arrays, write_json
from recgen.data.dataset import EvalSet
from recgen.data.interactions import Interactions
from recgen.data.vocabulary import Vocabulary
from recgen.errors import ArtifactError, DataFormatError, NotFittedError, UnknownIdError, check_k
from recgen.models.config import config_to_dict, make_config

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


def as_rows(rows: Any, n_items: int, *, name: str = "rows") -> sp.csr_matrix:
    """Coerce histories to a float32 CSR with ``n_items`` columns, or raise naming the problem."""
    if isinstance(rows, Interactions):
        rows = rows.matrix
    if not sp.issparse(rows):
        arr = np.asarray(rows, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr[None, :]
        rows = sp.csr_matrix(arr)
    rows = sp.csr_matrix(rows, dtype=np.float32)
    if rows.shape[1] != n_items:
        raise DataFormatError(
            f"{name} has {rows.shape[1]} item columns but the model knows {n_items} items; build rows over the "
            "model's item vocabulary (model.items_), e.g. with model.rows_from_items(...)."
        )
    return rows


def binary_rows(rows: sp.csr_matrix, implicit: bool = True) -> sp.csr_matrix:
    """``rows`` with every stored value set to 1 when ``implicit`` (a copy; the input is never mutated)."""
    if not implicit:
        return rows
    out = sp.csr_matrix(rows, copy=True)
    out.data = np.ones_like(out.data)
    return out


class Recommender(ABC):
    """Base class: ``fit(train) -> self``, ``score(rows)``, ``recommend``, ``save`` / ``load``.

    Subclasses set ``name`` and ``config_cls`` and implement ``_fit``, ``_score`` and, for learned
    tensors, ``_state`` / ``_load_state``. Every hyperparameter lives in ``self.config``.
    """

    name: ClassVar[str] = ""
    config_cls: ClassVar[type]
    #: "implicit" models rank items; "explicit" ones also predict ratings (AutoRec)
    task: ClassVar[Literal["implicit", "explicit"]] = "implicit"

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        self.config = make_config(self.config_cls, config, overrides)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config})"

    # ------------------------------------------------------------------ fitting
    def fit(self, train: Interactions, validation: EvalSet | None = None) -> Recommender:
        """Learn from ``train``; ``validation`` (when given) drives early stopping / selection."""
        if not isinstance(train, Interactions):
            raise DataFormatError(
                f"train must be recgen.data.Interactions, got {type(train).__name__}; "
                "load data with recgen.data.read_interactions or Interactions.from_frame."
            )
        if train.nnz == 0:
            raise DataFormatError("train has no interactions; check the data and its filters.")
        self.items_: Vocabulary = train.items
        self.users_: Vocabulary = train.users
        self.train_: sp.csr_matrix = train.matrix
        self._fit(train, validation)
        return self

    @abstractmethod
    def _fit(self, train: Interactions, validation: EvalSet | None) -> None: ...

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "items_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(train) or recgen.load_model(path) first.")

    @property
    def n_items(self) -> int:
        self._check_fitted()
        return len(self.items_)

    # ------------------------------------------------------------------ scoring
    def score(self, rows: Any, *, user_rows: np.ndarray | None = None) -> np.ndarray:
        """Scores (n_rows, n_items), float32, higher is better, from users' interaction rows.

        ``user_rows`` optionally gives each row's index in the training matrix (``-1`` for unseen
        users); only models with per-user parameters use it.
        """
        self._check_fitted()
        x = as_rows(rows, self.n_items)
        with torch.inference_mode():
            out = self._score(x, user_rows)
        return np.asarray(out, dtype=np.float32)

    @abstractmethod
    def _score(self, rows: sp.csr_matrix, user_rows: np.ndarray | None) -> np.ndarray: ...

    def rows_from_items(self, items: Sequence[object], *, unknown: Literal["error", "ignore"] = "error",
                        values: Sequence[float] | None = None) -> sp.csr_matrix:
        """One history row from raw item ids (for a user the model never saw)."""
        self._check_fitted()
        idx = self.items_.lookup(items, unknown=unknown, what="item")
        vals = np.ones(len(idx), dtype=np.float32) if values is None else np.asarray(values, dtype=np.float32)
        keep = idx >= 0
        idx, vals = idx[keep], vals[keep]
        row = sp.csr_matrix((vals, (np.zeros(len(idx), dtype=np.int64), idx)), shape=(1, self.n_items))
        row.sum_duplicates()
        return row

    def user_history(self, users: Sequence[object]) -> tuple[sp.csr_matrix, np.ndarray]:
        """Training rows of known raw user ids (raises :class:`UnknownIdError` with a hint)."""
        self._check_fitted()
        try:
            idx = self.users_.lookup(users, what="user")
        except UnknownIdError as exc:
            raise UnknownIdError(f"{exc} Unknown users can be served from their history: pass items=[...].") from None
        return self.train_[idx], idx

    def recommend(self, users: Sequence[object] | None = None, *, items: Sequence[object] | None = None,
                  k: int = 10, exclude_seen: bool = True, unknown: Literal["error", "ignore"] = "error"
                  ) -> tuple[list[list[str]], np.ndarray]:
        """Top-``k`` raw item ids and their scores, for known ``users`` or for one history ``items``."""
        self._check_fitted()
        k = check_k(k, self.n_items)
        if (users is None) == (items is None):
            raise DataFormatError("pass exactly one of users=[...] (known users) or items=[...] (a history).")
        if users is not None:
            rows, user_rows = self.user_history(users)
        else:
            rows, user_rows = self.rows_from_items(items or [], unknown=unknown), None
        scores = self.score(rows, user_rows=user_rows)
        if exclude_seen:
            scores[rows.nonzero()] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        return [self.items_.ids[t].tolist() for t in top], np.take_along_axis(scores, top, axis=1)

    # ------------------------------------------------------------------ persistence
    def _state(self) -> dict[str, np.ndarray]:
        """Learned arrays to save (besides vocabularies and the training matrix)."""
        return {}

    def _load_state(self, arrays: dict[str, np.ndarray]) -> None:  # noqa: B027 - optional hook
        """Restore what :meth:`_state` saved."""

    def _extra_meta(self) -> dict[str, Any]:
        """Small JSON-able learned values (e.g. training history) saved in config.json."""
        return {}

    def _load_extra_meta(self, meta: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Restore what :meth:`_extra_meta` saved."""

    def save(self, path: str | os.PathLike[str], *, metrics: dict[str, Any] | None = None,
             data_fingerprint: str | None = None) -> Path:
        """Write the model directory atomically: config.json, weights.safetensors, vocab.json, metrics.json."""
        self._check_fitted()
        arrays = {f"state.{k}": np.asarray(v) for k, v in self._state().items()}
        tr = self.train_
        arrays.update({"train.indptr": tr.indptr.astype(np.int64), "train.indices": tr.indices.astype(np.int32),
                       "train.data": tr.data.astype(np.float32)})
        with atomic_dir(path) as tmp:
            write_json(tmp / "config.json", {
                "model": self.name, "config": config_to_dict(self.config), "recgen_version": recgen.__version__,
                "format_version": FORMAT_VERSION, "data_fingerprint": data_fingerprint,
                "meta": self._extra_meta(),
            })
            write_json(tmp / "vocab.json", {"users": self.users_.to_list(), "items": self.items_.to_list()})
            write_json(tmp / "metrics.json", metrics or {})
            save_arrays(tmp / "weights.safetensors", arrays)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Recommender:
        """Load a directory written by :meth:`save` (never unpickles)."""
        from recgen.models.registry import get_model_class

        p = Path(path)
        if not p.is_dir():
            raise ArtifactError(f"model path {str(p)!r} is not a directory; pass the --out directory of `recgen train`.")
        cfg = read_json(p / "config.json")
        if cfg.get("format_version") != FORMAT_VERSION:
            raise ArtifactError(
                f"{str(p)!r} has artifact format {cfg.get('format_version')!r} (recgen {cfg.get('recgen_version')}); "
                f"this recgen ({recgen.__version__}) reads format {FORMAT_VERSION}. Retrain or use that version."
            )
        klass = get_model_class(cfg["model"])
        if cls is not Recommender and not issubclass(klass, cls):
            raise ArtifactError(f"{str(p)!r} holds a {cfg['model']!r} model, not {cls.__name__}.")
        model = klass(**cfg["config"])
        vocab = read_json(p / "vocab.json")
        arrays = load_arrays(p / "weights.safetensors")
        model.users_ = Vocabulary(vocab["users"])
        model.items_ = Vocabulary(vocab["items"])
        model.train_ = sp.csr_matrix((arrays["train.data"], arrays["train.indices"], arrays["train.indptr"]),
                                     shape=(len(model.users_), len(model.items_)))
        model._load_state({k[len("state."):]: v for k, v in arrays.items() if k.startswith("state.")})
        model._load_extra_meta(cfg.get("meta") or {})
        return model


def load_model(path: str | os.PathLike[str]) -> Recommender:
    """Load any saved recgen model directory."""
    return Recommender.load(path)
