"""Options of the HTTP service (no FastAPI import: the CLI reads its defaults from here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from recgen.errors import ConfigError


@dataclass(frozen=True)
class ServeSettings:
    """Options of the service (the ``recgen serve`` options read their defaults from here)."""

    #: unknown item ids in a request: "reject" answers 422, "ignore" drops them and lists them in the answer
    unknown_items: Literal["reject", "ignore"] = "reject"
    #: largest request body accepted, in bytes (413 beyond)
    max_body_bytes: int = 1 << 20
    #: seconds between checks of the store's CURRENT file (0: only on POST /admin/reload)
    poll_interval: float = 2.0
    #: threads that score (each may use torch's intra-op threads; see `recgen serve --threads`)
    workers: int = 1
    #: most history rows scored in one call
    max_batch: int = 64
    #: most requests waiting to be scored (503 beyond)
    max_queue: int = 4096
    #: expose POST /admin/reload
    admin: bool = True
    #: when set, POST /admin/reload needs ``Authorization: Bearer <admin_token>`` (401 otherwise);
    #: ``recgen serve`` reads it from the RECGEN_ADMIN_TOKEN environment variable, never from the command line
    admin_token: str | None = field(default=None, repr=False)

    def validate(self) -> None:
        if self.unknown_items not in ("reject", "ignore"):
            raise ConfigError(f"unknown_items={self.unknown_items!r} must be 'reject' or 'ignore'.")
        for name in ("max_body_bytes", "workers", "max_batch", "max_queue"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name}={getattr(self, name)!r} must be a positive integer.")
        if self.admin_token is not None and len(self.admin_token) < 16:
            raise ConfigError("admin_token is shorter than 16 characters; use a long random secret, e.g. "
                              "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`.")
        if self.poll_interval < 0:
            raise ConfigError(f"poll_interval={self.poll_interval!r} must be >= 0 (0 disables polling).")
