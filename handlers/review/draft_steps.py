"""Writing a clarification, one handler per step. The step lives in the database (`Draft.step`),
so a restart or a second worker picks the conversation up where the reviewer left it."""

from __future__ import annotations

from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes

from factdb import clarifications
from factdb import review as rv
from factdb.models import Draft
from factdb.privacy import mask_personal
from handlers.common import reply, send, services
from handlers.review.guard import explain, require_reviewer
from handlers.services import Services
from handlers.views import callbacks as cb
from handlers.views import review_texts, texts
from handlers.views.i18n import Translator


async def _show(
    update: Update, context: ContextTypes.DEFAULT_TYPE, svc: Services, t: Translator, draft_id: int
) -> None:
    """Send the prompt for the draft's current step (the preview at the end) to the reviewer's
    private chat, so the moderators' group stays readable."""
    chat_id = update.effective_user.id if update.effective_user else 0
    with svc.db.session() as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        if draft.step == "preview":
            citizen_t = svc.t(draft.lang)
            clar = review_texts.draft_as_clarification(draft)
            body = texts.clarification(citizen_t, clar, clarifications.sources_of(clar), translated=True)
            await send(context, chat_id, t._("Preview — exactly what citizens will see:"))
            await send(context, chat_id, body, review_texts.preview_rows(t, draft))
            return
        text, rows = review_texts.draft_prompt(t, session, draft, svc.config.locales)
    await send(context, chat_id, text, rows)


async def _step(update: Update, context: ContextTypes.DEFAULT_TYPE, draft_id: int | None, fn) -> None:
    """Run one step's domain call for the presser's own active draft, then show the next step."""
    t = await require_reviewer(update, context)
    if t is None:
        return
    svc = services(context)
    user = update.effective_user
    assert user is not None
    query = update.callback_query

    def work(session: Session) -> int | None:
        draft = rv.active_draft(session, user.id)
        if draft is None or (draft_id is not None and draft.id != draft_id):
            raise rv.ReviewError("no_draft")
        fn(session, draft)
        return draft.id

    try:
        current = svc.db.transaction(work)
    except rv.ReviewError as err:
        if query:
            await query.answer(explain(t, err), show_alert=True)
        else:
            await reply(update, context, explain(t, err))
        return
    if query:
        await query.answer()
        await query.edit_message_reply_markup(None)
    await _show(update, context, svc, t, current)  # type: ignore[arg-type]


async def on_verdict(update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback) -> None:
    await _step(update, context, action.int(0), lambda s, d: rv.set_verdict(s, d, action.word(1)))


async def on_lang(update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback) -> None:
    tag = action.word(1).replace("_", "-")
    await _step(update, context, action.int(0), lambda s, d: rv.set_lang(s, d, tag))


async def on_edit(update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback) -> None:
    await _step(update, context, action.int(0), lambda s, d: rv.back_to(s, d, "verdict"))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> None:
    """A reviewer's text while a draft waits for the summary or the sources."""
    text = (update.effective_message.text if update.effective_message else "") or ""
    if draft.step == "summary":
        await _step(update, context, draft.id, lambda s, d: rv.set_summary(s, d, text))
    elif draft.step == "sources":
        await _step(update, context, draft.id, lambda s, d: rv.set_sources(s, d, text))
    elif draft.step == "wording":
        await on_wording(update, context, draft, text)
    else:
        svc = services(context)
        t = await require_reviewer(update, context)
        if t is not None:
            await reply(update, context, t._("Please use the buttons above, or /cancel to stop this draft."))
            await _show(update, context, svc, t, draft.id)  # type: ignore[arg-type]


async def on_cancel(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback | None = None
) -> None:
    t = await require_reviewer(update, context)
    if t is None:
        return
    svc = services(context)
    user = update.effective_user
    assert user is not None

    def work(session: Session) -> bool:
        draft = rv.active_draft(session, user.id)
        if draft is None or (action is not None and draft.id != action.int(0)):
            return False
        rv.cancel(session, draft, user.id)
        return True

    cancelled = svc.db.transaction(work)
    svc.wake_outbox()
    if update.callback_query:
        await update.callback_query.answer()
        if cancelled:
            await update.callback_query.edit_message_reply_markup(None)
    await reply(
        update,
        context,
        t._("Cancelled. Nothing was published.") if cancelled else t._("There's nothing to cancel."),
    )


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await on_cancel(update, context, None)


def reworded(t: Translator, wording: str | None) -> str:
    if wording is None:
        return t._("The public reads the citizens' words again (masked).")
    return t._("Reworded. The public now reads: {text}").format(text=texts.isolate(mask_personal(wording)))


async def on_wording(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft, text: str) -> None:
    """The reviewer's next message after /reword ID."""
    t = await require_reviewer(update, context)
    if t is None:
        return
    svc = services(context)
    try:
        wording = svc.db.transaction(lambda s: rv.set_wording(s, s.get(Draft, draft.id), text))
    except rv.ReviewError as err:
        await reply(update, context, explain(t, err))
        return
    svc.wake_outbox()
    await reply(update, context, reworded(t, wording))
