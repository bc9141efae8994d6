"""The raw HTTP layer: tokens, method names, encodings and exact error bodies."""

from __future__ import annotations

import json

import aiohttp

from tests.emulator import BotApiEmulator
from tests.emulator_tests.helpers import TOKEN, USER, call


async def test_tokens_methods_and_encodings(emu: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    assert await call(http, emu, "getMe", token="123456:wrong") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert await call(http, emu, "getMe", token="garbage") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    assert await call(http, emu, "noSuchMethod") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    # Method names are case-insensitive on Telegram.
    status, body = await call(http, emu, "GETME")
    assert status == 200 and body["result"]["is_bot"] is True

    # Form posts carry nested objects as JSON strings, the way PTB sends them.
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]}
    form = {"chat_id": str(USER), "text": "123", "reply_markup": json.dumps(markup)}
    url = f"http://127.0.0.1:{emu.port}/bot{TOKEN}/sendMessage"
    async with http.post(url, data=form) as response:
        body = await response.json()
    assert body["ok"] is True
    assert body["result"]["text"] == "123"
    assert body["result"]["reply_markup"] == markup

    async with http.get(url, params={"chat_id": str(USER), "text": "via GET"}) as response:
        assert (await response.json())["result"]["text"] == "via GET"


async def test_error_bodies_are_exact(emu: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, emu, "sendMessage", chat_id=999, text="hi")
    assert (status, body) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
    )
    emu.fail_next("sendMessage", error_code=429, retry_after=7)
    status, body = await call(http, emu, "sendMessage", chat_id=USER, text="hi")
    assert (status, body) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
    )
    status, body = await call(http, emu, "sendMessage", chat_id=USER, text="   ")
    assert body["description"] == "Bad Request: message text is empty"
    status, body = await call(http, emu, "sendMessage", chat_id=USER, text="<b></b>", parse_mode="HTML")
    assert body["description"] == "Bad Request: message text is empty"
