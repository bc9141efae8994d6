"""Setting the tipline up from Telegram: the bot finds the ids its configuration needs.

The story: an operator starts the bot without CROWDCHECK_REVIEW_CHAT_ID, adds it to the group
the moderators will use, gets that group's id in a private message, sets it, restarts, and the
moderators' group works. Groups that are not the moderators' group hear nothing from the bot.
"""

from __future__ import annotations

import dataclasses
import logging

import pytest
from sqlmodel import select

from bot.app import BotRuntime
from bot.emulator.emulator import BotApiEmulator
from factdb.db import Database
from factdb.models import Citizen, Claim, Request, SeenUser
from tests import conftest
from tests.conftest import ADMIN
from tests.harness import REVIEW_CHAT, Tipline, shown

FRIENDS = -1002000000555


async def test_the_operator_adds_the_bot_to_a_group_gets_its_id_and_makes_it_the_moderators_group(
    db: Database, emulator: BotApiEmulator
) -> None:
    emu = emulator
    emu.user(ADMIN, "Jonas", language_code="en")
    unset = dataclasses.replace(conftest.test_config(emu, db), review_chat_id=None)
    runtime = BotRuntime(unset, db=db, long_poll_timeout=1)
    await runtime.start()
    try:
        update = emu.add_bot_to_group(ADMIN, -1002000000777, "Fact checkers")
        assert update["my_chat_member"]["old_chat_member"]["status"] == "left"
        assert update["my_chat_member"]["from"]["id"] == ADMIN
        told = shown(await emu.wait_for_bot_message(ADMIN))
        assert "You added me to the group “Fact checkers”. Its id is -1002000000777." in told
        assert "CROWDCHECK_REVIEW_CHAT_ID=-1002000000777" in told
        assert "crowdcheck doctor" in told
        await emu.wait_until_idle()
        assert emu.bot_status(-1002000000777) == "member"  # it stayed
        assert emu.bot_messages(-1002000000777) == []
    finally:
        await runtime.stop()

    configured = dataclasses.replace(unset, review_chat_id=-1002000000777)
    runtime = BotRuntime(configured, db=db, long_poll_timeout=1)
    await runtime.start()
    try:
        emu.send_text(3001, "The bridge on the ring road will be closed for a whole year from Monday")
        await emu.wait_for_bot_message(3001)
        card = await emu.wait_for_bot_message(-1002000000777, lambda m: "bridge" in m.text)
        assert card.callback_data("Take")
        # made an admin there later (removed and added back): no more private messages about it
        emu.set_bot_status(-1002000000777, "left", by=ADMIN)
        emu.add_bot_to_group(ADMIN, -1002000000777, status="administrator")
        await emu.wait_until_idle()
        assert len(emu.bot_messages(ADMIN)) == 1
    finally:
        await runtime.stop()


async def test_a_group_that_is_not_ours_hears_nothing_and_nothing_said_there_is_kept(
    tipline: Tipline,
) -> None:
    emu = tipline.emu
    emu.user(7100, "Lucía", language_code="es")
    emu.add_bot_to_group(7100, FRIENDS, "Amigos")
    told = shown(await emu.wait_for_bot_message(7100))
    # in the language of the person who added the bot
    assert "Me añadiste al grupo “Amigos”. Su id es -1002000000555." in told
    assert "CROWDCHECK_REVIEW_CHAT_ID=-1002000000555" in told

    emu.send_text(7101, "Forward this to everyone: the tap water is poisoned tonight", chat_id=FRIENDS)
    emu.send_text(7100, "/start", chat_id=FRIENDS)
    emu.send_text(7101, "/queue", chat_id=FRIENDS)
    emu.send_message(7101, chat_id=FRIENDS, sticker=True)
    await emu.wait_until_idle()
    assert emu.bot_messages(FRIENDS) == []
    assert emu.bot_status(FRIENDS) == "member"
    assert not [r for r in emu.requests_log if r["method"] == "leaveChat"]
    with tipline.db.session() as s:
        assert s.exec(select(Claim)).all() == []
        assert s.exec(select(Request)).all() == []
        assert s.exec(select(Citizen)).all() == []
        assert s.exec(select(SeenUser)).all() == []

    # /whoami is the one thing the bot answers there
    emu.send_text(7101, "/whoami", chat_id=FRIENDS, language_code="en")
    answer = shown(await emu.wait_for_bot_message(FRIENDS))
    assert "Your user id: 7101" in answer and "This group's id: -1002000000555" in answer
    assert "CROWDCHECK_REVIEW_CHAT_ID=-1002000000555" in answer
    assert len(emu.bot_messages(FRIENDS)) == 1


async def test_an_adder_who_never_started_the_bot_is_logged_and_nothing_breaks(
    tipline: Tipline, caplog: pytest.LogCaptureFixture
) -> None:
    emu = tipline.emu
    emu.user(7200, "Tomas", started=False)
    with caplog.at_level(logging.INFO):
        emu.add_bot_to_group(7200, FRIENDS, "Kaimynai")
        await emu.wait_until_idle()
    refused = [r for r in emu.requests_log if r["method"] == "sendMessage" and r["status"] == 403]
    assert [r["description"] for r in refused] == ["Forbidden: bot can't initiate conversation with a user"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "CROWDCHECK_REVIEW_CHAT_ID=-1002000000555" in logged
    assert "7200" not in logged  # the operator's log names the group, not the person
    assert emu.bot_status(FRIENDS) == "member" and emu.bot_messages(FRIENDS) == []
    # the bot carries on: once Tomas writes to it, it answers him
    assert "Your user id: 7200" in shown(await tipline.ask(7200, "/whoami"))


async def test_whoami_tells_anyone_their_id_in_their_language(tipline: Tipline) -> None:
    mine = shown(await tipline.ask(7300, "/whoami", language_code="lt"))
    assert "7300" in mine and "Jūsų naudotojo ID: 7300" in mine
    assert "group" not in mine
    tipline.emu.send_text(ADMIN, "/whoami", chat_id=REVIEW_CHAT)
    here = shown(await tipline.emu.wait_for_bot_message(REVIEW_CHAT))
    assert f"Your user id: {ADMIN}" in here and f"This group's id: {REVIEW_CHAT}" in here
    assert "This is the moderators' group." in here and "CROWDCHECK_REVIEW_CHAT_ID" not in here
