"""What people do (media, forwards, groups, channels, the bot's standing) and thread mode."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from telegram import Bot, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden

from tests.emulator import BotApiEmulator
from tests.emulator_tests.helpers import TOKEN, USER


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


async def test_privacy_mode_limits_what_the_bot_sees_in_groups(emu: BotApiEmulator, bot: Bot) -> None:
    group = -100888
    emu.add_bot_to_group(USER, group, "Neighbours")
    assert (await bot.get_me()).can_read_all_group_messages
    emu.set_privacy_mode(True)
    assert not (await bot.get_me()).can_read_all_group_messages
    before = len(emu.pending_updates)
    emu.send_text(USER, "the water is poisoned tonight", chat_id=group)  # unseen
    emu.send_text(USER, "/check@crowdcheck_test_bot water", chat_id=group)
    emu.send_text(USER, "/start@other_bot", chat_id=group)  # unseen: for another bot
    ours = await bot.send_message(group, "Hello")
    emu.send_text(USER, "thanks", chat_id=group, reply_to_message_id=ours.message_id)
    seen = [u["message"].get("text") for u in emu.pending_updates[before:]]
    assert seen == ["/check@crowdcheck_test_bot water", "thanks"]
    assert next(m.text for m in emu.chat(group)) == "the water is poisoned tonight"  # still in the chat
    emu.set_bot_status(group, "administrator", by=USER)  # admins see everything
    emu.send_text(USER, "now seen", chat_id=group)
    assert emu.pending_updates[-1]["message"]["text"] == "now seen"
