"""A bot with a national-scale claim database takes a while to build its match index at start.

Meanwhile it must not look dead: Telegram's updates are received and stored, and answered once
the index is built; a stop before then keeps them for the next start. The build is made slow
here by holding the index's lock, as a long build does.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlmodel import func, select

from bot.app import BotRuntime
from bot.inbox import inbox_database
from factdb.db import Database
from factdb.models import InboxUpdate
from tests import conftest
from tests.emulator import BotApiEmulator

CITIZEN = 8101
RUMOUR = "The harbour bridge will be closed for three years starting next Monday"


@contextmanager
def index_being_built(runtime: BotRuntime) -> Iterator[None]:
    """Another thread holds the index, as a build of 10^6 claims does for about 90 s."""
    held, done = threading.Event(), threading.Event()

    def build() -> None:
        with runtime.svc.index._lock:
            held.set()
            done.wait(8)  # bounded, so a start-up that waits for it cannot hang the test

    builder = threading.Thread(target=build)
    builder.start()
    held.wait()
    try:
        yield
    finally:
        done.set()
        builder.join()


async def _until(condition, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


def _metrics(runtime: BotRuntime, db: Database) -> str:
    with db.session() as session:
        return runtime.metrics.render(session).decode()


def _stored(db: Database) -> int:
    with inbox_database(db).session() as s:
        return s.exec(select(func.count()).select_from(InboxUpdate)).one()


# A wall-clock bound (start-up does not wait for the index): runs in the serial `timing` phase.
@pytest.mark.timing
async def test_messages_that_arrive_while_the_index_is_built_are_kept_and_answered_after(
    db: Database, emulator: BotApiEmulator
) -> None:
    config = conftest.test_config(emulator, db, metrics_port=0)  # /metrics on a free loopback port
    runtime = BotRuntime(config, db=db, long_poll_timeout=1)
    try:
        with index_being_built(runtime):
            started = time.monotonic()
            await runtime.start()
            assert time.monotonic() - started < 4, "start-up waited for the index"
            emulator.send_text(CITIZEN, RUMOUR)
            await _until(lambda: runtime.inbox.backlog == 1)  # received and stored
            await asyncio.sleep(0.5)
            assert emulator.bot_messages(CITIZEN) == []  # but not answered without an index
            assert "crowdcheck_answering 0.0" in _metrics(runtime, db)  # what an operator sees
        await asyncio.wait_for(runtime.index_ready(), 10)
        assert "crowdcheck_answering 1.0" in _metrics(runtime, db)
        reply = await emulator.wait_for_bot_message(CITIZEN, timeout=10)
        assert "Nobody has asked about this yet" in reply.text
    finally:
        await runtime.stop()


async def test_a_stop_before_the_index_is_built_keeps_the_messages_for_the_next_start(
    db: Database, emulator: BotApiEmulator
) -> None:
    first = BotRuntime(conftest.test_config(emulator, db), db=db, long_poll_timeout=1)
    with index_being_built(first):
        await first.start()
        emulator.send_text(CITIZEN, RUMOUR)
        await _until(lambda: first.inbox.backlog == 1)
        await asyncio.wait_for(first.stop(), 15)  # a SIGTERM now does not hang on the index
    assert emulator.bot_messages(CITIZEN) == []
    assert _stored(db) == 1  # acknowledged to Telegram, so it must still be here

    second = BotRuntime(conftest.test_config(emulator, db), db=db, long_poll_timeout=1)
    await second.start()
    try:
        reply = await emulator.wait_for_bot_message(CITIZEN, timeout=10)
        assert "Nobody has asked about this yet" in reply.text
        assert len(emulator.bot_messages(CITIZEN)) == 1
        await _until(lambda: _stored(db) == 0)
    finally:
        await second.stop()
