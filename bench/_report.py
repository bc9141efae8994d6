"""Small helpers the benchmarks (and tests/conftest.py) share: whether PostgreSQL answers, a
throw-away PostgreSQL schema, the command line, a table."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pg_reachable(url: str = PG_BASE) -> bool:
    """Whether the PostgreSQL at `url` answers (the benchmarks and tests skip it when not)."""
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@contextmanager
def pg_schema(name: str, base: str = PG_BASE) -> Iterator[str]:
    """A database URL whose tables live in a fresh schema of the database at `base`, dropped
    afterwards."""
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"))
    try:
        yield f"{base}?options=-csearch_path%3D{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
        admin.dispose()


def arguments(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark's command line; `--help` shows its module docstring (`doc`) as written."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def print_table(rows: list[dict[str, object]]) -> None:
    keys = list(rows[0])
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join(str(row[k]) for k in keys))
