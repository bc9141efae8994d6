"""What the emulator's own tests share: the token, a user, raw calls, keyboards."""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

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
