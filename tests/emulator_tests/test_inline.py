"""Inline mode through a PTB Application: a person types @bot words, the bot answers with
articles, the person picks one, and it lands in their chat via the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import Application, ChosenInlineResultHandler, ContextTypes, InlineQueryHandler

from tests.emulator import BotApiEmulator
from tests.emulator_tests.helpers import TOKEN, USER, polling

FRIEND, GROUP = 77, -100555


def article(n: int, *, keyboard: bool = False) -> InlineQueryResultArticle:
    markup = (
        InlineKeyboardMarkup(
            [[InlineKeyboardButton("Details", url=f"https://t.me/crowdcheck_test_bot?start=claim_{n}")]]
        )
        if keyboard
        else None
    )
    return InlineQueryResultArticle(
        id=f"claim-{n}",
        title=f"❌ False: claim {n}",
        description="Short clarification",
        input_message_content=InputTextMessageContent(f"<b>False</b>: claim {n}", parse_mode="HTML"),
        reply_markup=markup,
    )


@pytest.fixture
async def inline_app(emu: BotApiEmulator) -> AsyncIterator[list[tuple[str, str]]]:
    """A bot answering inline queries with one article per word; records chosen results."""
    emu.set_inline_mode(True, feedback=True)
    chosen: list[tuple[str, str]] = []

    async def on_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.inline_query is not None
        words = update.inline_query.query.split() or ["recent"]
        await update.inline_query.answer(
            [article(i, keyboard=True) for i, _ in enumerate(words)],
            cache_time=30,
            button=InlineQueryResultsButton("Ask the tipline", start_parameter="inline"),
        )

    async def on_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.chosen_inline_result is not None
        chosen.append((update.chosen_inline_result.result_id, update.chosen_inline_result.query))

    app = Application.builder().token(TOKEN).base_url(emu.base_url).build()
    app.add_handler(InlineQueryHandler(on_query))
    app.add_handler(ChosenInlineResultHandler(on_chosen))
    async with polling(app):
        yield chosen


async def test_an_inline_query_is_answered_chosen_and_posted_via_the_bot(
    emu: BotApiEmulator, inline_app: list[tuple[str, str]]
) -> None:
    emu.user(FRIEND, "Friend")
    query_id = emu.inline_query(USER, "banks close", chat_type="private")
    answer = await emu.wait_for_inline_answer(query_id)
    assert [r["id"] for r in answer["results"]] == ["claim-0", "claim-1"]
    assert answer["results"][0]["title"] == "❌ False: claim 0" and answer["cache_time"] == 30
    assert answer["button"] == {"text": "Ask the tipline", "start_parameter": "inline"}

    posted = emu.choose_inline_result(USER, query_id, "claim-1", chat_id=FRIEND)
    assert posted["via_bot"]["username"] == "crowdcheck_test_bot" and posted["from"]["id"] == USER
    assert posted["text"] == "False: claim 1" and posted["entities"][0]["type"] == "bold"
    assert posted["chat"]["id"] == FRIEND
    assert posted["reply_markup"]["inline_keyboard"][0][0]["url"].endswith("start=claim_1")
    await emu.wait_until_idle()
    assert inline_app == [("claim-1", "banks close")]
    assert emu.chat(FRIEND) == []  # the bot's chat with the friend shows nothing: it was not there


async def test_telegram_caches_answers_for_cache_time(
    emu: BotApiEmulator, inline_app: list[tuple[str, str]]
) -> None:
    first = emu.inline_query(USER, "vaccines")
    await emu.wait_for_inline_answer(first)
    seen = len([r for r in emu.requests_log if r["method"] == "answerInlineQuery"])
    again = emu.inline_query(FRIEND, "vaccines")  # another person, same words: served from the cache
    assert emu.inline_answer(again) is not None
    await emu.wait_until_idle()
    assert len([r for r in emu.requests_log if r["method"] == "answerInlineQuery"]) == seen
    other = emu.inline_query(USER, "5g towers")
    await emu.wait_for_inline_answer(other)


async def test_a_result_chosen_in_a_group_reaches_the_bot_there(
    emu: BotApiEmulator, inline_app: list[tuple[str, str]]
) -> None:
    emu.create_group(GROUP, "Family", members=[USER])
    query_id = emu.inline_query(USER, "", chat_type="supergroup")
    answer = await emu.wait_for_inline_answer(query_id)
    assert [r["id"] for r in answer["results"]] == ["claim-0"]
    emu.choose_inline_result(USER, query_id, "claim-0", chat_id=GROUP)
    [message] = emu.chat(GROUP)
    assert message.raw["via_bot"]["id"] == emu.bot_user["id"] and not message.from_bot
    # The bot is in the group, so it receives the message sent via it (even in privacy mode).
    delivered = [u["message"] for u in emu._update_history.values() if "message" in u]
    assert [m["chat"]["id"] for m in delivered if "via_bot" in m] == [GROUP]


async def test_answer_inline_query_is_validated_like_telegram(emu: BotApiEmulator, bot: Bot) -> None:
    with pytest.raises(ValueError, match="inline mode is off"):
        emu.inline_query(USER, "x")
    emu.set_inline_mode(True)
    assert (await bot.get_me()).supports_inline_queries

    def ask() -> str:
        return emu.inline_query(USER, "x", offset=str(len(emu.pending_updates)))

    with pytest.raises(BadRequest, match="Results_too_much"):
        await bot.answer_inline_query(ask(), [article(i) for i in range(51)])
    with pytest.raises(BadRequest, match="Result_id_duplicate"):
        await bot.answer_inline_query(ask(), [article(1), article(1)])
    long_id = article(1)
    object.__setattr__(long_id, "id", "x" * 65)
    with pytest.raises(BadRequest, match="Result_id_invalid"):
        await bot.answer_inline_query(ask(), [long_id])
    broken = InlineQueryResultArticle("a", "Title", InputTextMessageContent("<b>oops", parse_mode="HTML"))
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.answer_inline_query(ask(), [broken])
    with pytest.raises(BadRequest, match="Start_param_invalid"):
        await bot.answer_inline_query(
            ask(), [article(1)], button=InlineQueryResultsButton("Go", start_parameter="a b")
        )

    query_id = ask()
    assert await bot.answer_inline_query(query_id, [article(1)], cache_time=0)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_inline_query(query_id, [article(1)])  # answered once only
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_inline_query("123", [article(1)])


async def test_the_bot_edits_a_message_sent_via_it_by_inline_message_id(
    emu: BotApiEmulator, bot: Bot
) -> None:
    emu.set_inline_mode(True, feedback=True)
    query_id = emu.inline_query(USER, "x")
    await bot.answer_inline_query(query_id, [article(3, keyboard=True)], cache_time=0)
    emu.choose_inline_result(USER, query_id, "claim-3", chat_id=FRIEND)
    chosen = Update.de_json(emu.pending_updates[-1], bot)
    assert chosen is not None and chosen.chosen_inline_result is not None
    inline_id = chosen.chosen_inline_result.inline_message_id
    assert inline_id
    assert await bot.edit_message_text("Retracted", inline_message_id=inline_id) is True
    assert emu.inline_message(inline_id)["text"] == "Retracted"
    with pytest.raises(BadRequest, match="Message_id_invalid"):
        await bot.edit_message_text("x", inline_message_id="nope")
