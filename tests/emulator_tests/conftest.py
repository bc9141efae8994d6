"""Fixtures for the emulator's own tests: an emulator, a PTB Bot and an HTTP client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot

from tests.emulator import BotApiEmulator
from tests.emulator_tests.helpers import TOKEN, USER


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator(TOKEN, fault_timeout_delay=1.0)
    await emulator.start()
    emulator.user(USER, "Alice", username="alice", language_code="en")
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url) as ptb_bot:
        yield ptb_bot


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
