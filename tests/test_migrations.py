"""The migrations build the schema the code describes, and undo it, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from factdb.db import Database, alembic_config


def test_the_migrations_build_what_the_models_describe(db: Database) -> None:
    # `alembic check`: autogenerate finds nothing to add, drop or alter (migrations/env.py).
    command.check(alembic_config(db.engine))


def test_every_migration_can_be_undone_and_done_again(db: Database) -> None:
    def tables() -> set[str]:
        return set(inspect(db.engine).get_table_names()) - {"alembic_version"}

    built = tables()
    assert {"claim", "claim_vector", "picture", "group_chat"} <= built
    config = alembic_config(db.engine)
    command.downgrade(config, "base")
    assert tables() == set()
    command.upgrade(config, "head")
    assert tables() == built
    assert db.current_revision() == db.head_revision()
