"""What the emulator's own tests share: the token, a user, raw calls, keyboards, a polling bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application

from tests.emulator import BotApiEmulator

TOKEN = "123456:TEST-token_emulator"
USER = 42


async def call(
    http: aiohttp.ClientSession,
    emu: BotApiEmulator,
    method: str,
    *,
    token: str = TOKEN,
    **params: Any,
) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{emu.port}/bot{token}/{method}"
    async with http.post(url, json=params) as response:
        return response.status, await response.json()


def keyboard(*labels: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data) for text, data in labels]])


@asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:
    """A python-telegram-bot Application running and long-polling the emulator until the block ends."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
