"""Flood limits and faults: 429 with retry_after, seeded random faults, timeouts."""

from __future__ import annotations

import asyncio
import datetime as dtm

import aiohttp
import pytest
from telegram import Bot
from telegram.error import RetryAfter

from tests.emulator import BotApiEmulator
from tests.emulator_tests.helpers import TOKEN, USER, call


async def test_enforced_rate_limits(emu: BotApiEmulator, bot: Bot) -> None:
    emu.enforce_limits(per_chat_per_second=1, overall_per_second=30, group_per_minute=20)
    await bot.send_message(USER, "first")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "second")
    assert info.value.retry_after in (1, dtm.timedelta(seconds=1))
    emu.user(43)
    await bot.send_message(43, "other chats are not affected")
    emu.disable_limits()
    await bot.send_message(USER, "limits off")
    stamps = [r["timestamp"] for r in emu.sent_log]
    assert stamps == sorted(stamps) and len(stamps) == 3


async def test_random_faults_are_seeded(emu: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    async def statuses(seed: int) -> list[int]:
        emu.set_random_faults(0.5, seed, kinds=("429", "5xx"))
        result = [(await call(http, emu, "sendMessage", chat_id=USER, text="x"))[0] for _ in range(20)]
        emu.set_random_faults(0, seed)
        return result

    first, again = await statuses(7), await statuses(7)
    assert first == again
    assert {200, 429, 502} == set(first)


async def test_timeout_fault_does_not_deliver(emu: BotApiEmulator) -> None:
    emu.set_random_faults(1.0, 1, kinds=("timeout",), timeout_delay=1.0)
    url = f"http://127.0.0.1:{emu.port}/bot{TOKEN}/sendMessage"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.2)) as session:
        with pytest.raises(asyncio.TimeoutError):
            await session.post(url, json={"chat_id": USER, "text": "lost"})
    emu.set_random_faults(0, 1)
    assert emu.bot_messages(USER) == []

    emu.set_random_faults(1.0, 1, kinds=("timeout_after_send",), timeout_delay=1.0)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.2)) as session:
        with pytest.raises(asyncio.TimeoutError):
            await session.post(url, json={"chat_id": USER, "text": "delivered anyway"})
    emu.set_random_faults(0, 1)
    assert [m.text for m in emu.bot_messages(USER)] == ["delivered anyway"]
