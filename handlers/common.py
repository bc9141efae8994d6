"""Small helpers every handler uses: who is asking, in which language, and how to answer."""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ContextTypes

from factdb import citizens, reviewers
from handlers.services import Services, services
from handlers.views.i18n import Translator
from handlers.views.keyboards import Buttons, markup

log = logging.getLogger(__name__)


async def citizen_translator(svc: Services, update: Update) -> Translator:
    """The language the citizen chose with /language, else their Telegram app's."""
    user = update.effective_user
    if user is None:
        return svc.t(None)
    chosen = await svc.db.run(lambda s: citizens.chosen_language(s, user.id))
    return svc.t(chosen or user.language_code)


def reviewer_translator(svc: Services, update: Update) -> Translator:
    user = update.effective_user
    return svc.t(user.language_code if user else None)


async def send(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    text: str,
    buttons: Buttons | None = None,
    *,
    reply_to: Message | None = None,
) -> Message | None:
    """Send one reply; wait out a 429 twice at most; a blocked chat is not an error."""
    for _ in range(3):
        try:
            if reply_to is not None:
                return await reply_to.reply_text(
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup(buttons),
                    do_quote=False,
                    disable_web_page_preview=True,
                )
            return await context.bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup(buttons),
                disable_web_page_preview=True,
            )
        except RetryAfter as exc:
            delay = (
                exc.retry_after
                if isinstance(exc.retry_after, int | float)
                else exc.retry_after.total_seconds()
            )
            await asyncio.sleep(min(float(delay), 30.0))
        except Forbidden:
            log.info("chat blocked the bot; reply dropped")
            return None
        except (TimedOut, NetworkError):
            # The citizen's message is already recorded; a brief hiccup should not turn the
            # answer into an apology.
            await asyncio.sleep(0.5)
    return None


async def reply(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, buttons: Buttons | None = None
) -> Message | None:
    chat = update.effective_chat
    if chat is None:
        return None
    return await send(context, chat.id, text, buttons)


async def tell(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, *, pop_up: bool = True) -> None:
    """Over the button pressed (a pop-up, or a brief note with `pop_up=False`), or as a reply
    to a command."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=pop_up)
    else:
        await reply(update, context, text)


async def alert(update: Update, text: str) -> None:
    """A small pop-up over the button the person pressed."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)


async def is_reviewer(svc: Services, user_id: int) -> bool:
    return await svc.db.run(lambda s: reviewers.is_reviewer(s, user_id, svc.config.admin_ids))


async def is_admin(svc: Services, user_id: int) -> bool:
    return await svc.db.run(lambda s: reviewers.is_admin(s, user_id, svc.config.admin_ids))


__all__ = [
    "alert",
    "citizen_translator",
    "is_admin",
    "is_reviewer",
    "reply",
    "send",
    "services",
    "tell",
]


def actor_id(update: Update) -> int | None:
    """Who did it, for the audit log: the Telegram user behind the update, if any."""
    return update.effective_user.id if update.effective_user else None


async def command_ids(
    update: Update, context: ContextTypes.DEFAULT_TYPE, usage: str, count: int = 1
) -> list[int] | None:
    """The first `count` arguments of a command as numbers (`12` or `#12`); None, after replying
    `usage`, when fewer are given or one is not a number."""
    args = (context.args or [])[:count]
    if len(args) == count and all(a.lstrip("#").isdecimal() for a in args):
        return [int(a.lstrip("#")) for a in args]
    await reply(update, context, usage)
    return None
