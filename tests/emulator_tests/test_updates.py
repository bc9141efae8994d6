"""Updates: getUpdates offsets and long polls, conflicts, webhooks, a PTB Application."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, Update
from telegram.error import BadRequest, Conflict
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.emulator import BotApiEmulator
from tests.emulator_tests.helpers import TOKEN, USER, call, keyboard, polling


@pytest.mark.timing
async def test_get_updates_offsets_limit_and_long_poll(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    for i in range(3):
        emu.send_text(USER, f"m{i}")
    _, body = await call(http, emu, "getUpdates", limit=2)
    first, second = body["result"]
    assert second["update_id"] == first["update_id"] + 1
    assert first["message"]["text"] == "m0"
    # Without confirming, the same updates come again.
    _, body = await call(http, emu, "getUpdates")
    assert [u["message"]["text"] for u in body["result"]] == ["m0", "m1", "m2"]
    _, body = await call(http, emu, "getUpdates", offset=second["update_id"] + 1)
    assert [u["message"]["text"] for u in body["result"]] == ["m2"]
    last_id = body["result"][0]["update_id"]

    started = time.monotonic()
    _, body = await call(http, emu, "getUpdates", offset=last_id + 1, timeout=1)
    assert body == {"ok": True, "result": []}
    assert 0.9 <= time.monotonic() - started < 2

    async def poll() -> dict[str, Any]:
        return (await call(http, emu, "getUpdates", offset=last_id + 1, timeout=5))[1]

    task = asyncio.create_task(poll())
    await asyncio.sleep(0.05)
    started = time.monotonic()
    emu.send_text(USER, "wake up")
    body = await task
    assert time.monotonic() - started < 0.5
    assert body["result"][0]["message"]["text"] == "wake up"

    # Telegram may deliver an update twice; the emulator can force that.
    redelivered_id = body["result"][0]["update_id"]
    emu.redeliver(redelivered_id)
    _, body = await call(http, emu, "getUpdates", offset=redelivered_id + 1)
    assert [u["update_id"] for u in body["result"]] == [redelivered_id]


async def test_get_updates_allowed_updates_filter(
    emu: BotApiEmulator, http: aiohttp.ClientSession, bot: Bot
) -> None:
    sent = await bot.send_message(USER, "Rate", reply_markup=keyboard(("Helpful", "h")))
    emu.send_text(USER, "dropped: bot asked for callback queries only")
    emu.press_button(USER, USER, sent.message_id, "h")
    _, body = await call(http, emu, "getUpdates", allowed_updates=["callback_query"])
    assert [list(u)[1] for u in body["result"]] == ["callback_query"]
    emu.send_text(USER, "still filtered")
    _, body = await call(http, emu, "getUpdates", offset=body["result"][0]["update_id"] + 1)
    assert body["result"] == []
    # An empty list restores the default set of update types.
    emu.send_text(USER, "visible again")
    _, body = await call(http, emu, "getUpdates", allowed_updates=[])
    assert [u["message"]["text"] for u in body["result"]] == ["visible again"]


async def test_get_updates_conflicts(emu: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    first = asyncio.create_task(call(http, emu, "getUpdates", timeout=5))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(call(http, emu, "getUpdates", timeout=0))
    status, body = await first
    assert status == 409 and body["description"].startswith(
        "Conflict: terminated by other getUpdates request"
    )
    assert (await second)[0] == 200

    _, body = await call(http, emu, "setWebhook", url="https://example.com/hook")
    assert body == {"ok": True, "result": True, "description": "Webhook was set"}
    status, body = await call(http, emu, "getUpdates")
    assert (status, body["description"]) == (
        409,
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first",
    )
    _, body = await call(http, emu, "deleteWebhook")
    assert body["description"] == "Webhook was deleted"
    assert (await call(http, emu, "getUpdates"))[0] == 200


async def test_ptb_conflict_error(emu: BotApiEmulator, bot: Bot) -> None:
    await bot.set_webhook("https://example.com/hook")
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    info = await bot.get_webhook_info()
    assert info.url == "https://example.com/hook"
    with pytest.raises(BadRequest, match=r"(?i)an https url must be provided"):
        await bot.set_webhook("http://example.com/hook")
    await bot.delete_webhook()


async def test_webhook_push_secret_retry_and_order(emu: BotApiEmulator, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    fail_first = {"remaining": 2}

    async def receive(request: web.Request) -> web.Response:
        if fail_first["remaining"] > 0:
            fail_first["remaining"] -= 1
            return web.Response(status=500)
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        emu.send_text(USER, "before webhook")
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cr3t")
        emu.send_text(USER, "after webhook")

        async def delivered() -> None:
            while len(received) < 2:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(delivered(), 5)
        assert [secret for secret, _ in received] == ["s3cr3t", "s3cr3t"]
        assert [u["message"]["text"] for _, u in received] == ["before webhook", "after webhook"]
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        await emu.wait_until_idle(timeout=2)
    finally:
        await bot.delete_webhook()
        await runner.cleanup()


async def test_ptb_application_polling_echo_buttons_and_edits(emu: BotApiEmulator) -> None:
    seen_update_ids: list[int] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html(
            "<b>Welcome</b>", reply_markup=keyboard(("Helpful", "rate:1"))
        )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        seen_update_ids.append(update.update_id)
        await update.message.reply_text(f"echo: {update.message.text}", do_quote=True)

    async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.edited_message is not None and update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "saw your edit")

    async def rate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Thanks")
        await query.edit_message_text("Rated ✅")

    app = Application.builder().token(TOKEN).base_url(emu.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, edited))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(rate))
    async with polling(app):
        emu.send_text(USER, "/start")
        welcome = await emu.wait_for_bot_message(USER, lambda m: "Welcome" in m.text)
        assert welcome.html == "<b>Welcome</b>"

        query_id = emu.press_button(USER, USER, welcome.message_id, "rate:1")
        assert (await emu.wait_for_callback_answer(query_id))["text"] == "Thanks"
        rated = await emu.wait_for_bot_message(USER, lambda m: m.text == "Rated ✅")
        assert rated.message_id == welcome.message_id and rated.edited

        sent = emu.send_text(USER, "is the earth flat?")
        reply = await emu.wait_for_bot_message(USER)
        assert reply.text == "echo: is the earth flat?"
        assert reply.raw["reply_to_message"]["message_id"] == sent["message_id"]

        emu.edit_text(USER, USER, sent["message_id"], "is the moon cheese?")
        assert (await emu.wait_for_bot_message(USER)).text == "saw your edit"

        # A redelivered update reaches the handler again with the same id.
        emu.redeliver(seen_update_ids[0])
        await emu.wait_for_bot_message(USER, lambda m: m.text == "echo: is the earth flat?")
        assert seen_update_ids[0] == seen_update_ids[1]
        await emu.wait_until_idle()
    transcript = emu.transcript(USER)
    assert "🧑 Alice: /start" in transcript and "🤖 bot: Rated ✅ (edited)" in transcript


async def test_wait_for_bot_message_times_out_with_transcript(emu: BotApiEmulator) -> None:
    emu.send_text(USER, "anyone there?")
    with pytest.raises(AssertionError) as info:
        await emu.wait_for_bot_message(USER, timeout=0.2)
    assert "🧑 Alice: anyone there?" in str(info.value)


async def test_wait_for_bot_messages_walks_forward(emu: BotApiEmulator, bot: Bot) -> None:
    emu.send_text(USER, "go")
    await bot.send_message(USER, "one")
    await bot.send_message(USER, "two")
    first = await emu.wait_for_bot_message(USER)
    second = await emu.wait_for_bot_message(USER)
    assert (first.text, second.text) == ("one", "two")
    both = await emu.wait_for_bot_messages(USER, count=2, since=0)
    assert [m.text for m in both] == ["one", "two"]
