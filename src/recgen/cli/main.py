"""The ``recgen`` command: a thin click layer over the library.

Every :class:`recgen.errors.RecgenError` (and an unwritable output path) becomes one line on stderr,
``error: <message>``, and exit code 2 — never a traceback. Set ``RECGEN_DEBUG=1`` to see the traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import click

import recgen
from recgen.errors import RecgenError

EXIT_ERROR = 2


class CommandError(click.ClickException):
    """A :class:`RecgenError` (or OS error) shown as ``error: <one line>`` with exit code 2."""

    exit_code = EXIT_ERROR

    def show(self, file: Any = None) -> None:  # noqa: D102 - click API
        click.echo(f"error: {self.format_message()}", err=True, file=file)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


class RecgenGroup(click.Group):
    """A click group that turns library errors into one-line messages (also under ``CliRunner``)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (RecgenError, OSError) as exc:
            if os.environ.get("RECGEN_DEBUG"):
                raise
            if isinstance(exc, OSError) and not isinstance(exc, RecgenError):
                where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
                raise CommandError(f"{exc.strerror or _one_line(exc)}{where}") from exc
            raise CommandError(_one_line(exc)) from exc


def _setup_logging(verbose: int, quiet: bool) -> None:
    """Log ``recgen.*`` records to stderr for this command; the previous logger state returns afterwards
    (so invoking the CLI in-process, e.g. from tests, leaves logging as it was)."""
    level = logging.ERROR if quiet else {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logger = logging.getLogger("recgen")
    previous = logger.level
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", "%H:%M:%S"))
    logger.setLevel(level)
    logger.addHandler(handler)

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    click.get_current_context().call_on_close(restore)


@click.group(cls=RecgenGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(recgen.__version__, prog_name="recgen")
@click.option("-v", "--verbose", count=True, help="Log progress on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
def cli(verbose: int, quiet: bool) -> None:
    """recgen: autoencoder and GAN recommenders with honest, full-ranking evaluation.

    \b
    Typical session:
      recgen data prepare ratings.csv --split heldout-users --out work/data
      recgen train ease --data work/data --out work/ease --set l2=250
      recgen evaluate work/ease --data work/data --k 20 50 100
      recgen recommend work/ease --items 12,57,301 --k 10
    """
    _setup_logging(verbose, quiet)


def _register_commands() -> None:
    from recgen.cli.data import data
    from recgen.cli.evaluate import evaluate_cmd
    from recgen.cli.models import models_cmd
    from recgen.cli.quickstart import quickstart_cmd
    from recgen.cli.recommend import recommend_cmd
    from recgen.cli.train import train_cmd

    for cmd in (data, train_cmd, evaluate_cmd, recommend_cmd, models_cmd, quickstart_cmd):
        cli.add_command(cmd)

    from recgen.cli.serve import COMMANDS as serve_commands  # serve, publish, store

    for cmd in serve_commands:
        cli.add_command(cmd)

    from recgen.cli.synth import synth  # synth fit | sample | report | augment

    cli.add_command(synth)

    from recgen.cli.coldstart import COMMANDS as coldstart_commands  # similar

    for cmd in coldstart_commands:
        cli.add_command(cmd)

    from recgen.cli.embed import COMMANDS as embed_commands  # embed

    for cmd in embed_commands:
        cli.add_command(cmd)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``recgen``)."""
    cli.main(args=argv, prog_name="recgen")


if __name__ == "__main__":  # pragma: no cover
    main()
