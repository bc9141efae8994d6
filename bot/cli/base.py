"""The `crowdcheck` group: configuration, logging, the database on first use, and what every
command shares. The commands live beside it, one module per group (bot/cli/__init__.py)."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click

from bot import config as cfg
from factdb.db import Database, SchemaOutdated


class Context:
    def __init__(self, config: cfg.Config) -> None:
        self.config = config

    def database(self, *, create: bool = True) -> Database:
        db = Database(self.config.database_url)
        if create:
            try:
                db.ensure_schema()
            except SchemaOutdated as exc:
                raise click.ClickException(str(exc)) from None
        return db


class _RedactDatabaseDetails(logging.Filter):
    """PostgreSQL's error DETAIL quotes the values of the row at fault ("Key (telegram_user_id)=
    (…) already exists", "Failing row contains (…)"); SQLAlchemy's hide_parameters cannot hide
    what the server wrote. Rewrites the message and the formatted traceback before any handler
    writes them."""

    _KEY = re.compile(
        r"(Key \([^)\n]*\)=\().*?(\) (?:already exists|is not present|is still referenced|conflicts))"
    )
    _ROW = re.compile(r"(Failing row contains )\(.*")

    def _clean(self, text: str) -> str:
        return self._ROW.sub(r"\1(…)", self._KEY.sub(r"\1…\2", text))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        return True


_REDACT = _RedactDatabaseDetails()


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        if _REDACT not in handler.filters:
            handler.addFilter(_REDACT)
    # httpx logs every request URL at INFO, and the URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # Alembic says "Context impl SQLiteImpl." each time any command checks the schema version:
    # noise on ordinary commands. `db upgrade` shows the steps it actually runs.
    if not verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)


def version() -> str:
    """This checkout's version (pyproject.toml beside the code), else the installed one's."""
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        import tomllib

        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, ValueError):
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as installed

        try:
            return installed("crowdcheck")
        except PackageNotFoundError:
            return "unknown"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version(), "-V", "--version", prog_name="crowdcheck", message="%(prog)s %(version)s")
@click.option("--database-url", envvar=None, help="Overrides CROWDCHECK_DATABASE_URL.")
@click.option("--api-base-url", help="Overrides TELEGRAM_API_BASE_URL (e.g. an emulator).")
@click.option("--review-chat-id", type=int, help="Overrides CROWDCHECK_REVIEW_CHAT_ID.")
@click.option("--admin-ids", help="Overrides CROWDCHECK_ADMIN_IDS (comma-separated user ids).")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging (may include message text).")
@click.pass_context
def main(
    ctx: click.Context,
    database_url: str | None,
    api_base_url: str | None,
    review_chat_id: int | None,
    admin_ids: str | None,
    verbose: bool,
) -> None:
    """crowdcheck: a Telegram tipline for crowdsourced fact-checking.

    Configuration comes from the environment (TELEGRAM_BOT_TOKEN, CROWDCHECK_DATABASE_URL,
    TELEGRAM_API_BASE_URL, CROWDCHECK_REVIEW_CHAT_ID, CROWDCHECK_ADMIN_IDS, …); the options
    above override it.
    """
    setup_logging(verbose)
    try:
        config = cfg.load()
        config = config.with_overrides(
            database_url=cfg.normalise_database_url(database_url) if database_url else None,
            api_base_url=api_base_url,
            review_chat_id=review_chat_id,
            admin_ids=cfg.parse_admin_ids(admin_ids) if admin_ids else None,
        )
    except cfg.ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    ctx.obj = Context(config)


def warn_once_started(
    start: Callable[[], Awaitable[None]], config: cfg.Config
) -> Callable[[], Awaitable[None]]:
    """`start`, then the set-up warnings an operator should read once (after start-up errors,
    which stop us with one line of their own)."""

    async def started() -> None:
        await start()
        from factdb.interchange.claimreview import missing_public_url_warning

        if warning := missing_public_url_warning(config.public_url):
            logging.getLogger("crowdcheck").warning(warning)

    return started


def progress() -> Any:
    """Progress bars on stderr for import and export, only when someone watches a terminal."""
    from bot.cli.progress import Progress

    return Progress(enabled=sys.stderr.isatty())
