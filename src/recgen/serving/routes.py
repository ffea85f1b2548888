"""The endpoints: health, model info, recommend (single and batch), similar items, admin reload."""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Any

import numpy as np
from fastapi import FastAPI, Header, Path, Query
from fastapi.responses import JSONResponse, Response

from recgen.serving.app import ApiError
from recgen.serving.engine import EngineOverloaded, InferenceEngine, Job, LoadedModel
from recgen.serving.holder import ModelHolder
from recgen.serving.schemas import (
    MAX_K,
    BatchRequest,
    BatchResponse,
    ErrorBody,
    Health,
    ModelInfo,
    RecommendRequest,
    RecommendResponse,
    ReloadResponse,
    SimilarResponse,
)
from recgen.serving.settings import ServeSettings

_E = {"model": ErrorBody}
_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {**_E, "description": "Request body too large"},
    422: {**_E, "description": "Invalid request: bad body, k out of range, unknown item ids under 'reject'"},
    503: {**_E, "description": "No model loaded yet, or too many requests queued (retry)"},
}
_RECOMMEND_ERRORS = {404: {**_E, "description": "Unknown user_id: send the user's history as items"}, **_ERRORS}


def _check_admin(token: str | None, authorization: str | None) -> None:
    """401 unless ``authorization`` is ``Bearer <token>`` (no check when the server has no token)."""
    if token is None:
        return
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ApiError(401, "unauthorized", "POST /admin/reload needs the server's admin token.",
                       hint="send the header 'Authorization: Bearer <token>' with the RECGEN_ADMIN_TOKEN the "
                            "server was started with")


def _show(ids: list[str]) -> str:
    return ", ".join(map(repr, ids[:5])) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def _lookup_items(served: LoadedModel, ids: list[Any], policy: str, field: str) -> tuple[np.ndarray, list[str]]:
    """Item indices of raw ``ids`` (unique, sorted) and the unknown ids (422 under the 'reject' policy)."""
    keys = [str(x) for x in ids]
    index = served.item_index
    idx = np.fromiter((index.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))
    unknown = [keys[i] for i in np.flatnonzero(idx < 0)]
    if unknown and policy == "reject":
        raise ApiError(422, "unknown_item",
                       f"{field} holds {len(unknown)} item id(s) the model does not know: {_show(unknown)} "
                       f"(it knows {served.n_items} items).",
                       hint='drop them, or send "unknown_items": "ignore" to have them ignored and reported')
    return _sorted_unique(idx[idx >= 0]), unknown


