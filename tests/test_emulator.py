"""Tests for the Bot API emulator, mostly driven through real python-telegram-bot."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.helpers import escape_markdown

from bot.emulator.emulator import BotApiEmulator
from bot.emulator.errors import EntityParseError
from bot.emulator.html_entities import parse_html, utf16_len
from bot.emulator.markdown import parse_markdown_v2

TOKEN = "123456:TEST-token_emulator"
USER = 42

# ----------------------------------------------------------------------------- fixtures


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
    async with Bot(TOKEN, base_url=emu.base_url) as ptb_bot:
        yield ptb_bot


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


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


# -------------------------------------------------------------------------- HTML parser


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        (
            "<b>bold <i>both</i></b> plain",
            "bold both plain",
            [
                {"type": "bold", "offset": 0, "length": 9},
                {"type": "italic", "offset": 5, "length": 4},
            ],
        ),
        (
            "<strong>s</strong><em>e</em><ins>i</ins><strike>k</strike><del>d</del><s>x</s>",
            "seikdx",
            [
                {"type": "bold", "offset": 0, "length": 1},
                {"type": "italic", "offset": 1, "length": 1},
                {"type": "underline", "offset": 2, "length": 1},
                {"type": "strikethrough", "offset": 3, "length": 1},
                {"type": "strikethrough", "offset": 4, "length": 1},
                {"type": "strikethrough", "offset": 5, "length": 1},
            ],
        ),
        (
            '<span class="tg-spoiler">a</span><tg-spoiler>b</tg-spoiler>',
            "ab",
            [
                {"type": "spoiler", "offset": 0, "length": 1},
                {"type": "spoiler", "offset": 1, "length": 1},
            ],
        ),
        (
            '<pre><code class="language-python">x = 1</code></pre><code>y</code>',
            "x = 1y",
            [
                {"type": "pre", "offset": 0, "length": 5, "language": "python"},
                {"type": "code", "offset": 5, "length": 1},
            ],
        ),
        (
            "<blockquote>q</blockquote><blockquote expandable>e</blockquote>",
            "qe",
            [
                {"type": "blockquote", "offset": 0, "length": 1},
                {"type": "expandable_blockquote", "offset": 1, "length": 1},
            ],
        ),
        (
            '<a href="example.com">l</a><a href="https://t.me/x?a=1&amp;b=2">m</a>',
            "lm",
            [
                {"type": "text_link", "offset": 0, "length": 1, "url": "http://example.com/"},
                {
                    "type": "text_link",
                    "offset": 1,
                    "length": 1,
                    "url": "https://t.me/x?a=1&b=2",
                },
            ],
        ),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍", None),
        ("<B>upper</b >", "upper", [{"type": "bold", "offset": 0, "length": 5}]),
        ("<b>x</>", "x", [{"type": "bold", "offset": 0, "length": 1}]),
        ("<b></b>empty tags vanish", "empty tags vanish", []),
    ],
)
def test_html_valid_markup(source: str, text: str, entities: list[dict[str, Any]] | None) -> None:
    parsed = parse_html(source)
    assert parsed.text == text
    if entities is not None:
        assert parsed.entities == entities


def test_html_character_references_and_bare_ampersand() -> None:
    parsed = parse_html("&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42; &#128512; AT&T &foo; &amp")
    assert parsed.text == '<b> & "q" AB 😀 AT&T &foo; &'
    assert parsed.entities == []


def test_html_offsets_are_utf16_code_units() -> None:
    parsed = parse_html("😀 <b>ü😀x</b> <i>é</i>")
    assert parsed.text == "😀 ü😀x é"
    # The emoji is two UTF-16 units, ü and é one each.
    assert parsed.entities == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "italic", "offset": 8, "length": 1},
    ]
    assert utf16_len(parsed.text) == 9


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("😀 <p>x</p>", 'Unsupported start tag "p" at byte offset 5'),
        ("price a < b", 'Unsupported start tag "" at byte offset 8'),
        ("1<2 and more", 'Unsupported start tag "2" at byte offset 1'),
        ("trailing <", "Unclosed start tag at byte offset 9"),
        ("<b>never closed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</i>", 'Can\'t find end tag corresponding to start tag "b"'),
        ("stray </b> end", "Unexpected end tag at byte offset 6"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="x" ="y">x</a>', 'Empty attribute name in the tag "a" at byte offset 0'),
        ("<a href=x!>x</a>", "Unexpected end of name token at byte offset 8"),
        ("<tg-emoji emoji-id=abc>x</tg-emoji>", "Invalid custom emoji identifier specified"),
    ],
)
def test_html_errors_match_telegram(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_html(source)
    assert str(info.value) == error


def test_markdown_v2_reserved_characters_and_escapes() -> None:
    with pytest.raises(EntityParseError) as info:
        parse_markdown_v2("Version 1.0")
    assert str(info.value) == ("Character '.' is reserved and must be escaped with the preceding '\\'")
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity at byte offset 0"):
        parse_markdown_v2("*bold")
    tricky = "Price: 1.5$ (approx) - see #1 > {x} | a_b*c [d] ~e~ `f` !"
    parsed = parse_markdown_v2(escape_markdown(tricky, version=2))
    assert parsed.text == tricky
    assert parsed.entities == []
    parsed = parse_markdown_v2("*b* _i_ __u__ ~s~ ||sp|| `c` [l](https://example.com)")
    assert [e["type"] for e in parsed.entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]


# ------------------------------------------------------------------------ raw HTTP layer


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


# ----------------------------------------------------------------- PTB Bot against it


async def test_ptb_get_me_and_send_html_with_buttons(emu: BotApiEmulator, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "crowdcheck_test_bot", True)

    sent = await bot.send_message(
        USER,
        "<b>Verdict:</b> false 😀 see https://example.com",
        parse_mode="HTML",
        reply_markup=keyboard(("Helpful", "rate:1"), ("Not helpful", "rate:0")),
    )
    assert sent.text == "Verdict: false 😀 see https://example.com"
    assert sent.from_user is not None and sent.from_user.id == me.id
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 8),
        ("url", 22, 19),
    ]
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][1].callback_data == "rate:0"

    [view] = emu.chat(USER)
    assert view.from_bot and view.message_id == sent.message_id
    assert view.html.startswith("<b>Verdict:</b> false")
    assert view.buttons == [[("Helpful", "rate:1"), ("Not helpful", "rate:0")]]
    assert emu.transcript(USER).splitlines()[-1] == "    [Helpful] [Not helpful]"

    second = await bot.send_message(USER, "next")
    assert second.message_id == sent.message_id + 1
    assert [r["method"] for r in emu.sent_log] == ["sendMessage", "sendMessage"]


async def test_ptb_raises_bad_request_for_markup_and_length(emu: BotApiEmulator, bot: Bot) -> None:
    with pytest.raises(BadRequest) as info:
        await bot.send_message(USER, "1 < 2 is <unknown>", parse_mode="HTML")
    # PTB strips "Bad Request: " and capitalize()s, which lower-cases the rest.
    assert info.value.message == ('Can\'t parse entities: unsupported start tag "" at byte offset 2')
    with pytest.raises(BadRequest, match=r"(?i)can't find end tag corresponding to start tag"):
        await bot.send_message(USER, "<b>oops", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)character '.' is reserved"):
        await bot.send_message(USER, "v1.0", parse_mode="MarkdownV2")

    # The limit counts UTF-16 units after markup is removed.
    await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(USER, "😀" * 2048)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER, "😀" * 2048 + "a")
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_document(USER, b"x", filename="a.txt", caption="c" * 1025)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(777, "hi")
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(USER, "x", reply_markup=keyboard(("big", "x" * 65)))
    assert len(emu.bot_messages(USER)) == 2


async def test_ptb_forbidden_and_retry_after(emu: BotApiEmulator, bot: Bot) -> None:
    emu.block(USER)
    with pytest.raises(Forbidden) as forbidden:
        await bot.send_message(USER, "hi")
    assert forbidden.value.message == "Forbidden: bot was blocked by the user"
    # Telegram tells the bot with a my_chat_member update.
    [update] = emu.pending_updates
    assert update["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    emu.unblock(USER)
    await bot.send_message(USER, "back")

    emu.fail_next("sendMessage", error_code=429, retry_after=3, times=2)
    for _ in range(2):
        with pytest.raises(RetryAfter) as retry:
            await bot.send_message(USER, "hi")
        assert retry.value.retry_after in (3, dtm.timedelta(seconds=3))
    await bot.send_message(USER, "third time lucky")

    emu.fail_next("*", error_code=502, chat_id=USER)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_chat_action(USER, "typing")
    assert [r["status"] for r in emu.requests_log if r["method"] != "getMe"][-3:] == [
        429,
        200,
        502,
    ]


async def test_edits_not_modified_and_missing(emu: BotApiEmulator, bot: Bot) -> None:
    markup = keyboard(("Helpful", "h"))
    sent = await bot.send_message(USER, "<b>v1</b>", parse_mode="HTML", reply_markup=markup)
    with pytest.raises(BadRequest) as info:
        await bot.edit_message_text(
            "<b>v1</b>", USER, sent.message_id, parse_mode="HTML", reply_markup=markup
        )
    assert info.value.message == (
        "Message is not modified: specified new message content and reply markup are "
        "exactly the same as a current content and reply markup of the message"
    )
    # Same text but unformatted is a real change.
    edited = await bot.edit_message_text("v1", USER, sent.message_id, reply_markup=markup)
    assert isinstance(edited, type(sent)) and edited.entities == ()
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=markup)
    # Editing text without reply_markup drops the keyboard, like Telegram.
    await bot.edit_message_text("v2", USER, sent.message_id)
    [view] = emu.chat(USER)
    assert (view.text, view.buttons, view.edited) == ("v2", [], True)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", USER, 999)
    user_msg = emu.send_text(USER, "mine")
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", USER, user_msg["message_id"])

    assert await bot.delete_message(USER, sent.message_id) is True
    assert [m.text for m in emu.chat(USER)] == ["mine"]
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(USER, sent.message_id)


async def test_documents_commands_chat_and_actions(emu: BotApiEmulator, bot: Bot) -> None:
    message = await bot.send_document(
        USER, b"claim,verdict\n", filename="report.csv", caption="<i>weekly</i>", parse_mode="HTML"
    )
    assert message.document is not None and message.document.file_name == "report.csv"
    assert message.caption == "weekly"
    [view] = emu.chat(USER)
    assert view.document is not None
    assert (view.document.filename, view.document.data) == ("report.csv", b"claim,verdict\n")
    assert view.kind == "document" and view.html == "<i>weekly</i>"

    commands = [BotCommand("start", "Start"), BotCommand("check", "Check a claim")]
    assert await bot.set_my_commands(commands) is True
    assert await bot.get_my_commands() == tuple(commands)
    assert await bot.get_my_commands(language_code="de") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])

    chat = await bot.get_chat(USER)
    assert (chat.id, chat.type, chat.first_name, chat.username) == (
        USER,
        "private",
        "Alice",
        "alice",
    )
    assert await bot.send_chat_action(USER, "typing") is True
    assert await bot.close() is True


async def test_callback_queries(emu: BotApiEmulator, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Rate", reply_markup=keyboard(("Helpful", "rate:1")))
    with pytest.raises(ValueError, match="no button"):
        emu.press_button(USER, USER, sent.message_id, "rate:9")
    query_id = emu.press_button(USER, USER, sent.message_id, "rate:1")
    update = Update.de_json(emu.pending_updates[-1], bot)
    assert update.callback_query is not None
    assert update.callback_query.data == "rate:1"
    assert update.callback_query.message.message_id == sent.message_id  # type: ignore[union-attr]

    assert await bot.answer_callback_query(query_id, "Thanks!", show_alert=True) is True
    answer = await emu.wait_for_callback_answer(query_id, timeout=1)
    assert (answer["text"], answer["show_alert"]) == ("Thanks!", True)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("123")
    forged = emu.press_button(USER, USER, 999, "anything", forge=True)
    assert forged != query_id


# ----------------------------------------------------------------------- getUpdates


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


# ------------------------------------------------------------------------- webhooks


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


# ----------------------------------------------------- PTB Application end to end


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
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
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
        finally:
            await app.updater.stop()
            await app.stop()
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


# ------------------------------------------------------------------ limits & faults


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


# ------------------------------------------------------------- user-side variety


@pytest.mark.parametrize(
    "fields",
    [
        {"sticker": True},
        {"voice": True},
        {"video_note": True},
        {"video": True, "caption": "watch #this"},
        {"audio": True},
        {"animation": True},
        {"document": {"file_name": "claim.pdf"}},
        {"photo": True, "caption": "is this real? https://example.com/x"},
        {"location": True},
        {"contact": True},
        {"dice": True},
        {"venue": True},
        {"poll": True},
    ],
)
async def test_user_media_messages_deserialize(emu: BotApiEmulator, bot: Bot, fields: dict[str, Any]) -> None:
    emu.send_message(USER, **fields)
    update = Update.de_json(emu.pending_updates[-1], bot)
    assert update.message is not None
    kind = next(k for k in fields if k != "caption")
    assert getattr(update.message, kind)
    if "caption" in fields:
        assert update.message.caption == fields["caption"]
        assert update.message.caption_entities


@pytest.mark.parametrize(
    "origin",
    [
        {"type": "user", "sender_user": {"id": 7, "is_bot": False, "first_name": "Bob"}},
        {"type": "hidden_user", "sender_user_name": "Hidden Person"},
        {"type": "chat", "sender_chat": {"id": -100500, "type": "supergroup", "title": "G"}},
        {
            "type": "channel",
            "chat": {"id": -100600, "type": "channel", "title": "News"},
            "message_id": 55,
            "author_signature": "Ed",
        },
    ],
)
async def test_forwards_parse_in_ptb(emu: BotApiEmulator, bot: Bot, origin: dict[str, Any]) -> None:
    emu.forward(USER, "Vaccines contain microchips", origin=origin)
    update = Update.de_json(emu.pending_updates[-1], bot)
    assert update.message is not None and update.message.forward_origin is not None
    assert update.message.forward_origin.type == origin["type"]
    assert update.message.text == "Vaccines contain microchips"


async def test_groups_channels_and_leaving(emu: BotApiEmulator, bot: Bot) -> None:
    update = emu.add_bot_to_group(USER, -100123, "Fact checkers")
    parsed = Update.de_json(update, bot)
    assert parsed.my_chat_member is not None
    assert parsed.my_chat_member.new_chat_member.status == "member"
    emu.send_text(USER, "claim in group", chat_id=-100123)
    sent = await bot.send_message(-100123, "checking")
    assert sent.chat.type == "supergroup" and sent.chat.title == "Fact checkers"
    assert [m.text for m in emu.chat(-100123)] == ["claim in group", "checking"]

    post = emu.channel_post(-100999, "breaking news")
    assert Update.de_json(emu.pending_updates[-1], bot).channel_post is not None
    assert post["sender_chat"]["id"] == -100999

    assert await bot.leave_chat(-100123) is True
    with pytest.raises(Forbidden, match="bot is not a member of the supergroup chat"):
        await bot.send_message(-100123, "still here?")
    with pytest.raises(BadRequest, match="private chats"):
        await bot.leave_chat(USER)


async def test_the_bots_standing_in_a_group_as_telegram_reports_it(emu: BotApiEmulator, bot: Bot) -> None:
    me = (await bot.get_me()).id
    added = Update.de_json(emu.add_bot_to_group(USER, -100321, "Setup", status="administrator"), bot)
    assert added.my_chat_member is not None and added.my_chat_member.from_user.id == USER
    assert added.my_chat_member.old_chat_member.status == "left"
    assert added.my_chat_member.new_chat_member.status == "administrator"
    assert (await bot.get_chat_member(-100321, me)).status == "administrator"
    assert (await bot.get_chat_member(-100321, USER)).status == "member"
    assert (await bot.get_chat(-100321)).title == "Setup"

    emu.set_bot_status(-100321, "restricted", by=USER, can_send_messages=False)
    member = await bot.get_chat_member(-100321, me)
    assert member.status == "restricted" and member.can_send_messages is False  # type: ignore[attr-defined]
    with pytest.raises(BadRequest, match="Not enough rights to send text messages"):
        await bot.send_message(-100321, "hello?")
    assert Update.de_json(emu.pending_updates[-1], bot).my_chat_member.new_chat_member.status == "restricted"

    emu.set_bot_status(-100321, "kicked", by=USER)
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await bot.get_chat_member(-100321, me)
    emu.create_group(-100322, "Never joined", members=[USER], bot_is_member=False)
    with pytest.raises(Forbidden, match="bot is not a member of the supergroup chat"):
        await bot.get_chat(-100322)


async def test_a_basic_group_upgraded_to_a_supergroup_gets_a_new_id(emu: BotApiEmulator, bot: Bot) -> None:
    emu.create_group(-555, "Neighbours", members=[USER], type="group")
    emu.upgrade_group(-555, -1005550000555, by=USER)
    old, new = (Update.de_json(u, bot) for u in emu.pending_updates[-2:])
    assert old.message is not None and old.message.migrate_to_chat_id == -1005550000555
    assert new.message is not None and new.message.migrate_from_chat_id == -555
    assert new.message.chat.type == "supergroup" and new.message.from_user.id == USER
    with pytest.raises(ChatMigrated) as moved:
        await bot.send_message(-555, "hello?")
    assert moved.value.new_chat_id == -1005550000555
    assert (await bot.send_message(-1005550000555, "hello")).chat.title == "Neighbours"


async def test_the_bot_cannot_write_first_to_someone_who_never_started_it(
    emu: BotApiEmulator, bot: Bot
) -> None:
    emu.user(77, "Quiet", started=False)
    assert not emu.has_started(77)
    with pytest.raises(Forbidden) as refused:
        await bot.send_message(77, "hello")
    assert refused.value.message == "Forbidden: bot can't initiate conversation with a user"
    emu.send_text(77, "/start")
    assert emu.has_started(77)
    await bot.send_message(77, "hello")


# --------------------------------------------------------------------- thread mode


def test_thread_mode_with_blocking_calls() -> None:
    emu = BotApiEmulator(TOKEN)
    base_url = emu.start_in_thread()
    try:
        emu.user(USER, "Alice")

        def api(method: str, **params: Any) -> dict[str, Any]:
            request = urllib.request.Request(
                f"{base_url}{TOKEN}/{method}",
                data=json.dumps(params).encode(),
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                return json.loads(exc.read())

        assert api("getMe")["result"]["username"] == "crowdcheck_test_bot"
        emu.send_text(USER, "hello from the main thread")
        updates = api("getUpdates", timeout=1)["result"]
        assert updates[0]["message"]["text"] == "hello from the main thread"
        assert api("sendMessage", chat_id=USER, text="<i>hi</i>", parse_mode="HTML")["ok"]
        reply = emu.wait_for_bot_message_blocking(USER, timeout=2)
        assert reply.html == "<i>hi</i>"
        emu.wait_until_idle_blocking(timeout=2)
        assert api("sendMessage", chat_id=USER, text="<x>", parse_mode="HTML")["description"] == (
            'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0'
        )
    finally:
        emu.stop_thread()
