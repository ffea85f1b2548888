"""Cold users: a learned map from user features to a model's latent space, segment popularity, and the
explicit fallback chain that decides which of them answers.

For a user with a history, scoring from the history (fold-in) is the answer; for a user with none:

1. ``history``            — the given items, if any is known to the model: ``model.score(row)``;
2. ``feature-map``        — ridge regression from the user's feature row to the latent code the model gives
   training users (``z ≈ [φ(u), 1] · A``, closed form, ``λ = feature_map_l2``), decoded by the model;
3. ``segment-popularity`` — item counts among training users sharing the given feature values; when fewer
   than ``min_segment_users`` share all of them, fields are dropped from the end of the feature order
   (e.g. gender, occupation, age → gender, occupation → gender) until the segment is large enough;
4. ``popularity``         — item counts over all training users.

Each :class:`ColdStartResult` carries ``source`` (the step that answered) and ``chain`` (every step tried,
with why it was skipped), so callers, the CLI and HTTP can report it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from recgen.data.features import Features
from recgen.data.interactions import Interactions
from recgen.data.vocabulary import Vocabulary
from recgen.errors import ConfigError, DataFormatError, UnknownIdError, check_k
from recgen.models.base import binary_rows

STEPS: tuple[str, ...] = ("history", "feature-map", "segment-popularity", "popularity")


@dataclass
class ColdStartResult:
    """Top-k for one cold user: raw item ids, scores, which step answered and every step tried."""

    items: list[str]
    scores: np.ndarray
    source: str
    chain: list[dict[str, Any]] = field(default_factory=list)
    segment: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"items": self.items, "scores": [float(s) for s in self.scores], "source": self.source,
                "chain": self.chain, "segment": self.segment}


def features_to_arrays(feats: Features, prefix: str) -> dict[str, np.ndarray]:
    """All of ``feats`` as arrays (its JSON spec stored as UTF-8 bytes), for safetensors."""
    arrays, spec = feats.to_arrays(prefix)
    arrays[f"{prefix}.spec"] = np.frombuffer(json.dumps(spec).encode("utf-8"), dtype=np.uint8).copy()
    return arrays


def features_from_arrays(arrays: Mapping[str, np.ndarray], prefix: str) -> Features | None:
    if f"{prefix}.spec" not in arrays:
        return None
    spec = json.loads(np.asarray(arrays[f"{prefix}.spec"], dtype=np.uint8).tobytes().decode("utf-8"))
    return Features.from_arrays(arrays, spec, prefix)


def check_features(feats: Any, vocab: Vocabulary, what: str) -> Features | None:
    """``feats`` aligned to ``vocab`` (rows absent → empty and flagged missing); ``None`` passes through."""
    if feats is None:
        return None
    if not isinstance(feats, Features):
        raise DataFormatError(f"{what}_features must be recgen.data.Features, got {type(feats).__name__}; build it "
                              "with Features.from_frame or a reader such as movielens_item_features.")
    aligned = feats.align(vocab)
    if aligned.matrix.nnz == 0:
        raise DataFormatError(f"{what}_features share no ids with the training {what}s (e.g. {vocab.ids[:3].tolist()} "
                              f"vs {feats.ids.ids[:3].tolist()}); check that both use the same raw ids.")
    return aligned


class SegmentPopularity:
    """Popularity among training users who share given feature values (see the module docstring).

    ``fit(train, user_features)`` with ``user_features`` aligned to ``train.users``; ``scores(row)`` returns
    (counts over items, the segment used as {field: value}, its size).
    """

    def __init__(self, min_users: int = 20) -> None:
        if isinstance(min_users, bool) or not isinstance(min_users, int) or min_users < 1:
            raise ConfigError(f"min_segment_users={min_users!r} must be a positive integer, e.g. 20.")
        self.min_users = min_users

    def fit(self, train: Interactions | sp.csr_matrix, user_features: Features) -> SegmentPopularity:
        x = train.matrix if isinstance(train, Interactions) else train
        self.x_ = binary_rows(x)
        self.u_ = binary_rows(user_features.matrix)
        self.features_ = user_features
        self.global_ = np.bincount(self.x_.indices, minlength=x.shape[1]).astype(np.float32)
        return self

    def scores(self, feature_row: sp.csr_matrix) -> tuple[np.ndarray, dict[str, str] | None, int]:
        cols = np.asarray(feature_row.indices, dtype=np.int64)
        cols = cols[np.argsort(self.features_.column_field[cols], kind="stable")]  # in field order
        fields = self.features_.column_field[cols]
        # drop fields from the end of the feature order until the segment is big enough
        for n_fields in range(len(self.features_.fields), 0, -1):
            use = cols[fields < n_fields]
            if len(use) == 0:
                continue
            members = np.asarray(self.u_[:, use].sum(axis=1)).ravel() >= len(use)
            size = int(members.sum())
            if size >= self.min_users:
                counts = np.asarray(self.x_[members].sum(axis=0)).ravel().astype(np.float32)
                seg = {}
                for c in self.features_.columns.ids[use]:
                    key, _, val = str(c).partition("=")
                    seg[key] = val
                return counts, seg, size
        return self.global_.copy(), None, self.x_.shape[0]


def ridge_map(phi: sp.csr_matrix, z: np.ndarray, l2: float) -> np.ndarray:
    """``A`` minimising ‖[φ, 1] A − z‖² + l2 ‖A_φ‖² (the intercept row unpenalised); shape (n_cols + 1, d)."""
    x = sp.hstack([phi, np.ones((phi.shape[0], 1), dtype=np.float32)]).tocsr().astype(np.float64)
    g = (x.T @ x).toarray()
    reg = np.full(g.shape[0], float(l2))
    reg[-1] = 1e-8
    return np.linalg.solve(g + np.diag(reg), np.asarray(x.T @ z.astype(np.float64))).astype(np.float32)


class ColdStartMixin:
    """User-feature cold start for a :class:`~recgen.models.base.Recommender` that has a latent space.

    The model supplies ``_user_latent(rows) -> (n, d)`` and ``_score_latent(z) -> (n, n_items)``; its
    config ``feature_map_l2`` and ``min_segment_users``. ``_fit_user_side(train, user_features)`` runs at the
    end of ``_fit``.
    """

    def _fit_user_side(self, train: Interactions, user_features: Features | None) -> None:
        self.user_features_: Features | None = user_features
        if user_features is None:
            return
        z = self._user_latent(train.matrix)  # type: ignore[attr-defined]
        self.feature_map_ = ridge_map(user_features.matrix, z, self.config.feature_map_l2)  # type: ignore[attr-defined]
        self._segments()

    def _segments(self) -> SegmentPopularity:
        seg = getattr(self, "_segment_cache", None)
        if seg is None:
            seg = SegmentPopularity(self.config.min_segment_users).fit(self.train_, self.user_features_)  # type: ignore[attr-defined]
            self._segment_cache = seg
        return seg

    def _user_state(self) -> dict[str, np.ndarray]:
        if getattr(self, "user_features_", None) is None:
            return {}
        return {**features_to_arrays(self.user_features_, "user_features"), "feature_map": self.feature_map_}

    def _load_user_state(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.user_features_ = features_from_arrays(arrays, "user_features")
        if self.user_features_ is not None:
            self.feature_map_ = np.asarray(arrays["feature_map"], dtype=np.float32)
        self._segment_cache = None

    # ------------------------------------------------------------------ public API
    def score_user_features(self, records: Sequence[Mapping[str, Any]], *,
                            unknown: Literal["error", "ignore"] = "error") -> np.ndarray:
        """Scores (n, n_items) for users described only by raw feature values, through the feature map."""
        feats = self._require_user_features()
        rows, _ = feats.encode(records, unknown=unknown)
        return self.score_feature_rows(rows)

    def score_feature_rows(self, rows: sp.csr_matrix) -> np.ndarray:
        """Scores (n, n_items) from encoded user-feature rows (columns of ``user_features_``) via the feature map."""
        import torch

        x = sp.hstack([rows, np.ones((rows.shape[0], 1), dtype=np.float32)]).tocsr()
        z = np.asarray(x @ self.feature_map_, dtype=np.float32)
        with torch.inference_mode():
            return np.asarray(self._score_latent(z), dtype=np.float32)  # type: ignore[attr-defined]

    def _require_user_features(self) -> Features:
        self._check_fitted()  # type: ignore[attr-defined]
        feats = getattr(self, "user_features_", None)
        if feats is None:
            raise ConfigError(f"{self.name!r} was fitted without user features; fit it with "  # type: ignore[attr-defined]
                              "user_features=movielens_user_features(...) to recommend from features.")
        return feats

    def recommend_cold(self, features: Mapping[str, Any] | None = None, *, items: Sequence[object] | None = None,
                       k: int = 10, unknown: Literal["error", "ignore"] = "error",
                       steps: Sequence[str] = STEPS) -> ColdStartResult:
        """Top-``k`` for one user given by a (possibly empty) history and/or raw feature values, through the
        fallback chain ``steps`` (a subsequence of :data:`STEPS`; e.g. drop "feature-map" to force segments)."""
        self._check_fitted()  # type: ignore[attr-defined]
        n_items = self.n_items  # type: ignore[attr-defined]
        k = check_k(k, n_items)
        bad = [s for s in steps if s not in STEPS]
        if bad or not steps:
            raise ConfigError(f"steps={list(steps)!r} must be a non-empty subsequence of {list(STEPS)}.")
        if features is not None and not isinstance(features, Mapping):
            raise ConfigError(f"features={features!r} must be a mapping such as {{'age': 25, 'gender': 'F'}}.")
        chain: list[dict[str, Any]] = []
        history = sp.csr_matrix((1, n_items), dtype=np.float32)
        if items:
            try:
                history = self.rows_from_items(items, unknown=unknown)  # type: ignore[attr-defined]
            except UnknownIdError as exc:
                raise UnknownIdError(f"{exc} (items={list(items)[:5]!r})") from None
        feature_row, ignored, feats = None, [], getattr(self, "user_features_", None)
        if features:
            feats = self._require_user_features()
            rows, dropped = feats.encode([features], unknown=unknown)
            feature_row, ignored = rows, dropped[0]
        scores, source, segment = None, "", None
        for step in steps:
            if step == "history":
                if history.nnz == 0:
                    chain.append({"step": step, "used": False, "reason": "no known items in the history"})
                    continue
                scores = self.score(history)[0]  # type: ignore[attr-defined]
                chain.append({"step": step, "used": True, "reason": f"{history.nnz} known item(s)"})
            elif step == "feature-map":
                if feature_row is None or feature_row.nnz == 0:
                    why = "no user features given" if feats is None or feature_row is None else "no known feature values"
                    chain.append({"step": step, "used": False, "reason": why})
                    continue
                scores = self.score_feature_rows(feature_row)[0]
                chain.append({"step": step, "used": True, "reason": f"{feature_row.nnz} feature value(s)"})
            elif step == "segment-popularity":
                if feature_row is None or feature_row.nnz == 0:
                    chain.append({"step": step, "used": False, "reason": "no known feature values"})
                    continue
                counts, segment, size = self._segments().scores(feature_row)
                if segment is None:
                    chain.append({"step": step, "used": False, "reason": f"every segment has fewer than "
                                  f"{self.config.min_segment_users} training users"})  # type: ignore[attr-defined]
                    continue
                scores = counts
                chain.append({"step": step, "used": True, "reason": f"{size} training users share "
                              + ",".join(f"{a}={b}" for a, b in segment.items())})
            else:
                scores = np.bincount(binary_rows(self.train_).indices, minlength=n_items).astype(np.float32)  # type: ignore[attr-defined]
                chain.append({"step": step, "used": True, "reason": "all training users"})
            source = step
            break
        if scores is None:
            raise ConfigError(f"no step of steps={list(steps)!r} could answer (see the chain: {chain}); include "
                              "'popularity' as the last step.")
        if ignored:
            chain.insert(0, {"step": "features", "used": False, "reason": f"ignored unknown {', '.join(ignored)}"})
        scores = np.asarray(scores, dtype=np.float32).copy()
        scores[history.indices] = -np.inf
        order = np.lexsort((np.arange(n_items), -scores))[:k]
        return ColdStartResult(self.items_.ids[order].tolist(), scores[order], source, chain,  # type: ignore[attr-defined]
                               segment if source == "segment-popularity" else None)



def coldstart_examples(model: Any, titles: Mapping[str, str] | None = None, *, user_features: Mapping[str, Any],
                       new_item: str | None = None, k: int = 5) -> dict[str, Any]:
    """Two readable examples for docs and the quickstart, from a fitted feature-aware model.

    ``cold_user``: the top-``k`` for a user known only by ``user_features`` (with the fallback chain);
    ``new_item``: an item with zero training interactions (``new_item``, or the first such item that has
    features) with its ``k`` most similar items by the model's item vectors. ``titles`` maps raw item ids to
    names (e.g. ``dict(zip(info.item, info.title))`` from ``recgen.data.read_item_info``).

    >>> ex = coldstart_examples(model, titles, user_features={"age": 25, "gender": "F", "occupation": "student"})
    >>> ex["cold_user"]["source"], [r["title"] for r in ex["new_item"]["similar"]]
    """
    from recgen.models.similar import similar_items

    names = dict(titles or {})

    def named(ids: Sequence[str], scores: np.ndarray) -> list[dict[str, Any]]:
        return [{"item": str(i), "title": names.get(str(i), str(i)), "score": float(s)}
                for i, s in zip(ids, scores, strict=True)]

    res = model.recommend_cold(user_features, k=k)
    counts = np.bincount(binary_rows(model.train_).indices, minlength=model.n_items)
    if new_item is None:
        feats = getattr(model, "item_features_", None)
        has = np.diff(feats.matrix.indptr) > 0 if feats is not None else np.zeros(model.n_items, dtype=bool)
        cands = np.flatnonzero((counts == 0) & has)
        if len(cands) == 0:
            raise ConfigError("new_item=None but the model has no item with zero training interactions and "
                              "features; pass new_item=<an item id> or fit with a cold-items split.")
        new_item = str(model.items_.ids[cands[0]])
    idx = int(model.items_.lookup([new_item], what="item")[0])
    (sim_ids,), sim_scores = similar_items(model, [new_item], k=k)
    return {
        "cold_user": {"features": dict(user_features), "source": res.source, "chain": res.chain,
                      "segment": res.segment, "items": named(res.items, res.scores)},
        "new_item": {"item": new_item, "title": names.get(new_item, new_item), "interactions": int(counts[idx]),
                     "similar": named(sim_ids, sim_scores[0])},
    }

__all__ = ["STEPS", "ColdStartMixin", "ColdStartResult", "SegmentPopularity", "check_features", "coldstart_examples", "features_from_arrays",
           "features_to_arrays", "ridge_map"]
