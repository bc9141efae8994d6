"""A broadcast to 1,000 subscribers survives kill -9 and SIGTERM: nobody is told twice.

The bot runs as a real subprocess (`crowdcheck run`) against the emulator in this process.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import sys
import time

import pytest
from sqlmodel import func, select

from bench._seed import claim_with_subscribers, publish_ready
from factdb.db import Database
from factdb.models import Outbox, OutboxStatus
from tests.emulator import BotApiEmulator

SUBSCRIBERS = 1000
FIRST_ID = 500_000


def _seed_broadcast(db: Database, emu: BotApiEmulator) -> int:
    """A claim with 1,000 subscribers, published: 1,000 notices in the outbox."""
    for i in range(SUBSCRIBERS):
        emu.user(FIRST_ID + i, f"Citizen{i}")

    def work(session) -> int:
        claim_id = claim_with_subscribers(
            session, "Bananas imported this month carry a flesh-eating virus", FIRST_ID, SUBSCRIBERS
        )
        published = publish_ready(
            session,
            claim_id,
            1,
            summary="No virus of that kind exists; health authorities found nothing.",
            source="https://health.example.org/bananas",
        )
        assert published.notified == SUBSCRIBERS
        return claim_id

    return db.transaction(work)


async def _start_bot(
    emu: BotApiEmulator, db: Database, tmp_path, rate: int = 250
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": emu.token,
        "TELEGRAM_API_BASE_URL": emu.base_url,
        "CROWDCHECK_DATABASE_URL": db.url,
        "CROWDCHECK_OUTBOX_RATE": str(rate),
        "CROWDCHECK_OUTBOX_PER_CHAT_INTERVAL": "1",
        "CROWDCHECK_OUTBOX_LEASE_SECONDS": "1",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env=env,
        stdout=open(tmp_path / "bot.log", "ab"),
        stderr=asyncio.subprocess.STDOUT,
    )


def _notices(emu: BotApiEmulator) -> collections.Counter[int]:
    return collections.Counter(
        e["chat_id"] for e in emu.sent_log if e["method"] == "sendMessage" and e["chat_id"] >= FIRST_ID
    )


async def _until(predicate, timeout: float, what: str, what_now=None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {what_now() if what_now else ''}")
        await asyncio.sleep(0.02)


def _statuses(db: Database) -> dict[str, int]:
    with db.session() as s:
        return {
            k: int(v) for k, v in s.exec(select(Outbox.status, func.count()).group_by(Outbox.status)).all()
        }


def _sending(db: Database) -> list:
    from factdb.models import utcnow

    with db.session() as s:
        return [
            (o.chat_id, o.locked_by, o.locked_at, utcnow())
            for o in s.exec(select(Outbox).where(Outbox.status == "sending"))
        ]


async def _broadcast_under_way(
    emu: BotApiEmulator, db: Database, tmp_path, delivered: int
) -> asyncio.subprocess.Process:
    """1,000 notices owed and a bot process sending them, `delivered` of them already out."""
    _seed_broadcast(db, emu)
    bot = await _start_bot(emu, db, tmp_path)
    await _until(lambda: sum(_notices(emu).values()) >= delivered, 60, f"{delivered} notices")
    return bot


async def _finish_with_fresh_worker(emu: BotApiEmulator, db: Database, tmp_path) -> None:
    await asyncio.sleep(1.2)  # past the lease, so the new worker sweeps the dead one's rows
    bot = await _start_bot(emu, db, tmp_path)
    try:
        await _until(
            lambda: _statuses(db).get("pending", 0) == 0 and _statuses(db).get("sending", 0) == 0,
            60,
            "the outbox to drain",
            lambda: (_statuses(db), _sending(db), bot.pid),
        )
        await emu.wait_until_idle(timeout=10)
    finally:
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), 20) == 0


@pytest.mark.timeout(180)
async def test_kill_9_while_paused_by_a_429_then_restart_tells_everyone_exactly_once(
    db: Database, emulator: BotApiEmulator, tmp_path
) -> None:
    bot = await _broadcast_under_way(emulator, db, tmp_path, 300)
    emulator.fail_next(
        "sendMessage", error_code=429, description="Too Many Requests: retry after 5", retry_after=5
    )
    await _until(lambda: any(r["error_code"] == 429 for r in emulator.requests_log), 10, "the 429")
    await asyncio.sleep(0.3)  # the sends already in flight finish; then the worker waits out the 429
    bot.kill()  # SIGKILL: no cleanup at all
    await bot.wait()
    delivered_before = sum(_notices(emulator).values())
    assert 300 <= delivered_before < SUBSCRIBERS
    assert _statuses(db).get("sending", 0) == 0
    await _finish_with_fresh_worker(emulator, db, tmp_path)
    counts = _notices(emulator)
    assert len(counts) == SUBSCRIBERS and set(counts.values()) == {1}
    assert _statuses(db) == {OutboxStatus.SENT: SUBSCRIBERS}


@pytest.mark.timeout(180)
async def test_kill_9_at_any_moment_never_sends_a_notice_twice(
    db: Database, emulator: BotApiEmulator, tmp_path
) -> None:
    bot = await _broadcast_under_way(emulator, db, tmp_path, 400)
    bot.kill()
    await bot.wait()
    await _finish_with_fresh_worker(emulator, db, tmp_path)
    counts = _notices(emulator)
    statuses = _statuses(db)
    assert max(counts.values()) == 1, "somebody got the notice twice"
    # Only a row whose request was on the wire at the kill can be in doubt; it is never resent.
    in_doubt = statuses.get(OutboxStatus.IN_DOUBT, 0)
    assert in_doubt <= 4
    assert statuses.get(OutboxStatus.SENT, 0) + in_doubt == SUBSCRIBERS
    assert SUBSCRIBERS - in_doubt <= len(counts) <= SUBSCRIBERS


@pytest.mark.timeout(180)
async def test_sigterm_mid_broadcast_finishes_what_it_holds_and_a_restart_completes(
    db: Database, emulator: BotApiEmulator, tmp_path
) -> None:
    bot = await _broadcast_under_way(emulator, db, tmp_path, 300)
    bot.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(bot.wait(), 20) == 0
    assert _statuses(db).get("sending", 0) == 0
    await _finish_with_fresh_worker(emulator, db, tmp_path)
    counts = _notices(emulator)
    assert len(counts) == SUBSCRIBERS and set(counts.values()) == {1}
