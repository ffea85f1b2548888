"""``recgen serve``, ``recgen publish`` and ``recgen store``: the HTTP service and the model store.

FastAPI and uvicorn (the ``serve`` extra) are imported only when ``recgen serve`` runs; publishing and
managing a store need nothing beyond recgen.
"""

from __future__ import annotations

import dataclasses
import logging
import os

import click

from recgen.serving.settings import ServeSettings
from recgen.serving.store import ModelStore

log = logging.getLogger(__name__)

#: environment variable holding the bearer token of POST /admin/reload (kept off the command line and `ps`)
ADMIN_TOKEN_ENV = "RECGEN_ADMIN_TOKEN"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _serve_defaults() -> dict[str, object]:
    """Defaults of ``recgen serve`` come from :class:`recgen.serving.settings.ServeSettings` (one source)."""
    return {f.name: f.default for f in dataclasses.fields(ServeSettings)}


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


_D = _serve_defaults()


@click.command("serve")
@click.argument("source", metavar="ARTIFACT_OR_STORE")
@click.option("--name", default=None, help="Model name in the store (needed when the store holds several).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=int, default=8000, show_default=True, help="TCP port.")
@click.option("--unknown-items", type=click.Choice(["reject", "ignore"]), default=_D["unknown_items"],
              show_default=True, help="Unknown item ids in a request: 422, or drop and report them.")
@click.option("--poll", "poll_interval", type=float, default=_D["poll_interval"], show_default=True,
              help="Seconds between checks of the store for a new CURRENT version (0: only POST /admin/reload).")
@click.option("--threads", type=int, default=None,
              help="torch intra-op threads per scoring worker [default: cores - 1, at least 1].")
@click.option("--workers", type=int, default=_D["workers"], show_default=True,
              help="Scoring threads (workers × threads should not exceed the cores).")
@click.option("--max-batch", type=int, default=_D["max_batch"], show_default=True,
              help="Most queued requests scored in one call.")
@click.option("--max-body-bytes", type=int, default=_D["max_body_bytes"], show_default=True,
              help="Largest request body (413 beyond).")
@click.option("--no-admin", is_flag=True,
              help="Do not expose POST /admin/reload. With it exposed, the environment variable RECGEN_ADMIN_TOKEN "
                   "(if set) is the bearer token it requires; it must be set to listen beyond loopback.")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]), default="info",
              show_default=True, help="uvicorn's log level.")
def serve_cmd(source: str, name: str | None, host: str, port: int, unknown_items: str, poll_interval: float,
              threads: int | None, workers: int, max_batch: int, max_body_bytes: int, no_admin: bool,
              log_level: str) -> None:
    """Serve a saved model (or a store entry, following its CURRENT version) over HTTP.

    \b
    Endpoints: GET /health, GET /model, POST /recommend, POST /recommend/batch,
    GET /items/{id}/similar, POST /admin/reload; the OpenAPI schema is at /openapi.json, docs at /docs.
    \b
      recgen serve work/ease --port 8000
      curl -s localhost:8000/recommend -H 'content-type: application/json' -d '{"items": ["12", "57"], "k": 5}'
    """
    try:
        import uvicorn

        from recgen.serving.app import create_app
    except ImportError as exc:
        raise click.ClickException(f"`recgen serve` needs FastAPI and uvicorn ({exc}); install them with "
                                   "pip install 'recgen[serve]'.") from exc
    import torch

    token = os.environ.get(ADMIN_TOKEN_ENV) or None
    if not no_admin and token is None and host not in _LOOPBACK:
        raise click.UsageError(f"--host {host} listens beyond this machine, and POST /admin/reload would be open to "
                               f"anyone who reaches it: set {ADMIN_TOKEN_ENV} to a long random secret (clients then "
                               "send 'Authorization: Bearer <token>'), or pass --no-admin.")
    threads = threads if threads is not None else max(1, _cores() - 1)
    if threads < 1:
        raise click.BadParameter(f"--threads {threads} must be at least 1.", param_hint="--threads")
    # the process is ours: bound torch's pool so workers × threads (+ the HTTP loop) fit the cores
    torch.set_num_threads(threads)
    settings = ServeSettings(unknown_items=unknown_items, max_body_bytes=max_body_bytes,  # type: ignore[arg-type]
                             poll_interval=poll_interval, workers=workers, max_batch=max_batch, admin=not no_admin,
                             admin_token=token)
    app = create_app(source, name=name, settings=settings)
    log.info("serving %s on http://%s:%d (%d scoring worker(s) × %d torch thread(s))", source, host, port,
             workers, threads)
    uvicorn.run(app, host=host, port=port, log_level=log_level, workers=1, access_log=False)


@click.command("publish")
@click.argument("artifact", metavar="ARTIFACT")
@click.option("--store", "store_dir", required=True, metavar="DIR", help="The model store directory.")
@click.option("--name", required=True, help="Model name in the store.")
@click.option("--no-activate", is_flag=True, help="Copy in as a new version but keep serving the current one.")
def publish_cmd(artifact: str, store_dir: str, name: str, no_activate: bool) -> None:
    """Copy a saved model into a store as NAME's next version (atomically) and make it current.

    A service started with `recgen serve STORE` picks the new version up without dropping requests.
    """
    store = ModelStore(store_dir)
    version = store.publish(artifact, name, activate=not no_activate)
    state = "now current" if not no_activate else f"current stays {store.current(name)}"
    click.echo(f"{name} version {version} published to {store_dir} ({state})")


@click.group("store")
def store_group() -> None:
    """Inspect a model store, roll back or activate a version."""


@store_group.command("list")
@click.argument("store_dir", metavar="STORE")
def store_list(store_dir: str) -> None:
    """Models in STORE with their versions; '*' marks the current one."""
    store = ModelStore(store_dir)
    names = store.names()
    if not names:
        click.echo(f"{store_dir}: no models")
    for n in names:
        try:
            cur = store.current(n)
        except Exception:  # noqa: BLE001 - listing must show broken entries too
            cur = None
        shown = " ".join(f"{v}*" if v == cur else v for v in store.versions(n))
        click.echo(f"{n}: {shown}")


@store_group.command("rollback")
@click.option("--store", "store_dir", required=True, metavar="DIR", help="The model store directory.")
@click.option("--name", required=True, help="Model name in the store.")
@click.option("--to", "to", default=None, metavar="VERSION", help="Version to go back to [default: the previous].")
def store_rollback(store_dir: str, name: str, to: str | None) -> None:
    """Make the previous version (or --to VERSION) current again; services follow within --poll seconds."""
    version = ModelStore(store_dir).rollback(name, to=to)
    click.echo(f"{name}: version {version} is current")


@store_group.command("activate")
@click.option("--store", "store_dir", required=True, metavar="DIR", help="The model store directory.")
@click.option("--name", required=True, help="Model name in the store.")
@click.argument("version")
def store_activate(store_dir: str, name: str, version: str) -> None:
    """Make VERSION of NAME current."""
    label = ModelStore(store_dir).activate(name, version)
    click.echo(f"{name}: version {label} is current")


COMMANDS = (serve_cmd, publish_cmd, store_group)
