"""The HTTP app factory: :func:`create_app` builds a FastAPI app over one model (or a store entry).

All state (the model holder, the inference engine, the settings) lives on the app built by the
factory; there are no module-level globals. Routes are in :mod:`recgen.serving.routes`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import recgen
from recgen.serving.engine import InferenceEngine
from recgen.serving.holder import ModelHolder
from recgen.serving.settings import ServeSettings

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answer: HTTP ``status`` with an :class:`~recgen.serving.schemas.ErrorBody`."""

    def __init__(self, status: int, error: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.hint = status, error, message, hint


def error_response(status: int, error: str, message: str, hint: str | None = None,
                   detail: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": error, "message": message, "hint": hint, "detail": detail}
    return JSONResponse(status_code=status, content=body, headers=headers)


class _TooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds {limit} bytes; send fewer or smaller requests "
                              "(split a batch).")


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413 (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    exc = _TooLarge(self.max_bytes)
                    await error_response(413, "too_large", str(exc.detail))(scope, receive, send)
                    return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return msg

        await self.app(scope, limited, send)


_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 503: "not_ready"}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"Retry-After": "1"} if exc.status == 503 else {"WWW-Authenticate": "Bearer"} if exc.status == 401 \
            else None
        return error_response(exc.status, exc.error, exc.message, exc.hint, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
                  for e in exc.errors()]
        first = detail[0] if detail else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
        return error_response(422, "invalid_request", f"{where}: {first['msg']}",
                              "see /docs or /openapi.json for the request schema", jsonable_encoder(detail))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not decode the body (e.g. not UTF-8): an invalid body
            return error_response(422, "invalid_request", f"body: {exc.detail}; send UTF-8 JSON.",
                                  "see /docs or /openapi.json for the request schema")
        return error_response(exc.status_code, _CODES.get(exc.status_code, "error"), str(exc.detail),
                              headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - a bug
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", f"internal error ({type(exc).__name__}); see the server log.")


def create_app(source: Any, *, name: str | None = None, settings: ServeSettings | None = None) -> FastAPI:
    """Build the service for ``source``: a saved model directory, a model store directory, or a fitted model.

    With a store, ``name`` picks the model (optional when the store holds one) and the service follows
    the store's ``CURRENT`` version (hot reload). The model is loaded in the background once the app
    starts; ``GET /health`` answers 503 until it is ready.
    """
    from recgen.serving.routes import install_routes

    settings = settings or ServeSettings()
    settings.validate()
    holder = ModelHolder(source, name=name, poll_interval=settings.poll_interval)
    engine = InferenceEngine(workers=settings.workers, max_batch=settings.max_batch, max_queue=settings.max_queue)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine.start()
        holder.start()
        try:
            yield
        finally:
            holder.stop()
            engine.stop()

    app = FastAPI(title="recgen recommendation service", version=recgen.__version__, lifespan=lifespan,
                  description="Top-k recommendations from a saved recgen model, for known users or from a "
                              "history of items (users the model never saw).")
    app.state.holder = holder
    app.state.engine = engine
    app.state.settings = settings
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    _install_error_handlers(app)
    install_routes(app, holder, engine, settings)
    return app
