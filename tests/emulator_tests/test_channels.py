"""Channels: the bot as a channel administrator, posting and editing there within Telegram's
per-channel rate, and the my_chat_member updates for channel and group adds."""

from __future__ import annotations

import datetime as dtm

import pytest
from telegram import Bot, ChatMemberAdministrator, Update
from telegram.error import BadRequest, Forbidden, RetryAfter

from tests.emulator import BotApiEmulator
from tests.emulator_tests.helpers import USER

CHANNEL, OTHER = -1001234, -1005678


async def test_the_bot_added_to_a_channel_as_admin_posts_and_edits_there(
    emu: BotApiEmulator, bot: Bot
) -> None:
    update = Update.de_json(emu.add_bot_to_channel(USER, CHANNEL, "Clarifications", username="checks"), bot)
    assert update is not None and update.my_chat_member is not None
    change = update.my_chat_member
    assert change.chat.type == "channel" and change.chat.title == "Clarifications"
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("left", "administrator")
    assert isinstance(change.new_chat_member, ChatMemberAdministrator)
    assert change.new_chat_member.can_post_messages and change.from_user.id == USER

    post = await bot.send_message(CHANNEL, "<b>False</b>: banks are not closing", parse_mode="HTML")
    assert post.sender_chat is not None and post.sender_chat.id == CHANNEL and post.from_user is None
    edited = await bot.edit_message_text(
        "<s>False</s> Retracted", CHANNEL, post.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, type(post)) and edited.text == "False Retracted"
    assert [m.text for m in emu.chat(CHANNEL)] == ["False Retracted"]
    by_username = await bot.send_message("@checks", "by username")
    assert by_username.chat.id == CHANNEL
    me = await bot.get_chat_member(CHANNEL, emu.bot_user["id"])
    assert me.status == "administrator"


async def test_without_admin_rights_the_bot_cannot_post(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_bot_to_channel(USER, CHANNEL, can_post_messages=False)
    with pytest.raises(BadRequest, match="Need administrator rights in the channel chat"):
        await bot.send_message(CHANNEL, "hello")
    emu.set_bot_status(CHANNEL, "kicked", by=USER)
    with pytest.raises(Forbidden, match="bot was kicked from the channel chat"):
        await bot.send_message(CHANNEL, "hello")
    with pytest.raises(ValueError, match="only be an administrator"):
        emu.set_bot_status(CHANNEL, "member", by=USER)
    emu.create_channel(OTHER, "Not ours", bot_is_admin=False)
    emu.channel_post(OTHER, "someone else's post")
    assert not any("channel_post" in u for u in emu.pending_updates)  # the bot is not there
    with pytest.raises(Forbidden, match="bot is not a member of the channel chat"):
        await bot.send_message(OTHER, "hello")


async def test_a_channel_takes_about_twenty_posts_a_minute(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_bot_to_channel(USER, CHANNEL)
    emu.add_bot_to_channel(USER, OTHER)
    # Per-chat and overall limits out of the way: this is the per-channel one.
    emu.enforce_limits(per_chat_per_second=100, overall_per_second=100, channel_per_minute=20)
    for n in range(20):
        await bot.send_message(CHANNEL, f"post {n}")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(CHANNEL, "one too many")
    retry = info.value.retry_after
    seconds = retry.total_seconds() if isinstance(retry, dtm.timedelta) else retry
    assert 55 <= seconds <= 60
    await bot.send_message(OTHER, "another channel is counted apart")
    edited = await bot.edit_message_text("edits are not posts", CHANNEL, 1)
    assert edited.text == "edits are not posts"  # type: ignore[union-attr]


async def test_groups_added_by_a_member_send_my_chat_member(emu: BotApiEmulator, bot: Bot) -> None:
    update = Update.de_json(emu.add_bot_to_group(USER, -100777, "Family", type="group"), bot)
    assert update is not None and update.my_chat_member is not None
    assert update.my_chat_member.chat.type == "group"
    assert update.my_chat_member.new_chat_member.status == "member"
    removed = Update.de_json(emu.set_bot_status(-100777, "left", by=USER), bot)
    assert removed is not None and removed.my_chat_member is not None
    assert removed.my_chat_member.new_chat_member.status == "left"
