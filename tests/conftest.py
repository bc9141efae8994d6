"""Shared fixtures: a real database (SQLite file and PostgreSQL), the Bot API emulator, and the
whole bot running against both, as it runs in production."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest

from bench._report import pg_reachable, pg_schema
from bot.app import BotRuntime
from bot.config import Config
from factdb.db import Database
from tests.emulator import BotApiEmulator
from tests.harness import Tipline
from tests.web_site import ORG, PUBLIC, Site, open_site

PG_URL = os.environ.get("CROWDCHECK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = [b for b in os.environ.get("CROWDCHECK_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


@pytest.fixture(scope="session")
def pg_available() -> bool:
    ok = pg_reachable(PG_URL)
    if not ok and os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL}; CI must test both databases")
    return ok


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path, pg_available: bool) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a throw-away PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/crowdcheck.sqlite3"
        return
    if not pg_available:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    with pg_schema(f"t_{uuid.uuid4().hex[:12]}", PG_URL) as url:
        yield url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.ensure_schema()
    yield database
    database.dispose()


@pytest.fixture
def empty_db(tmp_path) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    """A second, empty database: where a partner loads what we exported."""
    other = Database(f"sqlite:///{tmp_path}/partner.sqlite3")
    other.ensure_schema()
    yield other
    other.dispose()


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    emu = BotApiEmulator()
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


REVIEW_CHAT = -1001000000001
ADMIN = 9001


def test_config(emu: BotApiEmulator, db: Database, **overrides: object) -> Config:
    base = Config(
        token=emu.token,
        database_url=db.url,
        api_base_url=emu.base_url,
        review_chat_id=REVIEW_CHAT,
        admin_ids=frozenset({ADMIN}),
        public_url="https://checks.example.org",
        org_name="Example Fact Check",
        # Tests talk to loopback; Telegram's real pacing is tested where it is the subject.
        outbox_rate_per_second=500.0,
        outbox_per_chat_interval=0.001,
        outbox_group_per_minute=60000,
    )
    return base.with_overrides(**overrides)


@asynccontextmanager
async def running_bot(
    emu: BotApiEmulator, db: Database, *, config: Config | None = None, **overrides: object
) -> AsyncIterator[Tipline]:
    """The whole bot running against `emu` and `db`, stopped afterwards: with `config`, or with
    test_config's settings and `overrides`."""
    runtime = BotRuntime(config or test_config(emu, db, **overrides), db=db, long_poll_timeout=1)
    await runtime.start()
    try:
        yield Tipline(emu, runtime, db)
    finally:
        await runtime.stop()


@pytest.fixture
async def tipline(db: Database, emulator: BotApiEmulator) -> AsyncIterator[Tipline]:
    emulator.create_group(REVIEW_CHAT, "Moderators", members=[ADMIN])
    async with running_bot(emulator, db) as tipline:
        yield tipline


@pytest.fixture
async def site(db: Database) -> AsyncIterator[Site]:
    """The public site (tests/web_site.py) for an organisation, on `db`, with a reader."""
    async with open_site(Config(database_url=db.url, public_url=PUBLIC, org_name=ORG), db) as site:
        yield site
