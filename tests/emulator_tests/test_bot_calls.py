"""A PTB Bot against the emulator: sends, edits, files, commands, callback queries."""

from __future__ import annotations

import datetime as dtm

import pytest
from telegram import Bot, BotCommand, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from tests.emulator import BotApiEmulator
from tests.emulator_tests.helpers import USER, keyboard


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
    # The bot writes HTML only: the emulator refuses Markdown rather than half-parse it.
    with pytest.raises(BadRequest, match=r"(?i)unsupported parse_mode"):
        await bot.send_message(USER, "*v1*", parse_mode="MarkdownV2")

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
