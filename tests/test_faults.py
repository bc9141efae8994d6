"""When Telegram or the database misbehaves, nobody is forgotten and nobody is told twice.

Telegram side: 5xx and gateway timeouts on notices are retried with backoff, a 429 pauses every
send for its retry_after, a 403 (the person blocked the bot) stops all later notices to them.
Database side: a write lock held by someone else, PostgreSQL killing our connections, and two bot
workers sharing one outbox.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import col, func, select

from bench._seed import publish_ready
from bot.app import BotRuntime
from bot.delivery import DeliveryLoop
from factdb import citizens, clarifications, outbox, publishing
from factdb.db import Database
from factdb.models import (
    Citizen,
    Claim,
    ClaimStatus,
    Outbox,
    OutboxStatus,
    Request,
    Subscription,
    utcnow,
)
from tests import conftest
from tests.conftest import ADMIN, REVIEW_CHAT
from tests.emulator import BotApiEmulator
from tests.harness import Tipline

ANSWER = "There's an answer"


def publish(db: Database, claim_id: int, summary: str = "Officials announced nothing of the kind.") -> int:
    """A reviewer's publish, as the review flow leaves it (that flow is tested elsewhere)."""

    def work(session) -> int:
        return publish_ready(
            session, claim_id, ADMIN, summary=summary, source="https://factcheck.example.org/x"
        ).notified

    return db.transaction(work)


async def new_claim(tipline: Tipline, user: int, text: str) -> int:
    """A citizen asks something new and is subscribed to it; returns the claim id."""
    await tipline.ask(user, text)
    with tipline.db.session() as s:
        return s.exec(select(Claim.id).where(Claim.text == text)).one()  # type: ignore[return-value]


def send_attempts(emu: BotApiEmulator, chat: int, since: float = 0.0) -> list[dict]:
    return [
        r
        for r in emu.requests_log
        if r["method"] == "sendMessage"
        and int(r["params"].get("chat_id", 0)) == chat
        and r["timestamp"] >= since
    ]


def notices(emu: BotApiEmulator, chat: int) -> int:
    return sum(ANSWER in m.text for m in emu.bot_messages(chat))


