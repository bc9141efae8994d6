"""Alembic environment: runs against the engine crowdcheck hands it (no alembic.ini needed)."""

from alembic import context
from sqlmodel import SQLModel

from factdb import models, reach_models  # noqa: F401
from factdb.media import pictures  # noqa: F401  (the picture table, so autogenerate keeps it)
from factdb.semantic.store import claim_vector

config = context.config
# claim_vector keeps its own MetaData (factdb/semantic/store.py): without it, autogenerate would
# write a migration that drops the table (tests/test_migrations.py).
target_metadata = [SQLModel.metadata, claim_vector.metadata]


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
