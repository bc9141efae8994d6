"""`db upgrade`: create or migrate the schema."""

from __future__ import annotations

import logging

import click

from bot.cli.base import Context, main


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Context) -> None:
    """Create or migrate the schema to the latest version (running it twice is harmless)."""
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


class _MessageStartsWith(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage().startswith(self.prefix)
