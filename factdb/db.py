"""The database: one engine, short transactions, the schema kept at Alembic's head.

SQLite (a file, WAL) is the embedded default; PostgreSQL is for several workers. Both run the
same code; the few places that differ (row locking) ask `Database.is_postgres`.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, create_engine

from factdb import models, reach_models  # noqa: F401  (registers the tables on SQLModel.metadata)

log = logging.getLogger(__name__)
T = TypeVar("T")
MIGRATIONS = Path(__file__).with_name("migrations")
# `Database.run`'s threads: as many as asyncio's default executor has (most of the work waits on
# the database, not the CPU), within SQLAlchemy's default pool of 5 + 10 SQLite connections.
RUN_THREADS = min(15, (os.cpu_count() or 1) + 4)


class SchemaOutdated(RuntimeError):
    """The database has an older schema than this code; `crowdcheck db upgrade` fixes it."""


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers work while one writer commits; busy_timeout makes a second writer wait
    # instead of failing at once with "database is locked".
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten with zeros, not just unlinked: what /forget deletes must not
    # stay readable in the file's free space (SECURITY.md, "Erase means erased").
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


def make_engine(url: str, **kw: Any) -> Engine:
    # A failed statement's message must not echo its values: they are citizens' texts, ids and
    # raw updates, and the message ends up in a log.
    kw.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kw)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # pre_ping: after a PostgreSQL restart the pool's old connections are dead; test before use.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kw)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_postgres = self.engine.dialect.name == "postgresql"

    # -- schema ---------------------------------------------------------------------------------
    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(alembic_config(self.engine)).get_current_head()

    def upgrade(self) -> tuple[str | None, str | None]:
        """Create or migrate the schema to head. Running it twice is harmless."""
        before = self.current_revision()
        command.upgrade(alembic_config(self.engine), "head")
        return before, self.current_revision()

    def ensure_schema(self) -> None:
        """Create an empty database; refuse (with advice) to run on an older schema."""
        current = self.current_revision()
        if current == self.head_revision():
            return
        if current is None and not inspect(self.engine).get_table_names():
            self.upgrade()
            return
        raise SchemaOutdated(
            f"The database schema is at {current or 'an unknown version'}, this crowdcheck needs "
            f"{self.head_revision()}: back it up, then run `crowdcheck db upgrade`."
        )

    # -- sessions -------------------------------------------------------------------------------
    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    async def run(self, fn: Callable[[Session], T], *, commit: bool = False) -> T:
        """Run `fn(session)` in a worker thread and return its result: the one door from async
        code to the database. The driver blocks, so a query on the event loop would stall every
        chat and web request while it waits. The session closes when `fn` returns: return plain
        values or loaded objects (they stay readable, detached), not lazy relations.

        Without `commit` it does not commit (`fn` commits its own writes, if any); with it, `fn`
        is one transaction (`transaction`: committed, retried while the database is busy).
        The threads are this database's own and few (`RUN_THREADS`): a burst of updates queues
        here instead of opening more connections than SQLite's single writer or PostgreSQL's
        pool can use, and each session lives and dies in the one thread that made it.
        """

        def work() -> T:
            if commit:
                return self.transaction(fn)
            with self.session() as session:
                return fn(session)

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, contextvars.copy_context().run, work)

    @functools.cached_property
    def _threads(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=RUN_THREADS, thread_name_prefix="db")

    def transaction(self, fn: Callable[[Session], T], *, retries: int = 5) -> T:
        """Run `fn` in one transaction and commit, retrying when the database is briefly away.

        SQLite may report "database is locked" past its busy timeout under heavy write load, and
        PostgreSQL drops connections when it restarts; in both cases the whole unit is safe to
        run again because nothing was committed.
        """
        delay = 0.05
        for attempt in range(retries + 1):
            try:
                with self.session() as session:
                    result = fn(session)
                    session.commit()
                    return result
            except OperationalError as exc:
                if attempt == retries or not _transient(exc):
                    raise
                log.warning("database busy or reconnecting (attempt %d): %s", attempt + 1, exc.orig)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    def ping(self) -> None:
        """`select 1` on a connection of its own: raises when the database does not answer."""
        with self.engine.connect() as conn:
            conn.execute(text("select 1"))

    def checkpoint(self) -> None:
        """SQLite: move every page in the write-ahead log into the file and empty the log.

        The WAL keeps old versions of pages (a deleted row's insert, for one) until a checkpoint
        copies the newest ones back; TRUNCATE then cuts the log to zero bytes, so what was erased
        is not left in `*.db-wal`. It waits (busy_timeout) for readers of older snapshots, and
        tries again while one still holds the log. PostgreSQL has nothing to do here.
        """
        if self.is_postgres or self.engine.url.database in (None, "", ":memory:"):
            return
        for _ in range(20):
            with self.engine.connect() as conn:
                busy, _log_frames, _copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            if not busy:
                return
            time.sleep(0.05)
        log.warning("could not empty the SQLite write-ahead log: readers kept it busy")

    def dispose(self) -> None:
        if "_threads" in self.__dict__:
            self._threads.shutdown(wait=False)
            del self.__dict__["_threads"]
        self.engine.dispose()


def _transient(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return exc.connection_invalidated or any(
        s in text
        for s in ("locked", "busy", "terminating connection", "connection", "server closed", "restart")
    )
