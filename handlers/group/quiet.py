"""Quiet group mode: in a family or neighbourhood group the bot replies only to a message that
matches a published fact-check near-exactly, once a day per claim (factdb/groups.py has the
rules and why). Everything else it reads there, it drops."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.ext import ContextTypes

from factdb import groups
from factdb.models import utcnow
from handlers.common import citizen_translator, reply, send, services
from handlers.services import Services
from handlers.views import group_texts
from handlers.views.i18n import Translator

log = logging.getLogger(__name__)
GROUPS = ("group", "supergroup")
_ADMINS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


def is_quiet_group(svc: Services, chat_id: int, chat_type: str) -> bool:
    return chat_type in GROUPS and chat_id != svc.config.review_chat_id


async def on_group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or not is_quiet_group(svc, chat.id, chat.type):
        return
    if message.from_user is not None and message.from_user.is_bot:
        return  # other bots, and our own messages relayed: never a conversation between bots
    text = message.text or message.caption or ""
    today = utcnow().date()
    found = await svc.db.run(lambda s: groups.reply_for(s, svc.index, chat.id, text, today), commit=True)
    if found is None:
        return
    t = svc.t(found.lang)
    link = group_texts.deep_link(context.bot.username, found.claim.id)  # type: ignore[arg-type]
    body = group_texts.group_reply(t, found.chosen.clarification, link, translated=found.chosen.translated)
    await send(context, chat.id, body, reply_to=message)
    log.info("answered a known claim in a group")


async def introduce(context: ContextTypes.DEFAULT_TYPE, svc: Services, chat_id: int, t: Translator) -> None:
    """Once, when first added to a group (factdb.groups.join said it is new there)."""
    await send(context, chat_id, group_texts.group_intro(t))


async def _group_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return False
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in _ADMINS


async def groupmode_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/groupmode [on|off]: group admins turn the quiet replies on or off; anyone may ask."""
    await _settings_command(update, context, "mode")


async def grouplanguage_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/grouplanguage <code>|auto: the language of the bot's replies in this group."""
    await _settings_command(update, context, "language")


async def _settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE, what: str) -> None:
    svc = services(context)
    chat = update.effective_chat
    if chat is None or not is_quiet_group(svc, chat.id, chat.type):
        return
    t = await citizen_translator(svc, update)
    arg = (context.args or [""])[0].strip().lower()
    if arg:
        if what == "mode" and arg not in ("on", "off"):
            await reply(update, context, t._("Use /groupmode on or /groupmode off."))
            return
        lang = None if arg == "auto" else _locale(svc, arg)
        if what == "language" and arg != "auto" and lang is None:
            await reply(
                update,
                context,
                t._("I can reply in: {languages}. Use /grouplanguage auto to follow each message.").format(
                    languages=", ".join(svc.config.locales)
                ),
            )
            return
        if not await _group_admin(update, context):
            await reply(update, context, t._("Only the group's admins can change this."))
            return
        if what == "mode":
            await svc.db.run(lambda s: groups.set_enabled(s, chat.id, arg == "on"), commit=True)
        else:
            await svc.db.run(lambda s: groups.set_language(s, chat.id, lang), commit=True)
    group = await svc.db.run(lambda s: groups.settings(s, chat.id))
    enabled, lang = (group.enabled, group.lang) if group else (True, None)
    await reply(update, context, group_texts.group_mode_state(svc.t(lang) if lang else t, enabled, lang))


def _locale(svc: Services, code: str) -> str | None:
    for locale in svc.config.locales:
        if locale.lower() == code or locale.split("-")[0].lower() == code:
            return locale
    return None
