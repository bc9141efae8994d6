"""`db upgrade`: create or migrate the schema (and bring stored claim vectors up to date)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from bot.cli.base import Context, main

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option(
    "--vectors/--no-vectors",
    default=True,
    show_default=True,
    help="Also recompute the claims' vectors made by another model or recipe (semantic stage, ~80 ms a claim).",
)
@click.pass_obj
def db_upgrade(obj: Context, vectors: bool) -> None:
    """Create or migrate the schema to the latest version (running it twice is harmless).

    With the semantic package installed, claim vectors made by an older model or recipe are
    recomputed too (a progress bar shows it): until then matching stays lexical."""
    database = obj.database(create=False)
    # Only the steps Alembic runs ("Running upgrade 0002 -> 0003, …"), so an up-to-date schema
    # prints one line and nothing else.
    steps = logging.getLogger("alembic.runtime.migration")
    only_steps = _MessageStartsWith("Running upgrade")
    level = steps.level
    steps.setLevel(logging.INFO)
    steps.addFilter(only_steps)
    try:
        before, after = database.upgrade()
    finally:
        steps.removeFilter(only_steps)
        steps.setLevel(level)
    if before == after:
        click.echo(f"The schema is up to date ({after}).")
    else:
        click.echo(f"Schema upgraded from {before or 'empty'} to {after}.")
    if vectors:
        _upgrade_vectors(database.engine)


def _upgrade_vectors(engine: Engine) -> None:
    """Recompute the stored claim vectors when some were made by another model or recipe (a
    database with no vectors is left alone: `crowdcheck import` makes them)."""
    from factdb import semantic

    if not semantic.wanted():
        return
    from factdb.semantic.store import other_model_vectors

    current = semantic.model_id()
    if not (old := other_model_vectors(engine, current)):
        return
    from factdb.semantic.stage import sync_with_progress_bar

    click.echo(f"{old} claim vectors were made by another model or recipe; recomputing them ({current}).")
    embedded = sync_with_progress_bar(engine)
    click.echo(f"{embedded} claim vectors computed.")


class _MessageStartsWith(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage().startswith(self.prefix)
