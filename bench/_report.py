"""Small helpers the benchmarks (and tests/conftest.py) share: whether PostgreSQL answers, a
throw-away PostgreSQL schema, the command line, a table, the load average, timing a call."""

from __future__ import annotations

import argparse
import functools
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


def print_table(rows: list[dict[str, object]], markdown: bool = False) -> None:
    """Rows under their keys, " | "-separated; `markdown` adds the header's rule line."""
    keys = list(rows[0])
    print(" | ".join(keys))
    if markdown:
        print("|".join("---" for _ in keys))
    for row in rows:
        print(" | ".join(str(row[k]) for k in keys))


def load_average() -> str:
    """The machine's load average (1 / 5 / 15 minutes), to print beside a figure."""
    return "load average " + " / ".join(f"{x:.1f}" for x in os.getloadavg())


def time_calls(owner: object, name: str, into: list[float]) -> None:
    """Replace `owner.name` (a module's function) by one that appends each call's wall seconds
    to `into`: a benchmark times what the code under test does in the background."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - started)

    setattr(owner, name, timed)
