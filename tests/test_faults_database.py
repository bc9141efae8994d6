"""When the database misbehaves, nobody is forgotten and nobody is told twice: a write lock held
by someone else, PostgreSQL killing our connections, two bot workers sharing one outbox, and an
answer withdrawn while its notices are on their way. Telegram misbehaving: tests/test_faults.py.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import func, select

from bench._seed import claim_with_subscribers
from bot.app import BotRuntime
from factdb import citizens, clarifications, outbox, publishing
from factdb.db import Database
from factdb.models import (
    Citizen,
    Claim,
    Outbox,
    OutboxStatus,
    Request,
    Subscription,
)
from tests import conftest
from tests.conftest import ADMIN, REVIEW_CHAT
from tests.emulator import BotApiEmulator
from tests.harness import Tipline
from tests.test_faults import ANSWER, new_claim, publish


def _hold_write_lock(db: Database, seconds: float, locked: threading.Event) -> None:
    """Someone else (a backup, a migration, a second process) holds the write lock."""
    if db.is_postgres:
        engine = create_engine(db.url)
        try:
            with engine.begin() as conn:
                conn.execute(text("LOCK TABLE processed_update IN EXCLUSIVE MODE"))
                locked.set()
                time.sleep(seconds)
        finally:
            engine.dispose()
        return
    conn = sqlite3.connect(db.url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        locked.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
    finally:
        conn.close()


async def test_a_citizen_writing_while_the_database_is_locked_is_still_answered_and_recorded(
    tipline: Tipline,
) -> None:
    locked = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(tipline.db, 1.0, locked))
    holder.start()
    assert locked.wait(5)
    started = time.monotonic()
    tipline.emu.send_text(208, "A new law makes it illegal to collect rainwater in your garden")
    reply = await tipline.emu.wait_for_bot_message(208, timeout=15)
    waited = time.monotonic() - started
    holder.join()
    assert "Thanks" in reply.text
    assert waited >= 0.5  # it really waited for the lock
    with tipline.db.session() as s:
        assert s.exec(select(func.count()).select_from(Request)).one() == 1


@pytest.fixture
def pg_only(db: Database) -> None:
    if not db.is_postgres:
        pytest.skip("PostgreSQL only")


def _own_database(db: Database, name: str) -> Database:
    """The database under test, through connections we can recognise (and kill) by name."""
    return Database(f"{db.url}&application_name={name}")


def _terminate(db: Database, name: str) -> int:
    engine = create_engine(db.url)
    try:
        with engine.connect() as conn:
            killed = conn.execute(
                text(
                    "select count(pg_terminate_backend(pid)) from pg_stat_activity "
                    "where application_name = :name and pid <> pg_backend_pid()"
                ),
                {"name": name},
            ).scalar_one()
    finally:
        engine.dispose()
    return int(killed)


@pytest.mark.usefixtures("pg_only")
async def test_postgresql_killing_all_our_connections_loses_no_citizen(
    db: Database, emulator: BotApiEmulator
) -> None:
    name = f"cc_faults_{uuid.uuid4().hex[:8]}"
    own = _own_database(db, name)
    emulator.create_group(REVIEW_CHAT, "Moderators", members=[ADMIN])
    runtime = BotRuntime(conftest.test_config(emulator, own), db=own, long_poll_timeout=1)
    await runtime.start()
    try:
        tipline = Tipline(emulator, runtime, own)
        claim = await new_claim(tipline, 210, "Tap water will be switched off in the whole region for a week")
        await emulator.wait_until_idle()
        assert _terminate(db, name) >= 1
        emulator.send_text(211, "Petrol stations will run dry by Friday, fill your tank now")
        reply = await emulator.wait_for_bot_message(211, timeout=15)
        assert "Thanks" in reply.text
        # and once more while a burst of citizens is being handled
        for user in range(212, 217):
            emulator.send_text(user, f"Citizen {user} heard the airport closes for a month from Monday")
        await asyncio.sleep(0.05)
        _terminate(db, name)
        for user in range(212, 217):
            answer = await emulator.wait_for_bot_message(user, timeout=15)
            assert "went wrong" not in answer.text
        publish(own, claim)
        runtime.svc.wake_outbox()
        await emulator.wait_for_bot_message(210, lambda m: ANSWER in m.text, timeout=15)
        with own.session() as s:
            assert s.exec(select(func.count()).select_from(Request)).one() == 7
    finally:
        await runtime.stop()
        own.dispose()


BROADCAST = 500
FIRST = 700_000


def _seed_subscribers(db: Database, emu: BotApiEmulator) -> int:
    for i in range(BROADCAST):
        emu.user(FIRST + i, f"Citizen{i}")

    return db.transaction(
        lambda s: claim_with_subscribers(
            s, "A new virus spreads through mobile phone screens", FIRST, BROADCAST
        )
    )


@pytest.fixture
def two_databases(db: Database) -> Iterator[tuple[Database, Database]]:
    """Two processes' worth of connection pools on one PostgreSQL database."""
    a, b = Database(db.url), Database(db.url)
    yield a, b
    a.dispose()
    b.dispose()