class FrozenClock:
    """The delivery loop's clock, held still: a retry is due only when the test moves it."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def attempts_reach(emu: BotApiEmulator, chat: int, since: float, count: int) -> list[dict]:
    deadline = time.monotonic() + 10
    while len(attempts := send_attempts(emu, chat, since)) < count:
        assert time.monotonic() < deadline, f"chat {chat}: {len(attempts)} of {count} sends"
        await asyncio.sleep(0.02)
    return attempts


async def settle(tipline: Tipline) -> None:
    """Give the delivery loop a few turns (enough for anything due to go out)."""
    tipline.runtime.svc.wake_outbox()
    await asyncio.sleep(0.5)
    await tipline.emu.wait_until_idle()


async def test_bad_gateway_and_gateway_timeout_on_a_notice_are_retried_with_backoff(tipline: Tipline) -> None:
    emu = tipline.emu
    first = await new_claim(tipline, 201, "The city will ban all cars from the centre starting this Saturday")
    second = await new_claim(tipline, 202, "Schools will teach only three days a week from next autumn")
    await emu.wait_until_idle()
    emu.fail_next("sendMessage", error_code=502, chat_id=201)
    emu.fail_next("sendMessage", error_code=504, description="Gateway Timeout", chat_id=202)
    start = time.monotonic()
    publish(tipline.db, first)
    publish(tipline.db, second)
    # Frozen after publishing: both notices are due now, and their retries wait for the test.
    clock = FrozenClock()
    assert tipline.runtime.delivery is not None
    tipline.runtime.delivery.clock = clock
    tipline.runtime.svc.wake_outbox()
    for chat, code in ((201, 502), (202, 504)):
        attempts = await attempts_reach(emu, chat, start, 1)
        assert [a["status"] for a in attempts] == [code]
    deadline = time.monotonic() + 10
    while True:  # the refusal has reached Telegram; wait until the bot has read it
        with tipline.db.session() as s:
            retries = s.exec(
                select(Outbox).where(Outbox.kind == "notice", col(Outbox.chat_id).in_((201, 202)))
            ).all()
        if all(row.status != OutboxStatus.SENDING for row in retries) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    assert len(retries) == 2
    for row in retries:
        assert row.status == OutboxStatus.PENDING and row.attempts == 1
        wait = (row.next_attempt_at - clock.now).total_seconds()
        assert 1.0 <= wait <= 3.0, f"retry scheduled {wait:.2f}s after the failure"
    # Let the real clock run past the longest backoff: the loop follows its own clock only.
    await asyncio.sleep(3.1)
    await settle(tipline)
    assert [len(send_attempts(emu, chat, start)) for chat in (201, 202)] == [1, 1], "retried early"
    clock.advance(0.99)  # still inside the shortest backoff: nothing may be resent
    await settle(tipline)
    assert [len(send_attempts(emu, chat, start)) for chat in (201, 202)] == [1, 1], "no backoff"
    clock.advance(2.02)  # past the longest backoff
    tipline.runtime.svc.wake_outbox()
    for chat, code in ((201, 502), (202, 504)):
        await emu.wait_for_bot_message(chat, lambda m: ANSWER in m.text, timeout=10)
        assert [a["status"] for a in send_attempts(emu, chat, start)] == [code, 200]
    await emu.wait_until_idle()
    assert notices(emu, 201) == notices(emu, 202) == 1


async def test_too_many_requests_pauses_every_send_for_retry_after(tipline: Tipline) -> None:
    runtime = tipline.runtime
    # One sender, so every request after the 429 provably left after the bot read it: the
    # pause is then exact, with no margin for sends already on their way (the workers share
    # one Pacer, so its pause holds them all alike).
    assert runtime.delivery is not None
    await runtime.delivery.stop()
    runtime.delivery = DeliveryLoop(runtime.app.bot, runtime.svc, concurrency=1)
    runtime.delivery.start()
    emu = tipline.emu
    claim = await new_claim(tipline, 203, "The national lottery was rigged by the ministry of finance")
    for user in (204, 205):
        await tipline.ask(user, "The national lottery was rigged by the ministry of finance")
    await emu.wait_until_idle()
    emu.fail_next("sendMessage", error_code=429, retry_after=1)
    start = time.monotonic()
    publish(tipline.db, claim)
    runtime.svc.wake_outbox()
    for user in (203, 204, 205):
        await emu.wait_for_bot_message(user, lambda m: ANSWER in m.text, timeout=10)
    await emu.wait_until_idle()
    sends = [r for r in emu.requests_log if r["method"] == "sendMessage" and r["timestamp"] >= start]
    refused = [r for r in sends if r["status"] == 429]
    assert len(refused) == 1
    after = [
        r["timestamp"] - refused[0]["timestamp"] for r in sends if r["timestamp"] > refused[0]["timestamp"]
    ]
    assert after, "nothing was sent after the 429"
    assert min(after) >= 1.0, f"sent {min(after):.2f}s into a 1 s retry_after pause"
    assert all(notices(emu, user) == 1 for user in (203, 204, 205))


async def test_a_citizen_who_blocked_the_bot_is_marked_and_later_notices_are_dropped(
    tipline: Tipline,
) -> None:
    emu = tipline.emu
    first = await new_claim(tipline, 206, "The hospital on the hill is closing its emergency room for good")
    second = await new_claim(tipline, 206, "Bread prices will triple next month because of a new flour tax")
    await tipline.ask(207, "The hospital on the hill is closing its emergency room for good")
    await emu.wait_until_idle()
    emu.block(206, emit_update=False)  # Telegram only tells us when we try to send
    blocked_at = time.monotonic()
    publish(tipline.db, first)
    tipline.runtime.svc.wake_outbox()
    await emu.wait_for_bot_message(207, lambda m: ANSWER in m.text, timeout=10)
    await emu.wait_until_idle()
    with tipline.db.session() as s:
        assert s.exec(select(Citizen).where(Citizen.telegram_user_id == 206)).one().blocked_bot
    publish(tipline.db, second)
    tipline.runtime.svc.wake_outbox()
    await emu.wait_until_idle()
    await asyncio.sleep(0.3)
    attempts = send_attempts(emu, 206, blocked_at)
    assert [a["status"] for a in attempts] == [403]  # one try, then never again
    with tipline.db.session() as s:
        pending = s.exec(
            select(func.count())
            .select_from(Outbox)
            .where(Outbox.chat_id == 206, Outbox.status == OutboxStatus.PENDING)
        ).one()
    assert pending == 0


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

    def work(session) -> int:
        claim = Claim(
            text="A new virus spreads through mobile phone screens",
            normalized="a new virus spreads through mobile phone screens",
            lang="en",
            status=ClaimStatus.IN_REVIEW,
            request_count=BROADCAST,
        )
        session.add(claim)
        session.flush()
        people = [Citizen(telegram_user_id=FIRST + i, chat_id=FIRST + i, lang="en") for i in range(BROADCAST)]
        session.add_all(people)
        session.flush()
        session.add_all([Subscription(citizen_id=c.id, claim_id=claim.id) for c in people])
        return claim.id  # type: ignore[return-value]

    return db.transaction(work)


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
