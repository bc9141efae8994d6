"""One flood and block check for everything a citizen sends, before any handler runs."""

from __future__ import annotations

import time

from sqlmodel import Session
from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from factdb import floods, intake, reviewers
from handlers.citizen.submit import render
from handlers.common import send, services

# A citizen's privacy right works whatever else holds them back.
UNGATED_COMMANDS = frozenset({"forget"})


def _command(text: str | None) -> str | None:
    """The command a text starts with ("forget" for "/forget@our_bot"), None for other text."""
    if not text or not text.startswith("/") or len(text) < 2:
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every handler: one flood and block check for all a citizen sends.

    Messages, commands and button presses from citizens count against the same limits, and a
    citizen blocked or quarantined by reviewers is not heard, whatever they press (except
    /forget). Reviewers and the moderators' group are not citizens: their work is never slowed.
    Raising ApplicationHandlerStop ends the update here; returning lets the handlers run.
    """
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    query, message = update.callback_query, update.message
    if user is None or chat is None or user.is_bot or (query is None and message is None):
        return  # membership changes, channel posts, edits: not a citizen talking to us
    if chat.id == svc.config.review_chat_id:
        return  # the moderators' group: each handler checks who may do what
    if chat.type != "private":
        if query is not None:
            raise ApplicationHandlerStop  # citizens' buttons live in their own chat only: forged
        return  # a group message: the group handlers deal with it (and stay silent)
    if query is not None and chat.id != user.id:
        raise ApplicationHandlerStop  # a button from someone else's private chat: forged
    if message is not None and _command(message.text) in UNGATED_COMMANDS:
        return
    started = time.perf_counter()

    def work(session: Session) -> tuple[intake.IntakeResult, tuple[str, object] | None] | None:
        if reviewers.is_reviewer(session, user.id, svc.config.admin_ids):
            return None
        held = floods.admit(session, user.id, chat.id, user.language_code, svc.limits)
        return (held, render(svc, session, held, "")) if held else None

    verdict = await svc.db.run(work, commit=True)
    if verdict is None:
        return
    held, rendered = verdict
    if message is not None and _command(message.text) is None and svc.metrics is not None:
        svc.metrics.intake(held.outcome, time.perf_counter() - started)
    if rendered is not None:  # said once, at the first update over a limit
        text = rendered[0]
        if query is not None:
            await query.answer(text, show_alert=True)
        else:
            await send(context, chat.id, text)
    raise ApplicationHandlerStop
