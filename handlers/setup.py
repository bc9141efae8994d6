"""Setting the tipline up from Telegram: the bot tells people the ids the configuration needs.

Nobody should have to dig a chat id out of an API call. Whoever adds the bot to a group gets
that group's id in a private message, with the one setting that makes it the moderators'
group; `/whoami` tells anyone their own user id (for CROWDCHECK_ADMIN_IDS) and, in a group,
the group's id.

Any other group is a quiet group (handlers/group/quiet.py): the bot introduces itself once and
then replies only to messages that match a published fact-check near-exactly; nothing said
there is stored. The setup hint (the id and the setting) goes privately to whoever added the
bot only when that person is one of the tipline's admins, or while no moderators' group is
configured (the operator setting up): a family member adding the bot to their group should not
get configuration lines.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import Forbidden
from telegram.ext import ContextTypes

from factdb import citizens, groups
from handlers.common import citizen_translator, is_admin, reply, services
from handlers.group import quiet
from handlers.services import Services
from handlers.views import texts
from handlers.views.i18n import Translator

log = logging.getLogger(__name__)
REVIEW_CHAT_SETTING = "CROWDCHECK_REVIEW_CHAT_ID"
_IN_CHAT = ("member", "administrator", "restricted")
_GROUPS = ("group", "supergroup")


def setting_line(chat_id: int) -> str:
    """The environment line an operator pastes (not translated: it is configuration)."""
    return f"{REVIEW_CHAT_SETTING}={chat_id}"


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Added to a group: if it is not the moderators' group, tell the person who added us its id."""
    svc = services(context)
    change = update.my_chat_member
    if change is None or change.chat.type not in _GROUPS:
        return
    chat = change.chat
    was_in = change.old_chat_member.status in _IN_CHAT
    is_in = change.new_chat_member.status in _IN_CHAT
    if was_in and not is_in and chat.id != svc.config.review_chat_id:
        await svc.db.run(lambda s: groups.leave(s, chat.id), commit=True)  # removed: forget the group
        return
    if was_in or not is_in:
        return
    if chat.id == svc.config.review_chat_id:
        log.info("added to the moderators' group %s", chat.id)
        return
    t = await citizen_translator(svc, update)
    # While no moderators' group is configured, the operator is setting up: the group they add
    # the bot to is likely to become it, so no introduction there, only their private hint.
    setting_up = svc.config.review_chat_id is None
    if not setting_up and await svc.db.run(lambda s: groups.join(s, chat.id), commit=True):
        await quiet.introduce(context, svc, chat.id, t)
    adder = change.from_user
    if adder is None or adder.is_bot:
        log.info("added to group %s; to make it the moderators' group set %s", chat.id, setting_line(chat.id))
        return
    if not setting_up and not await is_admin(svc, adder.id):
        log.info("added to group %s as a quiet group", chat.id)
        return
    told = await _tell(
        context,
        adder.id,
        _added_text(t, chat.title or "", chat.id),
        f"added to group {chat.id}; to make it the moderators' group set {setting_line(chat.id)}",
    )
    if told:
        log.info("added to group %s; told whoever added us its id", chat.id)


def _added_text(t: Translator, title: str, chat_id: int) -> str:
    return "\n\n".join(
        [
            t._("You added me to the group “{title}”. Its id is {chat_id}.").format(
                title=texts.isolate(title), chat_id=f"<code>{chat_id}</code>"
            ),
            t._(
                "To make it the moderators' group, set this and restart the bot, then run {command} to check the setup:"
            ).format(command="<code>crowdcheck doctor</code>"),
            f"<code>{setting_line(chat_id)}</code>",
            t._(
                "Until then it is a quiet group: I reply there only to messages that match a published fact-check."
            ),
        ]
    )


async def on_group_upgraded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A basic group the bot is in became a supergroup, which gives it a new id (Telegram does
    this by itself, e.g. when someone is made an admin there). The old id stops working: say so
    to the person who did it, and to the admins when it was the moderators' group."""
    svc = services(context)
    message = update.effective_message
    if message is None or message.migrate_from_chat_id is None:
        return  # the other half of the pair, in the old group: the new one says it all
    old, new, title = message.migrate_from_chat_id, message.chat.id, message.chat.title or ""
    if new == svc.config.review_chat_id:
        return  # already configured with the new id
    was_ours = old == svc.config.review_chat_id
    if was_ours:
        log.warning(
            "the moderators' group %s became a supergroup with the new id %s: cards cannot reach it "
            "until you set %s and restart",
            old,
            new,
            setting_line(new),
        )
    else:
        log.info("group %s became a supergroup with the new id %s", old, new)
    people = [message.from_user.id] if message.from_user and not message.from_user.is_bot else []
    if was_ours:
        people += sorted(svc.config.admin_ids - set(people))
    upgrader = message.from_user.id if message.from_user else None
    for user_id in people:
        t = (
            await citizen_translator(svc, update)
            if user_id == upgrader
            else await _translator_for(svc, user_id)
        )
        text = "\n\n".join(
            [
                (
                    t._(
                        "The moderators' group “{title}” became a supergroup, and Telegram gave it a new id: {chat_id}."
                    )
                    if was_ours
                    else t._(
                        "The group “{title}” became a supergroup, and Telegram gave it a new id: {chat_id}."
                    )
                ).format(title=texts.isolate(title), chat_id=f"<code>{new}</code>"),
                t._("Cards cannot reach it until you set this and restart the bot:")
                if was_ours
                else t._("To make it the moderators' group, use the new id:"),
                f"<code>{setting_line(new)}</code>",
            ]
        )
        await _tell(context, user_id, text, f"group {old} became {new}")


async def _translator_for(svc: Services, user_id: int) -> Translator:
    """An admin's language when they are not the one in this update: their /language choice if
    they ever made one as a citizen, else English."""
    return svc.t(await svc.db.run(lambda s: citizens.chosen_language(s, user_id)))


async def _tell(context: ContextTypes.DEFAULT_TYPE, user_id: int, text: str, about: str) -> bool:
    """A private message about setting up; Telegram refusing it (403) is logged, not raised."""
    try:
        await context.bot.send_message(user_id, text, parse_mode=ParseMode.HTML)
    except Forbidden as exc:
        # They never opened a private chat with the bot, or blocked it. No user id in the log:
        # logs are for operators, and people are not theirs to track.
        log.warning("%s: could not tell someone in private (%s)", about, exc.message)
        return False
    return True


async def whoami(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anyone's own user id; in a group, the group's id too."""
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    t = await citizen_translator(svc, update)
    lines = [t._("Your user id: {user_id}").format(user_id=f"<code>{user.id}</code>")]
    if chat.type in _GROUPS:
        lines.append(t._("This group's id: {chat_id}").format(chat_id=f"<code>{chat.id}</code>"))
        if chat.id == svc.config.review_chat_id:
            lines.append(t._("This is the moderators' group."))
        else:
            lines.append(
                t._("To make it the moderators' group: {setting}").format(
                    setting=f"<code>{setting_line(chat.id)}</code>"
                )
            )
    await reply(update, context, "\n".join(lines))
