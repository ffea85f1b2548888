"""Exceptions raised by recgen.

Every message names the argument, the value received and the fix. The CLI turns any
:class:`RecgenError` into a one-line message and a non-zero exit code.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class RecgenError(Exception):
    """Base class of every error recgen raises on purpose."""


class DataFormatError(RecgenError, ValueError):
    """An input file or frame is malformed (missing column, unparsable value, empty file...)."""


class ConfigError(RecgenError, ValueError):
    """A hyperparameter or option has an invalid name or value."""


class UnknownModelError(RecgenError, KeyError):
    """A model name is not in the registry."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class UnknownIdError(RecgenError, KeyError):
    """A raw user or item id is not in the vocabulary."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class NotFittedError(RecgenError, RuntimeError):
    """A method that needs learned state was called before ``fit``."""


class ArtifactError(RecgenError, OSError):
    """A saved model or prepared dataset directory is missing, incomplete or from another version."""


class DownloadError(RecgenError, OSError):
    """A download failed, or its checksum or counts did not match the publisher's."""


def suggest(value: str, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the nearest choice, or an empty string."""
    close = difflib.get_close_matches(str(value), list(choices), n=1, cutoff=0.5)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_k(k: int, n_items: int, *, name: str = "k") -> int:
    """Validate a cut-off ``k`` against the catalogue size and return it as ``int``."""
    if isinstance(k, bool) or not isinstance(k, int | float) or int(k) != k:
        raise ConfigError(f"{name}={k!r} is not an integer; pass a whole number such as 20.")
    k = int(k)
    if k <= 0:
        raise ConfigError(f"{name}={k} must be positive; pass a value between 1 and {n_items}.")
    if k > n_items:
        raise ConfigError(
            f"{name}={k} exceeds the catalogue size ({n_items} items); pass a value between 1 and {n_items}."
        )
    return k
