"""When Telegram misbehaves, nobody is forgotten and nobody is told twice: 5xx and gateway
timeouts on notices are retried with backoff, a 429 pauses every send for its retry_after, a 403
(the person blocked the bot) stops all later notices to them. The database misbehaving:
tests/test_faults_database.py.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from sqlmodel import col, func, select

from bench._seed import publish_ready
from bot.delivery import DeliveryLoop
from factdb.db import Database
from factdb.models import (
    Citizen,
    Claim,
    Outbox,
    OutboxStatus,
    utcnow,
)
from tests.conftest import ADMIN
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