def _sorted_unique(idx: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a short index array (a plain sort and mask; requests carry few ids)."""
    idx = np.sort(idx)
    if len(idx) > 1:
        idx = idx[np.concatenate(([True], idx[1:] != idx[:-1]))]
    return idx


def _make_job(served: LoadedModel, req: RecommendRequest, settings: ServeSettings,
              where: str = "") -> tuple[Job, str, list[str]]:
    """Validate one request against the model and turn it into a :class:`Job` (source, ignored ids)."""
    model, n = served.model, served.n_items
    if req.k > n:
        raise ApiError(422, "invalid_request",
                       f"{where}k={req.k} exceeds the catalogue size ({n} items); pass k between 1 and {n}.")
    policy = req.unknown_items or settings.unknown_items
    ignored: list[str] = []
    if req.user_id is not None:
        uid = str(req.user_id)
        u = served.user_index.get(uid, -1)
        if u < 0:
            raise ApiError(404, "unknown_user",
                           f"{where}user_id={uid!r} is not one of the {len(model.users_)} users the model was "
                           "trained on.",
                           hint='send the user\'s history instead: {"items": ["<item id>", ...], "k": 10}')
        hist, values = served.user_history(u)
        source, user_row = "user", u
    else:
        hist, unknown = _lookup_items(served, req.items or [], policy, f"{where}items")
        values = np.ones(len(hist), dtype=np.float32)
        ignored += unknown
        source, user_row = "history", -1
    excl = [hist] if req.exclude_seen else []
    if req.exclude:
        idx, unknown = _lookup_items(served, req.exclude, policy, f"{where}exclude")
        excl.append(idx)
        ignored += unknown
    candidates = None
    if req.candidates is not None:
        candidates, unknown = _lookup_items(served, req.candidates, policy, f"{where}candidates")
        ignored += unknown
    exclude = (excl[0] if len(excl) == 1 else _sorted_unique(np.concatenate(excl))) if excl else None
    popularity = len(hist) == 0
    job = Job(items=hist, values=values, user_row=user_row, k=req.k, exclude=exclude, candidates=candidates,
              popularity=popularity)
    return job, ("popularity" if popularity else source), ignored


def _json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(),
                    media_type="application/json")


def install_routes(app: FastAPI, holder: ModelHolder, engine: InferenceEngine, settings: ServeSettings) -> None:
    """Add the service's endpoints to ``app`` (closures over its own holder and engine)."""

    def ready() -> LoadedModel:
        served = holder.current  # taken once: this request finishes on this model, whatever is swapped in
        if served is None:
            raise ApiError(503, "not_ready", "the model is still loading; retry shortly (see GET /health).",
                           hint=holder.last_error)
        return served

    async def run(fut: Any) -> Any:
        return await asyncio.wrap_future(fut)

    def submit(served: LoadedModel, jobs: list[Job]) -> Any:
        try:
            return engine.submit(served, jobs)
        except EngineOverloaded as exc:
            raise ApiError(503, "overloaded", f"the server is overloaded ({exc}); retry shortly.") from None

    def answer(served: LoadedModel, res: tuple[np.ndarray, np.ndarray], source: str,
               ignored: list[str]) -> dict[str, Any]:
        """A RecommendResponse as a plain dict (built directly: the hot path skips model validation;
        the property-based test checks every answer against the published schema)."""
        idx, vals = res
        ids = served.item_ids
        return {"items": [ids[i] for i in idx], "scores": vals.tolist(), "source": source, "ignored_items": ignored,
                "model": served.name, "version": served.version}

    @app.get("/health", response_model=Health, responses={503: {"model": Health, "description": "Still loading"}},
             tags=["service"])
    async def health() -> Any:
        """Ready (200) once a model is loaded; 503 while loading."""
        served = holder.current
        if served is None:
            body = Health(status="loading", reloads=holder.reloads, last_error=holder.last_error)
            return JSONResponse(status_code=503, content=body.model_dump(), headers={"Retry-After": "1"})
        return Health(status="ready", model=served.name, version=served.version, reloads=holder.reloads,
                      last_error=holder.last_error)

    @app.get("/model", response_model=ModelInfo, responses={503: _ERRORS[503]}, tags=["service"])
    async def model_info() -> ModelInfo:
        """Name, version, config, data fingerprint and metrics of the model being served."""
        served = ready()
        info = served.info
        return ModelInfo(name=served.name, version=served.version, model=str(info.get("model", served.model.name)),
                         config=info.get("config") or {}, recgen_version=info.get("recgen_version"),
                         data_fingerprint=info.get("data_fingerprint"), metrics=served.metrics,
                         n_users=len(served.model.users_), n_items=served.n_items, loaded_at=served.loaded_at)

    @app.post("/recommend", response_model=RecommendResponse, responses=_RECOMMEND_ERRORS, tags=["recommend"])
    async def recommend(req: RecommendRequest) -> Response:
        """Top-k items for a known ``user_id`` or for a history of ``items`` (any user, seen or not)."""
        served = ready()
        job, source, ignored = _make_job(served, req, settings)
        (res,) = await run(submit(served, [job]))
        return _json(answer(served, res, source, ignored))

    @app.post("/recommend/batch", response_model=BatchResponse, responses=_RECOMMEND_ERRORS, tags=["recommend"])
    async def recommend_batch(req: BatchRequest) -> Response:
        """Several requests at once, scored together; one invalid request fails the batch, naming its index."""
        served = ready()
        made = [_make_job(served, r, settings, where=f"requests[{i}].") for i, r in enumerate(req.requests)]
        results = await run(submit(served, [m[0] for m in made]))
        return _json({"results": [answer(served, res, src, ign)
                                  for res, (_, src, ign) in zip(results, made, strict=True)]})

    @app.get("/items/{item_id}/similar", response_model=SimilarResponse,
             responses={404: {**_E, "description": "Unknown item id"}, **_ERRORS}, tags=["recommend"])
    async def similar(item_id: str = Path(min_length=1, max_length=256),
                      k: int = Query(10, ge=1, le=MAX_K, description="How many similar items")) -> SimilarResponse:
        """The items most similar to ``item_id`` under the model's own item representation."""
        served = ready()
        i = served.item_index.get(item_id, -1)
        if i < 0:
            raise ApiError(404, "unknown_item", f"item_id={item_id!r} is not one of the model's {served.n_items} "
                                                "items.", hint="check the id against the training data")
        if k > served.n_items - 1:
            raise ApiError(422, "invalid_request", f"k={k} exceeds the other items in the catalogue "
                                                   f"({served.n_items - 1}); pass k between 1 and {served.n_items - 1}.")
        try:
            fut = engine.submit_similar(served, i, k)
        except EngineOverloaded as exc:
            raise ApiError(503, "overloaded", f"the server is overloaded ({exc}); retry shortly.") from None
        idx, vals, method = await run(fut)
        return SimilarResponse(item=item_id, items=served.model.items_.ids[idx].tolist(), scores=vals.tolist(),
                               method=method, model=served.name, version=served.version)

    if settings.admin:
        @app.post("/admin/reload", response_model=ReloadResponse, tags=["admin"],
                  responses={401: {**_E, "description": "Missing or wrong admin token (when the server has one)"}})
        async def reload(authorization: str | None = Header(default=None)) -> ReloadResponse:
            """Load the store's CURRENT version now (in the background of this request) and swap it in.

            When the server was started with an admin token, send it as ``Authorization: Bearer <token>``.
            """
            _check_admin(settings.admin_token, authorization)
            changed = await asyncio.to_thread(holder.reload)
            cur = holder.current
            return ReloadResponse(changed=changed, version=cur.version if cur else None, last_error=holder.last_error)