@pytest.mark.usefixtures("pg_only")
async def test_two_bot_workers_share_one_outbox_and_tell_everyone_exactly_once(
    two_databases: tuple[Database, Database], emulator: BotApiEmulator
) -> None:
    db_a, db_b = two_databases
    emulator.create_group(REVIEW_CHAT, "Moderators", members=[ADMIN])
    claim = _seed_subscribers(db_a, emulator)
    config = conftest.test_config(emulator, db_a, outbox_rate_per_second=300.0)
    worker_a = BotRuntime(config, db=db_a, long_poll_timeout=1)
    worker_b = BotRuntime(config, db=db_b, long_poll_timeout=1)
    await worker_a.start()
    await worker_b.start(polling=False)  # one poller, two delivery loops
    try:
        assert publish(db_a, claim) == BROADCAST
        worker_a.svc.wake_outbox()
        worker_b.svc.wake_outbox()
        deadline = time.monotonic() + 30
        while True:
            with db_a.session() as s:
                left = s.exec(
                    select(func.count())
                    .select_from(Outbox)
                    .where(Outbox.kind == "notice", Outbox.status != OutboxStatus.SENT)
                ).one()
            if left == 0 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        await emulator.wait_until_idle()
        told = collections.Counter(
            e["chat_id"] for e in emulator.sent_log if e["method"] == "sendMessage" and e["chat_id"] >= FIRST
        )
        assert left == 0
        assert len(told) == BROADCAST and set(told.values()) == {1}
        assert worker_a.delivery is not None and worker_b.delivery is not None
        print(f"\nworker A sent {worker_a.delivery.sent}, worker B sent {worker_b.delivery.sent}")
        assert worker_a.delivery.sent > 0 and worker_b.delivery.sent > 0
        with db_a.session() as s:
            workers = s.exec(select(func.count(func.distinct(Outbox.locked_by)))).one()
        assert workers in (0, 2)  # locked_by is cleared once sent; never a third
    finally:
        await worker_b.stop()
        await worker_a.stop()


def test_withdrawing_an_answer_reaches_those_whose_copy_was_still_on_its_way(db: Database) -> None:
    """Told = shown the answer, sent, on the wire or in doubt; an answer not yet sent is just dropped."""

    def setup(session) -> tuple[int, list[int]]:
        claim = Claim(
            text="The dam upstream will be opened tonight",
            normalized="the dam upstream will be opened tonight",
        )
        session.add(claim)
        session.flush()
        people = [Citizen(telegram_user_id=900 + i, chat_id=900 + i, lang="en") for i in range(4)]
        session.add_all(people)
        session.flush()
        for person in people:
            session.add(Subscription(citizen_id=person.id, claim_id=claim.id))
        return claim.id, [p.id for p in people]  # type: ignore[return-value]

    claim_id, (sent, on_wire, in_doubt, not_yet) = db.transaction(setup)
    publish(db, claim_id)
    with db.session() as s:
        by_citizen = {row.citizen_id: row.id for row in s.exec(select(Outbox).where(Outbox.kind == "notice"))}
        # Three answers are taken by a worker; one is not reached before the retraction.
        s.exec(select(Outbox).where(Outbox.id == by_citizen[not_yet])).one().next_attempt_at += timedelta(
            hours=1
        )
        s.commit()
        taken = outbox.claim_next(s, "w1", is_postgres=db.is_postgres, batch=10)
    assert {job.citizen_id for job in taken} == {sent, on_wire, in_doubt}
    with db.session() as s:
        outbox.mark_sent(s, by_citizen[sent], 1)
        row = s.get(Outbox, by_citizen[in_doubt])
        row.status = OutboxStatus.IN_DOUBT  # its worker died mid-send
        s.add(row)
        s.commit()

    told = db.transaction(
        lambda s: publishing.retract(s, claim_id, ADMIN, "The photo was from another year.")
    )

    assert told == 3
    with db.session() as s:
        retracted_for = {r.citizen_id for r in s.exec(select(Outbox).where(Outbox.kind == "retraction"))}
        assert retracted_for == {sent, on_wire, in_doubt}
        assert clarifications.for_language(s, claim_id, "en") is None  # the late answer renders to nothing
        assert citizens_told(s, claim_id) == {sent, on_wire, in_doubt}


def citizens_told(session, claim_id: int) -> set[int]:
    people = session.exec(select(Citizen)).all()
    return {p.id for p in people if citizens.was_told(session, p.id, claim_id)}
