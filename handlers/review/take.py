"""[Take] on a card or in the queue, or /take ID: start a draft in the reviewer's private chat."""

from __future__ import annotations

from sqlmodel import Session
from telegram import Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from factdb import review as rv
from factdb import reviewers
from factdb.models import Draft
from handlers.common import command_ids, reply, services, tell
from handlers.review.guard import admin_only, explain, reviewer_only
from handlers.views import callbacks as cb
from handlers.views import review_texts, texts
from handlers.views.i18n import Translator
from handlers.views.keyboards import markup


async def _take(update: Update, context: ContextTypes.DEFAULT_TYPE, t: Translator, claim_id: int) -> None:
    svc = services(context)
    user = update.effective_user
    assert user is not None
    try:

        def work(session: Session) -> tuple[int, str, review_texts.Rows]:
            name = user.full_name or reviewers.display_name(session, user.id)
            reviewers.remember_user(session, user.id, user.username, user.full_name)
            draft = rv.take(session, claim_id, user.id, name, lease=svc.config.claim_lease)
            text, rows = review_texts.draft_prompt(t, session, draft, svc.config.locales)
            return draft.id, text, rows  # type: ignore[return-value]

        draft_id, text, rows = await svc.db.run(work, commit=True)
    except rv.ReviewError as err:
        await tell(update, context, explain(t, err))
        return
    svc.wake_outbox()
    try:
        await context.bot.send_message(user.id, text, parse_mode="HTML", reply_markup=markup(rows))
    except (Forbidden, BadRequest):
        # The reviewer never opened a private chat with the bot: give the claim back.
        await svc.db.run(lambda s: _undo(s, draft_id, user.id), commit=True)
        await tell(
            update, context, t._("Open a private chat with me and press Start, then press Take again.")
        )
        return
    if update.callback_query:
        await update.callback_query.answer(t._("Taken. I've sent you the next steps in our private chat."))


def _undo(session: Session, draft_id: int, reviewer_id: int) -> None:
    draft = session.get(Draft, draft_id)
    if draft is not None:
        rv.cancel(session, draft, reviewer_id)


@reviewer_only
async def on_take(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback, *, t: Translator
) -> None:
    await _take(update, context, t, action.int(0))


@reviewer_only
async def take_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    ids = await command_ids(update, context, t._("Usage: /take ID"))
    if ids is None:
        return
    await _take(update, context, t, ids[0])


@admin_only
async def release_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    """/release ID: an admin frees a claim whose holder is away, so someone else can take it."""
    ids = await command_ids(update, context, t._("Usage: /release ID"))
    if ids is None:
        return
    claim_id = ids[0]
    svc = services(context)
    user = update.effective_user
    assert user is not None
    try:
        holder = await svc.db.run(lambda s: rv.release(s, claim_id, user.id), commit=True)
    except rv.ReviewError as err:
        await reply(update, context, explain(t, err))
        return
    svc.wake_outbox()
    await reply(
        update,
        context,
        t._("Released #{id}: {name} no longer holds it, anyone may take it.").format(
            id=claim_id, name=texts.isolate(holder)
        ),
    )
