"""Setting the tipline up from Telegram: the bot tells people the ids the configuration needs.

Nobody should have to dig a chat id out of an API call. Whoever adds the bot to a group gets
that group's id in a private message, with the one setting that makes it the moderators'
group; `/whoami` tells anyone their own user id (for CROWDCHECK_ADMIN_IDS) and, in a group,
the group's id.

A group that is not the moderators' group gets nothing from the bot: no replies, and what
people say there is not stored (handlers/router.py only routes private chats and the
moderators' group). The bot stays in it rather than leaving, so that the person setting up
does not have to add it twice.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import Forbidden
from telegram.ext import ContextTypes

from bot import texts
from bot.i18n import Translator
from handlers.common import citizen_translator, reply, services

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
    joined = change.old_chat_member.status not in _IN_CHAT and change.new_chat_member.status in _IN_CHAT
    if not joined:
        return
    chat = change.chat
    if chat.id == svc.config.review_chat_id:
        log.info("added to the moderators' group %s", chat.id)
        return
    adder = change.from_user
    if adder is None or adder.is_bot:
        log.info("added to group %s; to make it the moderators' group set %s", chat.id, setting_line(chat.id))
        return
    t = citizen_translator(svc, update)
    try:
        await context.bot.send_message(
            adder.id, _added_text(t, chat.title or "", chat.id), parse_mode=ParseMode.HTML
        )
    except Forbidden as exc:
        # They never opened a private chat with the bot (or blocked it): Telegram refuses.
        # The operator still finds the id here, in the log.
        log.warning(
            "added to group %s by someone who could not be told its id (%s); to make it the "
            "moderators' group set %s",
            chat.id,
            exc.message,
            setting_line(chat.id),
        )
        return
    # No user id in the log: logs are for operators, and people are not theirs to track.
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
            t._("Until then I stay silent in that group."),
        ]
    )


async def whoami(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anyone's own user id; in a group, the group's id too."""
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    t = citizen_translator(svc, update)
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
